// SPDX-License-Identifier: MIT
// What waiting with Blocking (include/ringkit/wait/blocking.hpp) may cost a consumer whose producer is slow:
// a consumer waiting on a low-rate producer (one item per millisecond) uses a small share of a core (its
// thread CPU time stays under a generous bound). Extra polling after every wake (a woken-side grace granted
// unconditionally, which an earlier cut had: 20-42 % of a core) fails it.
// No throughput or latency goal lives here (those are ringbench's `wait` scenario).
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringkit::test {
namespace {

using namespace std::chrono_literals;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class Q>
class BlockingCpuCost : public ::testing::Test {};

using Queues = ::testing::Types<SpscQueue<std::uint64_t, Blocking>, MpscQueue<std::uint64_t, Blocking>,
                                MpmcQueue<std::uint64_t, Blocking>>;
TYPED_TEST_SUITE(BlockingCpuCost, Queues);

// One item per millisecond for ~1 s. Each wait spins ~20 µs and then parks until the next item: measured
// 3.8-6 % of a core (quiet 2-vCPU VM). A grace granted after every wake adds its polls to every item
// (measured 20-42 % at 1 ms per item); 15 % leaves room for a loaded CI machine (yields cost more there)
// and still fails that.
TYPED_TEST(BlockingCpuCost, ConsumerOfALowRateProducerUsesLittleOfACore) {
  constexpr std::uint64_t kItems = 1000;
  constexpr auto kGap = 1ms;
  constexpr double kMaxShareOfWall = 0.15;
  TypeParam q(64);
  double cpu_s = 0, wall_s = 0;
  bool in_order = true;
  std::thread consumer([&] {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < kItems; ++i) {
      if (!q.pop(v) || v != i) in_order = false;
    }
    cpu_s = thread_cpu_seconds() - c0;
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  });
  auto next = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < kItems; ++i) {
    next += kGap;
    std::this_thread::sleep_until(next);
    ASSERT_EQ(q.push(std::uint64_t{i}), PushResult::Pushed);
  }
  consumer.join();
  std::printf("consumer CPU: %.2f %% of a core over %.3f s\n", 100 * cpu_s / wall_s, wall_s);
  EXPECT_TRUE(in_order);
  EXPECT_LT(cpu_s, kMaxShareOfWall * wall_s)
      << "the consumer used " << 100 * cpu_s / wall_s << " % of a core over " << wall_s << " s";
}

}  // namespace
}  // namespace ringkit::test
