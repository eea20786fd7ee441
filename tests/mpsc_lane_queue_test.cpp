// SPDX-License-Identifier: MIT
// MpscLaneQueue, single-threaded behaviour: handles and lanes, per-lane capacity and FIFO, the consumer's
// round-robin, batches, close(), items left at destruction, the position wrap.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ringkit/mpsc_lane_queue.hpp"

namespace ringkit::test {
namespace {

using Q = MpscLaneQueue<std::uint64_t, Yielding>;

TEST(MpscLaneQueue, RejectsZeroProducersAndNonPowerOfTwoCapacity) {
  EXPECT_THROW(Q(0, 8), std::invalid_argument);
  EXPECT_THROW(Q(2, 0), std::invalid_argument);
  EXPECT_THROW(Q(2, 12), std::invalid_argument);
  Q q(3, 8);
  EXPECT_EQ(q.max_producers(), 3u);
  EXPECT_EQ(q.lane_capacity(), 8u);
  EXPECT_EQ(q.capacity(), 24u);
}

TEST(MpscLaneQueue, HandsOutOneLanePerLiveHandleAndReusesFreedLanes) {
  Q q(2, 4);
  auto a = q.make_producer();
  auto b = q.make_producer();
  EXPECT_NE(a.lane(), b.lane());
  EXPECT_FALSE(q.try_make_producer().has_value());
  EXPECT_THROW((void)q.make_producer(), std::length_error);
  const std::size_t freed = b.lane();
  { Q::Producer gone = std::move(b); }
  auto c = q.make_producer();
  EXPECT_EQ(c.lane(), freed);
}

TEST(MpscLaneQueue, ALaneIsFullAtItsCapacityWhileOtherLanesStillTakeItems) {
  Q q(2, 4);
  auto a = q.make_producer();
  auto b = q.make_producer();
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(a.try_push(i));
  EXPECT_FALSE(a.try_push(99));
  EXPECT_TRUE(b.try_push(100));
  EXPECT_EQ(q.size_approx(), 5u);
  std::uint64_t out = 0;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_TRUE(a.try_push(4));  // one slot freed in a's lane
}

TEST(MpscLaneQueue, KeepsEachProducersOrderAndDeliversEveryItemOnce) {
  Q q(3, 8);
  std::vector<Q::Producer> ps;
  for (int i = 0; i < 3; ++i) ps.push_back(q.make_producer());
  for (std::uint64_t i = 0; i < 8; ++i) {
    for (std::uint64_t p = 0; p < 3; ++p) ASSERT_TRUE(ps[p].try_push(p << 32 | i));
  }
  std::array<std::uint64_t, 3> next{};
  std::uint64_t v = 0;
  int n = 0;
  while (q.try_pop(v)) {
    const std::uint64_t p = v >> 32;
    ASSERT_LT(p, 3u);
    EXPECT_EQ(v & 0xffffffffu, next[p]);
    ++next[p];
    ++n;
  }
  EXPECT_EQ(n, 24);
  EXPECT_EQ(next, (std::array<std::uint64_t, 3>{8, 8, 8}));
  EXPECT_TRUE(q.empty());
}

TEST(MpscLaneQueue, ConsumerMovesOnToTheNextLaneWhenOneRunsDry) {
  Q q(2, 4);
  auto a = q.make_producer();
  auto b = q.make_producer();
  ASSERT_TRUE(a.try_push(1));
  ASSERT_TRUE(b.try_push(2));
  std::uint64_t v = 0;
  ASSERT_TRUE(q.try_pop(v));
  ASSERT_TRUE(q.try_pop(v));
  EXPECT_FALSE(q.try_pop(v));
}

TEST(MpscLaneQueue, PopBatchTakesRunsFromEveryLaneKeepingLaneOrder) {
  Q q(2, 8);
  auto a = q.make_producer();
  auto b = q.make_producer();
  std::vector<std::uint64_t> in_a{10, 11, 12}, in_b{20, 21};
  EXPECT_EQ(a.push_batch(in_a), 3u);
  EXPECT_EQ(b.push_batch(in_b), 2u);
  std::array<std::uint64_t, 8> out{};
  const std::size_t n = q.pop_batch(out);
  ASSERT_EQ(n, 5u);
  std::vector<std::uint64_t> got_a, got_b;
  for (std::size_t i = 0; i < n; ++i) (out[i] < 20 ? got_a : got_b).push_back(out[i]);
  EXPECT_EQ(got_a, in_a);
  EXPECT_EQ(got_b, in_b);
}

TEST(MpscLaneQueue, PushBatchStopsAtTheLanesRoom) {
  Q q(1, 4);
  auto a = q.make_producer();
  std::vector<std::uint64_t> items{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(a.push_batch(items), 4u);
  EXPECT_EQ(a.push_batch(std::span<std::uint64_t>(items).subspan(4)), 0u);
}

TEST(MpscLaneQueue, CloseRefusesEveryPushAndPopDrainsThenReturnsFalse) {
  Q q(2, 4);
  auto a = q.make_producer();
  ASSERT_EQ(a.push(7), PushResult::Pushed);
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(a.push(8), PushResult::Closed);
  EXPECT_FALSE(a.try_push(9));
  std::vector<std::uint64_t> items{1, 2};
  EXPECT_EQ(a.push_batch(items), 0u);
  auto late = q.make_producer();  // allowed after close; its pushes are refused
  EXPECT_EQ(late.push(10), PushResult::Closed);
  std::uint64_t v = 0;
  ASSERT_TRUE(q.pop(v));
  EXPECT_EQ(v, 7u);
  EXPECT_FALSE(q.pop(v));
  EXPECT_FALSE(q.pop(v));
}

TEST(MpscLaneQueue, ClosedPushLeavesTheCallersValueUntouched) {
  MpscLaneQueue<std::unique_ptr<int>> q(1, 2);
  auto a = q.make_producer();
  q.close();
  auto p = std::make_unique<int>(5);
  EXPECT_EQ(a.push(std::move(p)), PushResult::Closed);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(MpscLaneQueue, TryPopForTimesOutOnAnEmptyOpenQueue) {
  Q q(1, 2);
  std::uint64_t v = 0;
  EXPECT_FALSE(q.try_pop_for(v, std::chrono::milliseconds(2)));
}

TEST(MpscLaneQueue, DestructorDestroysItemsLeftInEveryLane) {
  auto counter = std::make_shared<int>(0);
  {
    MpscLaneQueue<std::shared_ptr<int>> q(2, 4);
    auto a = q.make_producer();
    auto b = q.make_producer();
    ASSERT_TRUE(a.try_push(counter));
    ASSERT_TRUE(b.try_push(counter));
    ASSERT_TRUE(b.try_push(counter));
    EXPECT_EQ(counter.use_count(), 4);
  }
  EXPECT_EQ(counter.use_count(), 1);
}

TEST(MpscLaneQueue, PositionsWrapPastTwoToThe63WithoutLosingItems) {
  Q q(2, 4, detail::StartSequence{(std::uint64_t{1} << 63) - 5});
  auto a = q.make_producer();
  auto b = q.make_producer();
  std::uint64_t next_a = 0, next_b = 1000;
  std::uint64_t want_a = 0, want_b = 1000;
  for (int round = 0; round < 20; ++round) {
    while (a.try_push(next_a)) ++next_a;
    while (b.try_push(next_b)) ++next_b;
    EXPECT_EQ(q.size_approx(), 8u);
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) {
      ASSERT_TRUE(q.try_pop(v));
      if (v >= 1000) {
        EXPECT_EQ(v, want_b++);
      } else {
        EXPECT_EQ(v, want_a++);
      }
    }
    EXPECT_FALSE(q.try_pop(v));
  }
  EXPECT_EQ(want_a, next_a);
  EXPECT_EQ(want_b, next_b);
}

TEST(MpscLaneQueue, ABusyLaneCannotStarveAnotherForMoreThanABurst) {
  Q q(2, 1024);
  auto a = q.make_producer();
  auto b = q.make_producer();
  for (std::uint64_t i = 0; i < 1024; ++i) ASSERT_TRUE(a.try_push(i));
  ASSERT_TRUE(b.try_push(5000));
  std::uint64_t v = 0;
  int before_b = 0;
  for (;;) {
    ASSERT_TRUE(q.try_pop(v));
    if (v == 5000) break;
    ++before_b;
  }
  EXPECT_LE(before_b, 256);
}

// A moved-from Producer owns no lane: using it is a precondition violation that debug builds (assert)
// report by name instead of dereferencing null. Skipped where NDEBUG compiles the assert out.
TEST(MpscLaneQueueDeathTest, AMovedFromProducerAbortsWithAClearMessageInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP() << "the precondition check is an assert: compiled out with NDEBUG";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Q q(1, 4);
        auto a = q.make_producer();
        Q::Producer b = std::move(a);
        (void)a.try_push(1);  // NOLINT(bugprone-use-after-move): the misuse under test
      },
      "Producer used after it was moved from");
#endif
}

}  // namespace
}  // namespace ringkit::test
