// SPDX-License-Identifier: MIT
// The role check is opt-in (RINGKIT_CHECK_ROLES): this test program defines the macro itself, so the
// check is pinned in every preset, Release included (the debug/asan/tsan presets define it for the
// whole tree; tests/spsc_queue_test.cpp and tests/mpsc_queue_test.cpp check it there).
#define RINGKIT_CHECK_ROLES 1

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

// Two threads run `fn` at once until the role check aborts (or 30 s pass, which fails the death test).
template <class Fn>
void twice_at_once(Fn fn) {
  std::thread a(fn);
  std::thread b(fn);
  a.join();
  b.join();
}

void two_spsc_producers() {
  SpscQueue<int> q(1024);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  twice_at_once([&] {
    while (std::chrono::steady_clock::now() < give_up) (void)q.try_push(1);
  });
}

void two_mpsc_consumers() {
  MpscQueue<long> q(4);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  twice_at_once([&] {
    long v = 0;
    while (std::chrono::steady_clock::now() < give_up) (void)q.try_pop(v);
  });
}

TEST(RoleCheckOptInDeathTest, SpscTwoProducersAtOnceAbortWhenEnabled) {
  if (under_tsan()) GTEST_SKIP() << "TSan reports the misuse itself, before the role check";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(two_spsc_producers(), "two threads are in the producer role");
}

TEST(RoleCheckOptInDeathTest, MpscTwoConsumersAtOnceAbortWhenEnabled) {
  if (under_tsan()) GTEST_SKIP() << "death tests fork a threaded process; not under TSan";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(two_mpsc_consumers(), "two threads are in the consumer role");
}

TEST(RoleCheckOptIn, SequentialHandOffIsLegal) {
  SpscQueue<int> q(4);
  std::thread([&] { ASSERT_TRUE(q.try_push(1)); }).join();  // the join orders the hand-off
  std::thread([&] { ASSERT_TRUE(q.try_push(2)); }).join();
  int v = 0;
  ASSERT_TRUE(q.try_pop(v));
  EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace ringkit::test
