// SPDX-License-Identifier: MIT
// Regression tests from the MPSC/MPMC review. DropOldest evicts only from a ring that is really full:
// a consumer that has claimed the oldest slot and is still moving the item out leaves the ring one
// short of full, and a producer must wait for that slot, not evict the remaining items one after
// another. And the limits shared with SpscQueue: capacity vs address space, narrow-duration deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"

namespace {

std::atomic<bool> g_stall{false};
std::atomic<bool> g_in_move{false};

struct StallingItem {
  int v = 0;
  StallingItem() = default;
  explicit StallingItem(int x) : v(x) {}
  StallingItem(StallingItem&& o) noexcept : v(o.v) {}
  StallingItem& operator=(StallingItem&& o) noexcept {
    v = o.v;
    if (g_stall.load()) {  // the consumer's move-out: park here until released
      g_in_move = true;
      while (g_stall.load()) std::this_thread::yield();
    }
    return *this;
  }
};

template <class Queue>
void evicts_nothing_while_a_consumer_vacates_the_slot() {
  g_stall = false;
  g_in_move = false;
  Queue q(4, ringkit::Overflow::DropOldest);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(q.push(StallingItem(i)), ringkit::PushResult::Pushed);
  g_stall = true;
  StallingItem first;
  std::thread consumer([&] { ASSERT_TRUE(q.try_pop(first)); });  // claims item 0, stalls mid-move
  while (!g_in_move) std::this_thread::yield();
  std::thread producer([&] { EXPECT_EQ(q.push(StallingItem(100)), ringkit::PushResult::Pushed); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the producer try (and back off)
  EXPECT_EQ(q.stats().evicted, 0u) << "the ring was not full: a slot was being vacated";
  g_stall = false;
  consumer.join();
  producer.join();
  EXPECT_EQ(first.v, 0);
  std::vector<int> rest;
  StallingItem x;
  while (q.try_pop(x)) rest.push_back(x.v);
  EXPECT_EQ(rest, (std::vector<int>{1, 2, 3, 100}));
  EXPECT_EQ(q.stats().evicted, 0u);
}

TEST(MpscQueueDropOldest, EvictsNothingWhileAConsumerVacatesTheSlot) {
  evicts_nothing_while_a_consumer_vacates_the_slot<ringkit::MpscQueue<StallingItem>>();
}

TEST(MpmcQueueDropOldest, EvictsNothingWhileAConsumerVacatesTheSlot) {
  evicts_nothing_while_a_consumer_vacates_the_slot<ringkit::MpmcQueue<StallingItem>>();
}

TEST(MpmcQueueDropOldest, AFullRingStillEvictsTheOldest) {
  ringkit::MpmcQueue<int> q(4, ringkit::Overflow::DropOldest);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(q.push(i), ringkit::PushResult::Pushed);
  EXPECT_EQ(q.stats().evicted, 2u);
  std::vector<int> rest;
  int x = 0;
  while (q.try_pop(x)) rest.push_back(x);
  EXPECT_EQ(rest, (std::vector<int>{2, 3, 4, 5}));
}

}  // namespace

// Shared mechanisms the review found duplicated (and one copy stale): the capacity limit that keeps the
// slot array's byte size from wrapping, and deadlines from narrow duration types.
namespace {

TEST(MpmcQueueLimits, CapacityTooLargeForMemoryIsRejectedBeforeAllocating) {
  EXPECT_THROW(ringkit::MpmcQueue<long>(std::size_t{1} << 61), std::length_error);
  EXPECT_THROW(ringkit::MpscQueue<long>(std::size_t{1} << 61), std::length_error);
}

TEST(MpmcQueueLimits, TimeoutsWithNarrowDurationsTerminate) {
  ringkit::MpmcQueue<long, ringkit::Blocking> q(1);
  long x = 0;
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::duration<int, std::micro>(1000)));
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::duration<short, std::milli>(1)));
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::seconds(-1)));
  ASSERT_EQ(q.push(1), ringkit::PushResult::Pushed);
  EXPECT_EQ(q.try_push_for(2, std::chrono::duration<int, std::micro>(1000)), ringkit::PushResult::TimedOut);
}

}  // namespace
