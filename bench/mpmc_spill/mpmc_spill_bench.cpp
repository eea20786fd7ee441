// SPDX-License-Identifier: MIT
// Overflow::SpillToDisk with the ring full (docs/mpmc-results.md):
//   BM_SpillPush      one thread, ring full: each push() appends one framed record (one pwrite)
//   BM_SpillDrain     one thread reads back what was spilled (64 KiB read-ahead, CRC check, decode)
//   BM_SpillSlowConsumer  2 producers x 1 consumer on a 64-slot ring, consumer pausing: end-to-end rate
// The directory is $RINGKIT_SPILL_DIR or the system temp directory.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "ringkit/spilling_queue.hpp"

namespace {

std::filesystem::path spill_dir() {
  const char* d = std::getenv("RINGKIT_SPILL_DIR");
  return d != nullptr ? std::filesystem::path(d) : std::filesystem::temp_directory_path();
}

void BM_SpillPush(benchmark::State& state) {
  ringkit::SpillingMpscQueue<long> q(1024, ringkit::SpillOptions{.directory = spill_dir()});
  while (q.try_push(1)) {
  }
  long v = 0;
  for (auto _ : state) benchmark::DoNotOptimize(q.push(++v));
  state.SetItemsProcessed(state.iterations());
  state.counters["spilled"] = static_cast<double>(q.stats().spilled);
}
BENCHMARK(BM_SpillPush);

void BM_SpillDrain(benchmark::State& state) {
  constexpr long kN = 1 << 16;
  long v = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto q = std::make_unique<ringkit::SpillingMpscQueue<long>>(64, ringkit::SpillOptions{.directory = spill_dir()});
    for (long i = 0; i < kN; ++i) (void)q->push(i);
    state.ResumeTiming();
    while (q->try_pop(v)) {
    }
    state.PauseTiming();
    q.reset();
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(v);
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_SpillDrain)->Unit(benchmark::kMillisecond);

void BM_SpillSlowConsumer(benchmark::State& state) {
  constexpr long kN = 1 << 18;
  for (auto _ : state) {
    ringkit::SpillingMpscQueue<long> q(64, ringkit::SpillOptions{.directory = spill_dir()});
    std::atomic<int> left{2};
    auto produce = [&] {
      for (long i = 0; i < kN / 2; ++i) (void)q.push(i);
      if (left.fetch_sub(1) == 1) q.close();
    };
    std::thread p1(produce), p2(produce);
    long v = 0, n = 0;
    while (q.pop(v)) {
      if ((++n & 1023) == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    p1.join();
    p2.join();
    state.counters["spilled%"] = 100.0 * static_cast<double>(q.stats().spilled) / kN;
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_SpillSlowConsumer)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
