// SPDX-License-Identifier: MIT
// What the Blocking strategy's woken-side grace (include/ringkit/wait/blocking.hpp,
// detail::woken_from_short_park) may cost, and when it may not apply:
//  * a consumer waiting on a low-rate producer (one item per millisecond) uses a small share of a core:
//    its thread CPU time stays under a generous bound. A grace granted after every wake (the regression an
//    earlier cut had: 20-26 % of a core) fails it;
//  * the grant follows only a park that a notify() ended soon after it began: never a long park, never a
//    notify_all(); and it is spent (or dropped) by the thread's very next wait, on whichever strategy.
// No throughput or latency goal lives here (those are ringbench's `wait` scenario).
#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
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
// 3.8 % of a core for SpscQueue (1.5 ms per item, quiet 2-vCPU VM). A woken-side grace granted after every
// wake adds its polls to every item (measured ~20 % at 1 ms per item); 15 % leaves room for a loaded CI
// machine (yields cost more there) and still fails that.
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

// Parks a thread in w.wait() until `go`; returns what the thread's grant was when its wait returned.
template <class Wake>
const void* grant_after_wake(Blocking& w, Wake wake) {
  std::atomic<bool> go{false};
  const void* grant = &go;  // anything but nullptr or &w
  std::thread waiter([&] {
    w.wait([&] { return go.load(std::memory_order_acquire); });  // acquire: pairs with the release below
    grant = detail::woken_from_short_park;
  });
  while (w.waiters() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // past the spin phase and into futex_wait: a long park
  go.store(true, std::memory_order_release);  // release: pairs with the acquire in the waiter
  wake(w);
  waiter.join();
  return grant;
}

TEST(BlockingWokenGrace, IsNotGrantedAfterALongPark) {
  Blocking w;
  EXPECT_EQ(grant_after_wake(w, [](Blocking& b) { b.notify(); }), nullptr);
}

TEST(BlockingWokenGrace, IsNeverGrantedByNotifyAll) {
  Blocking w;
  EXPECT_EQ(grant_after_wake(w, [](Blocking& b) { b.notify_all(); }), nullptr);
}

TEST(BlockingWokenGrace, IsSpentByTheVeryNextWaitWhateverItsStrategy) {
  Blocking a, b;
  detail::woken_from_short_park = &a;
  b.wait([] { return true; });
  EXPECT_EQ(detail::woken_from_short_park, nullptr) << "a wait on another strategy left the grant for later";
  detail::woken_from_short_park = &a;
  a.wait([] { return true; });
  EXPECT_EQ(detail::woken_from_short_park, nullptr) << "a wait that needed no grace left it for later";
}

}  // namespace
}  // namespace ringkit::test
