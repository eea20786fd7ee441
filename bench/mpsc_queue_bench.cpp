// SPDX-License-Identifier: MIT
// MpscQueue / MpmcQueue micro-benchmarks (results and method: docs/mpmc-results.md).
//   BM_Mpsc<Wait>/P        P producers x 1 consumer, capacity 1024, blocking push()/pop(), Overflow::Block
//   BM_Mpmc<Wait>/P/C      P x C (1 x 1: the same hand-off as BM_Mpsc/1, for the single-consumer path)
//   BM_MpscBatch/P         push_batch(32) / pop_batch(32)
//   BM_Full<Policy>        one thread pushing into a FULL ring: DropNewest (reject), DropOldest (evict)
//   BM_BlockFull/P         Block under a full buffer: capacity 8, the consumer is the bottleneck
//   BM_RoundTrip<Wait>     ping-pong between two threads over two capacity-1 queues (latency); the
//                          _Parked variant pauses 200 us between pings so a Blocking peer has parked
//   BM_CondvarRoundTrip    the same ping-pong over a mutex+condvar channel, for scale
//   BM_HotPath             single-thread try_push+try_pop pair, distribution of 16-op batch averages
//   BM_Counter             the metrics cost: ShardedCounter::add vs one shared atomic, 2 threads
//   BM_Reference*          atomic_queue and moodycamel in the MPSC topology, for comparison
// Every multi-thread case moves kItems items per iteration on threads pinned round-robin to the CPUs;
// items/s counts items delivered to consumers. On the 2-core VM 4 producers is oversubscribed on purpose.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <atomic_queue/atomic_queue.h>
#include <concurrentqueue/concurrentqueue.h>

#include "bench_threads.hpp"
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"

namespace {

using namespace ringkit;
using ringkit::bench::run_roles;

constexpr long kItems = 1 << 18;

template <class Q>
void transfer(benchmark::State& state, std::size_t producers, std::size_t consumers, std::size_t capacity,
              long items = kItems) {
  double seconds = 0;
  for (auto _ : state) {
    Q q(capacity);
    std::atomic<std::size_t> left{producers};
    const long per = items / static_cast<long>(producers);
    std::vector<std::function<void()>> roles;
    for (std::size_t p = 0; p < producers; ++p) {
      roles.emplace_back([&] {
        for (long i = 0; i < per; ++i) q.push(i);
        if (left.fetch_sub(1) == 1) q.close();
      });
    }
    for (std::size_t c = 0; c < consumers; ++c) {
      roles.emplace_back([&] {
        long v = 0, sum = 0;
        while (q.pop(v)) sum += v;
        benchmark::DoNotOptimize(sum);
      });
    }
    const double s = run_roles(roles);
    seconds += s;
    state.SetIterationTime(s);
  }
  state.SetItemsProcessed(state.iterations() * (items / static_cast<long>(producers)) * static_cast<long>(producers));
  state.counters["ns/item"] = benchmark::Counter(seconds * 1e9 / static_cast<double>(state.iterations() * items));
}

template <class W>
void BM_Mpsc(benchmark::State& state) {
  transfer<MpscQueue<long, W>>(state, static_cast<std::size_t>(state.range(0)), 1, 1024);
}
template <class W>
void BM_Mpmc(benchmark::State& state) {
  transfer<MpmcQueue<long, W>>(state, static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)), 1024);
}
#define RINGKIT_TOPOLOGIES(fn)                                                                               \
  BENCHMARK_TEMPLATE(BM_Mpsc, fn)->ArgName("producers")->Arg(1)->Arg(2)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3); \
  BENCHMARK_TEMPLATE(BM_Mpmc, fn)->ArgNames({"producers", "consumers"})->Args({1, 1})->Args({2, 2})->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
