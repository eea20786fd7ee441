// SPDX-License-Identifier: MIT
// SpscQueue micro-benchmarks: F-STREAM-001's list (uncontended and contended push+pop, batch push and
// pop per item, false-sharing isolation) plus a ping-pong round trip with median and p99.
// Producer pinned to CPU 0, consumer to CPU 1. Every run checks what it received. allocs_per_op comes
// from a counting global allocator.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "ringkit/alloc_counter.hpp"  // ringkit::alloc_counter: counts this program's heap allocations
#include "ringkit/cpu.hpp"
#include "ringkit/spsc_queue.hpp"

namespace {

using ringkit::AllocationCounter;
using ringkit::pin_this_thread;

constexpr std::size_t kCapacity = 65536;

// Repeats are reported as median, min and max (Google Benchmark adds mean/stddev/cv by itself).
void with_min_max(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
  b->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

void report_allocs(benchmark::State& state, const AllocationCounter& c) {
  state.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(c.allocations()), benchmark::Counter::kAvgIterations);
}

// One thread: push then pop. The cost of the operations themselves, no cache-line transfers.
template <class Wait>
void bench_push_pop_uncontended(benchmark::State& state) {
  pin_this_thread(0);
  ringkit::SpscQueue<std::uint64_t, Wait> q(kCapacity);
  std::uint64_t i = 0, sum = 0;
  AllocationCounter c;
  for (auto _ : state) {
    if (!q.try_push(i++)) state.SkipWithError("push failed");
    std::uint64_t x = 0;
    if (!q.try_pop(x)) state.SkipWithError("pop failed");
    sum += x;
    benchmark::DoNotOptimize(sum);
  }
  report_allocs(state, c);
  if (sum != i * (i - 1) / 2) state.SkipWithError("checksum mismatch");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bench_push_pop_uncontended<ringkit::BusySpin>)->Apply(with_min_max);
BENCHMARK(bench_push_pop_uncontended<ringkit::Blocking>)->Apply(with_min_max);

// Two pinned threads; the timed loop is the producer; the consumer checks the sequence.
template <class Wait>
void bench_push_pop_contended(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  ringkit::SpscQueue<std::uint64_t, Wait> q(capacity);
  std::atomic<bool> ok{true};
  std::thread consumer([&] {
    pin_this_thread(1);
    std::uint64_t expect = 0, x = 0;
    while (q.pop(x)) {
      if (x != expect++) ok = false;
    }
  });
  pin_this_thread(0);
  std::uint64_t i = 0;
  AllocationCounter c;
  for (auto _ : state) {
    while (!q.try_push(i)) ringkit::cpu_relax();
    ++i;
  }
  report_allocs(state, c);
  q.close();
  consumer.join();
  if (!ok) state.SkipWithError("consumer saw an out-of-order or missing item");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bench_push_pop_contended<ringkit::BusySpin>)->Arg(1024)->Arg(kCapacity)->UseRealTime()->Apply(with_min_max);
BENCHMARK(bench_push_pop_contended<ringkit::Yielding>)->Arg(kCapacity)->UseRealTime()->Apply(with_min_max);
BENCHMARK(bench_push_pop_contended<ringkit::Blocking>)->Arg(kCapacity)->UseRealTime()->Apply(with_min_max);

// push_batch of `batch` items per iteration, one thread. The ring is emptied by pop_n() (for a trivially
// destructible T: one index store), so the time is push_batch's own, without PauseTiming's overhead.
void bench_batch_push(benchmark::State& state) {
  pin_this_thread(0);
  const auto batch = static_cast<std::size_t>(state.range(0));
  ringkit::SpscQueue<std::uint64_t> q(kCapacity);
  std::vector<std::uint64_t> in(batch, 7);
  AllocationCounter c;
  for (auto _ : state) {
    if (q.push_batch(in) != batch) state.SkipWithError("push_batch short");
    q.pop_n(batch);
  }
  report_allocs(state, c);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(bench_batch_push)->Arg(64)->Arg(1024)->Apply(with_min_max);

// pop_batch of `batch` items per iteration, one thread. The ring is refilled by try_claim()+commit()
// without writing the slots (one index store), so the time is pop_batch's own.
void bench_batch_pop(benchmark::State& state) {
  pin_this_thread(0);
  const auto batch = static_cast<std::size_t>(state.range(0));
  ringkit::SpscQueue<std::uint64_t> q(kCapacity);
  std::vector<std::uint64_t> out(batch);
  AllocationCounter c;
  for (auto _ : state) {
    if (q.try_claim(batch).size() != batch) state.SkipWithError("claim short");
    q.commit(batch);
    if (q.pop_batch(out) != batch) state.SkipWithError("pop_batch short");
    benchmark::DoNotOptimize(out.data());
  }
  report_allocs(state, c);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(bench_batch_pop)->Arg(64)->Arg(1024)->Apply(with_min_max);

// Two pinned threads moving batches of 64 (push_batch / pop_batch): throughput per item.
void bench_batch_contended(benchmark::State& state) {
  constexpr std::size_t kBatch = 64;
  ringkit::SpscQueue<std::uint64_t, ringkit::BusySpin> q(kCapacity);
  std::atomic<bool> done{false}, ok{true};
  std::thread consumer([&] {
    pin_this_thread(1);
    std::array<std::uint64_t, kBatch> out{};
    std::uint64_t expect = 0;
    for (;;) {
      const std::size_t n = q.pop_batch(out);
      for (std::size_t k = 0; k < n; ++k) {
        if (out[k] != expect++) ok = false;
      }
      if (n == 0 && done.load(std::memory_order_acquire) && q.empty()) break;
    }
  });
  pin_this_thread(0);
  std::array<std::uint64_t, kBatch> in{};
  std::uint64_t next = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < kBatch; ++k) in[k] = next + k;
    std::size_t sent = 0;
    while (sent < kBatch) sent += q.push_batch(std::span(in).subspan(sent));
    next += kBatch;
  }
  done.store(true, std::memory_order_release);
  consumer.join();
  if (!ok) state.SkipWithError("consumer saw an out-of-order or missing item");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
}
BENCHMARK(bench_batch_contended)->UseRealTime()->Apply(with_min_max);

// Ping-pong over two queues: one round trip = two hand-offs. Reports median and p99 of single RTTs.
template <class Wait>
void bench_round_trip(benchmark::State& state) {
  ringkit::SpscQueue<std::uint64_t, Wait> ping(64), pong(64);
  std::thread echo([&] {
    pin_this_thread(1);
    std::uint64_t x;
    while (ping.pop(x)) (void)pong.push(x);
    pong.close();
  });
  pin_this_thread(0);
  std::vector<std::uint64_t> rtt;
  rtt.reserve(1 << 20);
  std::uint64_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)ping.push(i);
    std::uint64_t back = 0;
    if (!pong.pop(back) || back != i) state.SkipWithError("echo mismatch");
    const auto t1 = std::chrono::steady_clock::now();
    if (rtt.size() < rtt.capacity()) {
      rtt.push_back(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    ++i;
  }
  ping.close();
  echo.join();
  std::sort(rtt.begin(), rtt.end());
  if (!rtt.empty()) {
    state.counters["rtt_p50_ns"] = static_cast<double>(rtt[rtt.size() / 2]);
    state.counters["rtt_p99_ns"] = static_cast<double>(rtt[rtt.size() * 99 / 100]);
  }
}
BENCHMARK(bench_round_trip<ringkit::BusySpin>)->UseRealTime()->Apply(with_min_max);
BENCHMARK(bench_round_trip<ringkit::Yielding>)->UseRealTime()->Apply(with_min_max);
BENCHMARK(bench_round_trip<ringkit::Blocking>)->UseRealTime()->Apply(with_min_max);

// F-STREAM-001's bench_cache_line_isolation: two threads each increment their own counter, either on
// one cache line (false sharing) or kFalseSharingRange apart (the queue's layout). The ratio is what the
// padding buys on this machine.
template <std::size_t Distance>
void bench_cache_line_isolation(benchmark::State& state) {
  struct alignas(ringkit::detail::kFalseSharingRange) Pair {
    std::atomic<std::uint64_t> a{0};
    char gap[Distance - sizeof(std::atomic<std::uint64_t>)];
    std::atomic<std::uint64_t> b{0};
  };
  static Pair pair;
  std::atomic<bool> stop{false};
  std::thread other([&] {
    pin_this_thread(1);
    while (!stop.load(std::memory_order_relaxed)) pair.b.fetch_add(1, std::memory_order_relaxed);
  });
  pin_this_thread(0);
  for (auto _ : state) pair.a.fetch_add(1, std::memory_order_relaxed);
  stop = true;
  other.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bench_cache_line_isolation<16>)->Name("bench_cache_line_isolation/same_line")->UseRealTime()->Apply(with_min_max);
BENCHMARK(bench_cache_line_isolation<ringkit::detail::kFalseSharingRange>)
    ->Name("bench_cache_line_isolation/padded")
    ->UseRealTime()->Apply(with_min_max);

}  // namespace

BENCHMARK_MAIN();
