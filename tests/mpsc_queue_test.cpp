// SPDX-License-Identifier: MIT
// MpscQueue unit suite: every case of slot_queue_cases.hpp, for every wait strategy.
#include "slot_queue_cases.hpp"

namespace ringkit::test {
using MpscConfigs = ::testing::Types<MpscCfg<Yielding>, MpscCfg<BusySpin>, MpscCfg<Sleeping>, MpscCfg<Blocking>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Mpsc, SlotQueueTest, MpscConfigs);

// MPSC-specific: the single-consumer pop path is the cheap one (no CAS) except under DropOldest.
TEST(MpscQueue, SingleConsumerSurface) {
  MpscQueue<int> q(4);
  static_assert(std::is_same_v<MpscQueue<int>::wait_strategy, Yielding>);
  EXPECT_EQ(q.overflow(), Overflow::Block);
  MpscQueue<int> d(4, Overflow::DropOldest);
  EXPECT_EQ(d.overflow(), Overflow::DropOldest);
}

// Debug builds: two threads inside MpscQueue's consumer functions at once abort with a clear message
// (STYLE.md 11). Skipped where RINGKIT_CHECK_ROLES is not defined (the check compiles away), and under
// TSan (fork + threads). tests/role_check_opt_in_test.cpp runs it in every build.
TEST(MpscQueueDeathTest, TwoConsumersAtOnceAbortInDebugBuilds) {
#ifndef RINGKIT_CHECK_ROLES
  GTEST_SKIP() << "RoleCheck is compiled out without RINGKIT_CHECK_ROLES";
#else
  if (under_tsan()) GTEST_SKIP() << "death tests fork a threaded process; not under TSan";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        MpscQueue<long> q(4);
        (void)q.try_push(1);
        std::atomic<bool> inside{false};
        std::thread a([&] {
          (void)q.take_batch(1, [&](long&&) noexcept {
            inside = true;
            for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          });
        });
        while (!inside) std::this_thread::yield();
        long v = 0;
        (void)q.try_pop(v);  // a second consumer while the first is inside take_batch
        a.join();
      },
      "two threads are in the consumer role");
#endif
}
}  // namespace ringkit::test