RINGKIT_TOPOLOGIES(Yielding)
RINGKIT_TOPOLOGIES(Sleeping)
RINGKIT_TOPOLOGIES(Blocking)
// BusySpin: 1 producer only fits the 2 cores; 2 and 4 producers are run with one iteration so the suite
// finishes (see docs/mpmc-results.md for what happens there).
BENCHMARK_TEMPLATE(BM_Mpsc, BusySpin)->ArgName("producers")->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_Mpmc, BusySpin)->ArgNames({"producers", "consumers"})->Args({1, 1})->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_Mpsc, BusySpin)->ArgName("producers")->Arg(2)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_TEMPLATE(BM_Mpmc, BusySpin)->ArgNames({"producers", "consumers"})->Args({2, 2})->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

// Batches: push_batch(32) / pop_batch(32); the whole run reserved with one CAS each way.
template <bool kMpmc>
void BM_Batch(benchmark::State& state) {
  const auto producers = static_cast<std::size_t>(state.range(0));
  const std::size_t consumers = kMpmc ? 2 : 1;
  using Q = std::conditional_t<kMpmc, MpmcQueue<long>, MpscQueue<long>>;
  double seconds = 0;
  for (auto _ : state) {
    Q q(1024);
    std::atomic<std::size_t> left{producers};
    const long per = kItems / static_cast<long>(producers);
    std::vector<std::function<void()>> roles;
    for (std::size_t p = 0; p < producers; ++p) {
      roles.emplace_back([&] {
        std::vector<long> batch(32, 1);
        for (long sent = 0; sent < per;) {
          const std::size_t want = static_cast<std::size_t>(std::min<long>(32, per - sent));
          const std::size_t n = q.push_batch(std::span<long>(batch.data(), want));
          sent += static_cast<long>(n);
          if (n == 0) std::this_thread::yield();
        }
        if (left.fetch_sub(1) == 1) q.close();
      });
    }
    for (std::size_t c = 0; c < consumers; ++c) {
      roles.emplace_back([&] {
        std::vector<long> out(32);
        long v = 0, sum = 0;
        for (;;) {
          const std::size_t n = q.pop_batch(out);
          sum += static_cast<long>(n);
          if (n == 0) {
            if (q.closed()) {
              while (q.pop(v)) ++sum;
              break;
            }
            std::this_thread::yield();
          }
        }
        benchmark::DoNotOptimize(sum);
      });
    }
    const double s = run_roles(roles);
    seconds += s;
    state.SetIterationTime(s);
  }
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["ns/item"] = benchmark::Counter(seconds * 1e9 / static_cast<double>(state.iterations() * kItems));
}
BENCHMARK_TEMPLATE(BM_Batch, false)->Name("BM_MpscBatch32")->ArgName("producers")->Arg(1)->Arg(2)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_Batch, true)->Name("BM_MpmcBatch32")->ArgName("producers")->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

// Policies with the ring already full: the cost of one push() that cannot simply go in.
void BM_FullDropNewest(benchmark::State& state) {
  MpscQueue<long> q(1024, Overflow::DropNewest);
  while (q.try_push(1)) {
  }
  long v = 0;
  for (auto _ : state) benchmark::DoNotOptimize(q.push(++v));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullDropNewest);

void BM_FullDropOldest(benchmark::State& state) {
  MpscQueue<long> q(1024, Overflow::DropOldest);
  while (q.try_push(1)) {
  }
  long v = 0;
  for (auto _ : state) benchmark::DoNotOptimize(q.push(++v));  // evict one + push one
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullDropOldest);

// Two producers both evicting while a consumer drains: the contended DropOldest path.
void BM_FullDropOldestContended(benchmark::State& state) {
  double seconds = 0;
  for (auto _ : state) {
    MpscQueue<long> q(64, Overflow::DropOldest);
    std::atomic<std::size_t> left{2};
    std::vector<std::function<void()>> roles;
    for (int p = 0; p < 2; ++p) {
      roles.emplace_back([&] {
        for (long i = 0; i < kItems / 2; ++i) q.push(i);
        if (left.fetch_sub(1) == 1) q.close();
      });
    }
    roles.emplace_back([&] {
      long v = 0, n = 0;
      while (q.pop(v)) ++n;
      benchmark::DoNotOptimize(n);
    });
    const double s = run_roles(roles);
    seconds += s;
    state.SetIterationTime(s);
    state.counters["evicted%"] = benchmark::Counter(100.0 * static_cast<double>(q.stats().evicted) / kItems);
  }
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["ns/push"] = benchmark::Counter(seconds * 1e9 / static_cast<double>(state.iterations() * kItems));
}
BENCHMARK(BM_FullDropOldestContended)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

