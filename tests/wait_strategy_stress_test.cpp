// SPDX-License-Identifier: MIT
// Lost-wake-up hunt (RELIABILITY row 7) for every wait strategy (BusySpin, Yielding, Sleeping, Blocking)
// on SpscQueue (1x1), MpscQueue (2x1) and MpmcQueue (2x2), rings of 1, 2 and 4 slots. Producers and
// consumers use the blocking push()/pop() and, at random, sleep or yield between calls, so a publish
// often lands while the peer is between its last check and its park. 10^6 hand-offs in Release across
// the matrix (scaled under sanitizers), each cell inside a watchdog: a lost wake-up is a hang, which the
// watchdog turns into a failure. Prints the worst (and p99.9) wake latency seen per strategy: from the
// moment an item was published AND the consumer was waiting, to the consumer having it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

using Clock = std::chrono::steady_clock;

struct Stamped {
  std::uint32_t producer = 0;
  std::uint32_t seq = 0;
  std::int64_t published_ns = 0;  // steady_clock, taken just before push()
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Random sleeps/yields injected around the calls.
class Jitter {
 public:
  explicit Jitter(unsigned seed) : rng_(seed) {}
  void maybe_pause() {
    const unsigned r = rng_() & 255u;
    if (r < 3) {
      std::this_thread::sleep_for(std::chrono::microseconds(5 + (rng_() & 63u)));
    } else if (r < 12) {
      std::this_thread::yield();
    }
  }

 private:
  std::minstd_rand rng_;
};

struct Result {
  std::vector<std::int64_t> latencies;  // ns
  std::uint64_t handoffs = 0;
};

template <class Q>
void hunt(const char* queue, const char* strategy, std::size_t producers, std::size_t consumers,
          std::size_t capacity, std::uint32_t per_producer, Result& result) {
  const std::string what = std::string(queue) + "<" + strategy + "> " + std::to_string(producers) + "x" +
                           std::to_string(consumers) + " capacity " + std::to_string(capacity);
  SCOPED_TRACE(what);
  Watchdog dog(what, std::chrono::seconds(120));
  Q q(capacity);
  std::atomic<std::size_t> left{producers};
  std::vector<std::vector<std::int64_t>> lat(consumers);
  std::vector<std::uint64_t> got(consumers, 0);
  std::atomic<std::uint64_t> disorder{0};
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Jitter j(static_cast<unsigned>(17 + p));
      for (std::uint32_t s = 0; s < per_producer; ++s) {
        j.maybe_pause();
        ASSERT_EQ(q.push(Stamped{static_cast<std::uint32_t>(p), s, now_ns()}), PushResult::Pushed);
      }
      if (left.fetch_sub(1) == 1) q.close();
    });
  }
  for (std::size_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      Jitter j(static_cast<unsigned>(101 + c));
      std::vector<std::int64_t> last(producers, -1);
      Stamped item;
      lat[c].reserve(per_producer * producers);
      for (;;) {
        j.maybe_pause();
        const std::int64_t before = now_ns();
        if (!q.pop(item)) break;
        const std::int64_t after = now_ns();
        lat[c].push_back(after - std::max(before, item.published_ns));
        if (static_cast<std::int64_t>(item.seq) <= last[item.producer]) disorder++;
        last[item.producer] = item.seq;
        ++got[c];
      }
    });
  }
  for (auto& t : threads) t.join();
  std::uint64_t total = 0;
  for (std::size_t c = 0; c < consumers; ++c) {
    total += got[c];
    result.latencies.insert(result.latencies.end(), lat[c].begin(), lat[c].end());
  }
  EXPECT_EQ(total, std::uint64_t{per_producer} * producers);
  EXPECT_EQ(disorder.load(), 0u);
  result.handoffs += total;
}

template <class W>
void hunt_strategy(const char* strategy, std::uint64_t divisor = 1) {
  // 10^6 hand-offs over 4 strategies x 3 queues x 3 capacities, i.e. ~27,800 per cell.
  const std::uint64_t per_cell = std::max<std::uint64_t>(scaled(1'000'000 / 36) / divisor, 8);
  Result r;
  for (std::size_t cap : {1u, 2u, 4u}) {
    hunt<SpscQueue<Stamped, W>>("SpscQueue", strategy, 1, 1, cap, static_cast<std::uint32_t>(per_cell), r);
    hunt<MpscQueue<Stamped, W>>("MpscQueue", strategy, 2, 1, cap, static_cast<std::uint32_t>(per_cell / 2), r);
    hunt<MpmcQueue<Stamped, W>>("MpmcQueue", strategy, 2, 2, cap, static_cast<std::uint32_t>(per_cell / 2), r);
  }
  std::sort(r.latencies.begin(), r.latencies.end());
  const auto pct = [&](double p) {
    return r.latencies.empty() ? 0 : r.latencies[static_cast<std::size_t>(p * static_cast<double>(r.latencies.size() - 1))];
  };
  std::printf("  %-9s %8llu hand-offs  wake latency p50 %7.1f us  p99 %8.1f us  p99.9 %8.1f us  worst %9.1f us\n",
              strategy, static_cast<unsigned long long>(r.handoffs), static_cast<double>(pct(0.5)) / 1e3,
              static_cast<double>(pct(0.99)) / 1e3, static_cast<double>(pct(0.999)) / 1e3,
              static_cast<double>(r.latencies.empty() ? 0 : r.latencies.back()) / 1e3);
}

// BusySpin gets 1/200 of the hand-offs: with 3-4 spinning threads on the 2-core VM a hand-off waits for
// the scheduler to preempt a spinner (measured: ~0.6 ms per hand-off, worst wake 284 ms, 160 s for the
// full count). That is the documented collapse (docs/mpmc-results.md), not a lost wake-up: it finishes.
TEST(WaitStrategyStress, LostWakeUpHuntBusySpin) { hunt_strategy<BusySpin>("BusySpin", 200); }
TEST(WaitStrategyStress, LostWakeUpHuntYielding) { hunt_strategy<Yielding>("Yielding"); }
TEST(WaitStrategyStress, LostWakeUpHuntSleeping) { hunt_strategy<Sleeping>("Sleeping"); }
TEST(WaitStrategyStress, LostWakeUpHuntBlocking) { hunt_strategy<Blocking>("Blocking"); }

}  // namespace
}  // namespace ringkit::test