// Block under a full buffer: capacity 8, producers always find it full, throughput = the consumer's.
template <class W>
void BM_BlockFull(benchmark::State& state) {
  transfer<MpscQueue<long, W>>(state, static_cast<std::size_t>(state.range(0)), 1, 8, kItems / 4);
}
BENCHMARK_TEMPLATE(BM_BlockFull, Yielding)->ArgName("producers")->Arg(1)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_BlockFull, Blocking)->ArgName("producers")->Arg(1)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

// Ping-pong round trip over two capacity-1 queues. gap_us > 0 pauses between pings so the echo thread
// has long since passed Blocking's 20 us spin and parked: the round trip then includes a futex wake.
template <class W>
void round_trip(benchmark::State& state, int gap_us) {
  MpscQueue<long, W> ping(1), pong(1);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    ringkit::bench::pin_to_cpu(1);
    long v = 0;
    while (ping.pop(v)) (void)pong.push(v);
  });
  ringkit::bench::pin_to_cpu(0);
  long v = 0;
  double total_ns = 0;
  for (auto _ : state) {
    if (gap_us > 0) {
      state.PauseTiming();
      std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
      state.ResumeTiming();
    }
    const auto t0 = std::chrono::steady_clock::now();
    (void)ping.push(v);
    (void)pong.pop(v);
    const auto t1 = std::chrono::steady_clock::now();
    total_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  ping.close();
  echo.join();
  stop = true;
  state.counters["rtt_ns"] = benchmark::Counter(total_ns / static_cast<double>(state.iterations()));
}
template <class W>
void BM_RoundTrip(benchmark::State& state) { round_trip<W>(state, 0); }
template <class W>
void BM_RoundTrip_Parked(benchmark::State& state) { round_trip<W>(state, 200); }
BENCHMARK_TEMPLATE(BM_RoundTrip, BusySpin)->UseManualTime()->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_RoundTrip, Yielding)->UseManualTime()->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_RoundTrip, Sleeping)->UseManualTime()->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_RoundTrip, Blocking)->UseManualTime()->MinTime(0.3);
BENCHMARK_TEMPLATE(BM_RoundTrip_Parked, Blocking)->UseManualTime()->Iterations(2000);
BENCHMARK_TEMPLATE(BM_RoundTrip_Parked, Sleeping)->UseManualTime()->Iterations(2000);
BENCHMARK_TEMPLATE(BM_RoundTrip_Parked, Yielding)->UseManualTime()->Iterations(2000);

// A mutex + condition-variable channel, the baseline the issue quotes (~55 us round trip).
class CondvarChannel {
 public:
  void push(long v) {
    {
      std::lock_guard l(m_);
      q_.push_back(v);
    }
    cv_.notify_one();
  }
  bool pop(long& v) {
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    v = q_.front();
    q_.pop_front();
    return true;
  }
  void close() {
    {
      std::lock_guard l(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<long> q_;
  bool closed_ = false;
};
void BM_CondvarRoundTrip(benchmark::State& state) {
  CondvarChannel ping, pong;
  std::thread echo([&] {
    ringkit::bench::pin_to_cpu(1);
    long v = 0;
    while (ping.pop(v)) pong.push(v);
  });
  ringkit::bench::pin_to_cpu(0);
  long v = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    ping.push(v);
    pong.pop(v);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  ping.close();
  echo.join();
}
BENCHMARK(BM_CondvarRoundTrip)->UseManualTime()->MinTime(0.3);

// Hot path latency: one thread, try_push then try_pop, timed in batches of 16 pairs with rdtsc; reports
// the distribution of per-pair averages (TSC ticks converted with a measured TSC rate).
void BM_HotPath(benchmark::State& state) {
  MpscQueue<long> q(1024);
  const auto c0 = __rdtsc();
  const auto w0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double ticks_per_ns = static_cast<double>(__rdtsc() - c0) /
                              std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - w0).count();
  std::vector<double> samples;
  samples.reserve(1 << 20);
  long v = 0;
  for (auto _ : state) {
    const auto t0 = __rdtsc();
    for (int i = 0; i < 16; ++i) {
      (void)q.try_push(i);
      (void)q.try_pop(v);
    }
    const auto t1 = __rdtsc();
    if (samples.size() < samples.capacity()) samples.push_back(static_cast<double>(t1 - t0) / ticks_per_ns / 16);
  }
  benchmark::DoNotOptimize(v);
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) { return samples[static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1))]; };
  state.counters["p50_ns"] = pct(0.5);
  state.counters["p99_ns"] = pct(0.99);
  state.counters["p999_ns"] = pct(0.999);
}
BENCHMARK(BM_HotPath);

// Metrics: two threads counting events into a ShardedCounter vs into one shared atomic.
template <bool kSharded>
void BM_Counter(benchmark::State& state) {
  static detail::ShardedCounter<> sharded;
  static std::atomic<std::uint64_t> shared{0};
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      if constexpr (kSharded) {
        sharded.add(1);
      } else {
        shared.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK_TEMPLATE(BM_Counter, true)->Name("BM_Counter/sharded")->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Counter, false)->Name("BM_Counter/shared_atomic")->Threads(2)->UseRealTime();

// References in the same 2P x 1C topology (spin/yield loops on try-calls, as their APIs have no waits).
// Each run checks that the consumer received every item once (by count and sum).
template <class MakeQueue, class Push, class Pop>
void reference_2p(benchmark::State& state, MakeQueue make_queue, Push push, Pop pop) {
  double seconds = 0;
  for (auto _ : state) {
    auto q = make_queue();
    long sum = 0;
    std::vector<std::function<void()>> roles;
    for (int p = 0; p < 2; ++p)
      roles.emplace_back([&] {
        for (long i = 0; i < kItems / 2; ++i)
          while (!push(*q, i)) std::this_thread::yield();
      });
    roles.emplace_back([&] {
      long v = 0;
      for (long n = 0; n < kItems;) {
        if (pop(*q, v)) {
          ++n;
          sum += v;
        } else {
          std::this_thread::yield();
        }
      }
    });
    const double s = run_roles(roles);
    if (sum != 2 * ((kItems / 2) * (kItems / 2 - 1) / 2)) state.SkipWithError("an item was lost or duplicated");
    seconds += s;
    state.SetIterationTime(s);
  }
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["ns/item"] = benchmark::Counter(seconds * 1e9 / static_cast<double>(state.iterations() * kItems));
}

void BM_ReferenceAtomicQueue2P(benchmark::State& state) {
  reference_2p(
      state, [] { return std::make_unique<atomic_queue::AtomicQueueB2<long>>(1024); },
      [](auto& q, long i) { return q.try_push(i); }, [](auto& q, long& v) { return q.try_pop(v); });
}
BENCHMARK(BM_ReferenceAtomicQueue2P)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

void BM_ReferenceMoodycamel2P(benchmark::State& state) {
  reference_2p(
      state, [] { return std::make_unique<moodycamel::ConcurrentQueue<long>>(1024); },
      [](auto& q, long i) { return q.enqueue(i); },  // unbounded: allocates blocks as needed
      [](auto& q, long& v) { return q.try_dequeue(v); });
}
BENCHMARK(BM_ReferenceMoodycamel2P)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

}  // namespace

BENCHMARK_MAIN();
