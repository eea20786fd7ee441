// SPDX-License-Identifier: MIT
#pragma once
// The unit suite every MpscQueue/MpmcQueue configuration runs (typed, parameterized by a Config with
// `template <class T> using queue = ...`). Instantiated by mpsc_queue_test.cpp and mpmc_queue_test.cpp,
// each of which also includes counting_allocator.hpp exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

// counting_allocator.hpp frees with std::free what its operator new got from malloc/aligned_alloc, which
// GCC's -Wmismatched-new-delete flags at -O1 (sanitizer builds). The pairing is correct; silence it here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "counting_allocator.hpp"
#pragma GCC diagnostic pop
#include "lifecycle.hpp"
#include "test_scale.hpp"
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"

namespace ringkit::test {

template <class W>
struct MpscCfg {
  template <class T>
  using queue = ringkit::MpscQueue<T, W>;
  static constexpr bool kMulti = false;
};
template <class W>
struct MpmcCfg {
  template <class T>
  using queue = ringkit::MpmcQueue<T, W>;
  static constexpr bool kMulti = true;
};

// Nothrow move, but construction from a value may throw (ThrowCountdown): accepted by the concept.
struct ThrowOnMake {
  explicit ThrowOnMake(long v) : value(v) { ThrowCountdown::tick(); }
  ThrowOnMake(ThrowOnMake&&) noexcept = default;
  ThrowOnMake& operator=(ThrowOnMake&&) noexcept = default;
  long value;
};
// Rejected: a move that may throw, or a destructor that may.
struct ThrowingMove {
  ThrowingMove() = default;
  ThrowingMove(ThrowingMove&&) noexcept(false) {}
};
struct ThrowingDtor {
  ~ThrowingDtor() noexcept(false) {}
};

template <class Cfg>
class SlotQueueTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(SlotQueueTest);

template <class Q>
std::vector<long> drain(Q& q) {
  std::vector<long> out;
  long v = 0;
  while (q.try_pop(v)) out.push_back(v);
  return out;
}

TYPED_TEST_P(SlotQueueTest, Smoke) {
  typename TypeParam::template queue<long> q(8);
  EXPECT_EQ(q.capacity(), 8u);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.try_push(1));
  EXPECT_TRUE(q.try_emplace(2));
  EXPECT_EQ(q.push(3), PushResult::Pushed);
  EXPECT_EQ(q.size(), 3u);
  long v = 0;
  ASSERT_TRUE(q.try_pop(v));
  EXPECT_EQ(v, 1);
  std::optional<long> o = q.try_pop();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(*o, 2);
  ASSERT_TRUE(q.pop(v));
  EXPECT_EQ(v, 3);
  EXPECT_FALSE(q.try_pop(v));
  EXPECT_FALSE(q.try_pop().has_value());
}

TYPED_TEST_P(SlotQueueTest, BlockingEmplaceAppliesThePolicy) {
  typename TypeParam::template queue<ThrowOnMake> q(1, Overflow::DropNewest);
  EXPECT_EQ(q.emplace(1L), PushResult::Pushed);
  EXPECT_EQ(q.emplace(2L), PushResult::Dropped);
  ThrowCountdown::arm(0);
  EXPECT_THROW((void)q.emplace(3L), std::runtime_error);  // thrown while building: nothing claimed
  ThrowCountdown::disarm();
  auto v = q.try_pop();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value, 1);
  EXPECT_FALSE(q.try_pop());
}

TYPED_TEST_P(SlotQueueTest, CapacityEdgesFailExactlyWhenFull) {
  for (std::size_t cap : {1u, 2u, 4u, 8u, 64u, 1024u}) {
    typename TypeParam::template queue<long> q(cap);
    for (int round = 0; round < 3; ++round) {  // three laps: turns advance correctly
      for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(q.try_push(static_cast<long>(i))) << cap << " " << i;
      EXPECT_FALSE(q.try_push(-1)) << "capacity " << cap;
      EXPECT_EQ(q.size(), cap);
      EXPECT_TRUE(q.full());
      const auto got = drain(q);
      ASSERT_EQ(got.size(), cap);
      for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(got[i], static_cast<long>(i));
    }
  }
}

TYPED_TEST_P(SlotQueueTest, RejectsBadCapacityNamingTheValue) {
  using Q = typename TypeParam::template queue<long>;
  for (std::size_t bad : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{1000}}) {
    try {
      Q q(bad);
      FAIL() << "capacity " << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("got " + std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Q(8, Overflow::SpillToDisk), std::invalid_argument);
}

TYPED_TEST_P(SlotQueueTest, IndexWrapNearTwoToThe64) {
  using Q = typename TypeParam::template queue<long>;
  for (std::size_t cap : {1u, 2u, 4u, 64u}) {
    const std::uint64_t start = std::numeric_limits<std::uint64_t>::max() - 2 * cap - 1;
    Q q(cap, Overflow::Block, detail::StartSequence{start});
    long next_in = 0, next_out = 0;
    for (int step = 0; step < 400; ++step) {  // crosses 2^64 several laps in
      while (q.try_push(next_in)) ++next_in;
      EXPECT_EQ(q.size(), cap);
      long v = 0;
      std::size_t k = static_cast<std::size_t>(step % 3) + 1;
      for (std::size_t i = 0; i < k && q.try_pop(v); ++i) EXPECT_EQ(v, next_out++);
    }
    for (long v : drain(q)) EXPECT_EQ(v, next_out++);
    EXPECT_EQ(next_in, next_out);
    EXPECT_GT(next_in, static_cast<long>(4 * cap));
    EXPECT_EQ(q.stats().pushed, static_cast<std::uint64_t>(next_in));  // modular: still exact after the wrap
    // Batches across the wrap too.
    std::vector<long> in(cap), out(cap);
    for (int r = 0; r < 5; ++r) {
      for (std::size_t i = 0; i < cap; ++i) in[i] = r * 100 + static_cast<long>(i);
      ASSERT_EQ(q.push_batch(in), cap);
      ASSERT_EQ(q.pop_batch(out), cap);
      EXPECT_EQ(in, out);
    }
  }
}

TYPED_TEST_P(SlotQueueTest, LifecycleCountsExact) {
  life_counts().reset();
  {
    typename TypeParam::template queue<Tracked> q(4);
    Tracked a(1);
    ASSERT_TRUE(q.try_push(a));  // copy ctor may throw: built outside (1 copy), then moved in (1 move)
    EXPECT_EQ(life_counts().copies.load(), 1);
    EXPECT_EQ(life_counts().moves.load(), 1);
    EXPECT_EQ(life_counts().alive(), 2);  // a + the slot
    ASSERT_TRUE(q.try_push(Tracked(2)));  // nothrow move: straight into the slot
    EXPECT_EQ(life_counts().moves.load(), 2);
    ASSERT_TRUE(q.try_emplace(3L));  // constructor from long is not noexcept: built, then moved
    EXPECT_EQ(life_counts().alive(), 4);
    Tracked out;
    ASSERT_TRUE(q.try_pop(out));  // move-assign + destroy the slot's item
    EXPECT_EQ(out.value(), 1);
    EXPECT_EQ(life_counts().alive(), 4);  // a, out, two in the ring
    auto o = q.try_pop();
    ASSERT_TRUE(o);
    EXPECT_EQ(o->value(), 2);
    EXPECT_EQ(life_counts().alive(), 4);
    EXPECT_EQ(q.push(Tracked(4)), PushResult::Pushed);
    // The queue's destructor destroys the two left inside.
  }
  EXPECT_EQ(life_counts().alive(), 0);
  life_counts().reset();
  {  // DropOldest destroys the evicted items exactly once
    typename TypeParam::template queue<Tracked> q(2, Overflow::DropOldest);
    for (long i = 0; i < 10; ++i) EXPECT_EQ(q.push(Tracked(i)), PushResult::Pushed);
    EXPECT_EQ(life_counts().alive(), 2);
    EXPECT_EQ(q.stats().evicted, 8u);
  }
  EXPECT_EQ(life_counts().alive(), 0);
}

TYPED_TEST_P(SlotQueueTest, ExceptionsLeaveQueueUnchanged) {
  typename TypeParam::template queue<ThrowOnMake> q(2);
  ThrowCountdown::arm(0);
  EXPECT_THROW((void)q.try_emplace(5L), std::runtime_error);
  ThrowCountdown::disarm();
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.try_emplace(6L));
  EXPECT_TRUE(q.try_emplace(7L));
  ThrowCountdown::arm(0);
  EXPECT_FALSE(q.try_emplace(8L));  // full: fails before building, so nothing throws
  ThrowCountdown::disarm();
  auto a = q.try_pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 6);
}

TYPED_TEST_P(SlotQueueTest, ConceptRejectsThrowingTypes) {
  static_assert(NothrowQueueElement<long>);
  static_assert(NothrowQueueElement<Tracked>);
  static_assert(NothrowQueueElement<ThrowOnMake>);
  static_assert(!NothrowQueueElement<ThrowingMove>);
  static_assert(!NothrowQueueElement<ThrowingDtor>);
  static_assert(!NothrowQueueElement<ThrowingOnCopy>);  // no move ctor: its throwing copy would be used
  static_assert(!NothrowQueueElement<const long>);
  static_assert(!requires { typename TypeParam::template queue<ThrowingMove>; });
  static_assert(requires { typename TypeParam::template queue<ThrowOnMake>; });
  // try_push(T&&) cannot throw; try_push(const T&) can iff the copy can.
  using Q = typename TypeParam::template queue<Tracked>;
  static_assert(noexcept(std::declval<Q&>().try_push(std::declval<Tracked&&>())));
  static_assert(!noexcept(std::declval<Q&>().try_push(std::declval<const Tracked&>())));
  SUCCEED();
}

TYPED_TEST_P(SlotQueueTest, ClosedQueue) {
  typename TypeParam::template queue<long> q(4);
  EXPECT_EQ(q.push(1), PushResult::Pushed);
  EXPECT_EQ(q.push(2), PushResult::Pushed);
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(q.push(3), PushResult::Closed);
  EXPECT_EQ(q.try_push_for(3L, std::chrono::milliseconds(1)), PushResult::Closed);
  long v = 0;
  ASSERT_TRUE(q.pop(v));
  EXPECT_EQ(v, 1);
  ASSERT_TRUE(q.try_pop_for(v, std::chrono::seconds(10)));
  EXPECT_EQ(v, 2);
  EXPECT_FALSE(q.pop(v));                                   // closed and drained: no wait
  EXPECT_FALSE(q.try_pop_for(v, std::chrono::hours(1)));  // likewise
}

TYPED_TEST_P(SlotQueueTest, CloseWakesBlockedPopAndPush) {
  typename TypeParam::template queue<long> q(1);
  std::atomic<int> done{0};
  std::thread consumer([&] {
    long v = 0;
    EXPECT_FALSE(q.pop(v));
    done++;
  });
  // Close only once the consumer is really waiting (a fixed sleep was not enough on a loaded machine).
  while (q.stats().blocked_waits == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  q.close();
  consumer.join();
  EXPECT_EQ(done.load(), 1);
  typename TypeParam::template queue<long> full(1);
  ASSERT_TRUE(full.try_push(1));
  std::thread producer([&] { EXPECT_EQ(full.push(2), PushResult::Closed); });
  while (full.stats().blocked_waits == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  full.close();
  producer.join();
  EXPECT_GE(full.stats().blocked_waits, 1u);
}

TYPED_TEST_P(SlotQueueTest, TimedCallsTimeOut) {
  typename TypeParam::template queue<long> q(1);
  long v = 0;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.try_pop_for(v, std::chrono::milliseconds(5)));
  ASSERT_TRUE(q.try_push(1));
  EXPECT_EQ(q.try_push_for(2L, std::chrono::milliseconds(5)), PushResult::TimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(10));
  ASSERT_TRUE(q.try_pop_for(v, std::chrono::milliseconds(5)));
  EXPECT_EQ(v, 1);
}

TYPED_TEST_P(SlotQueueTest, DropNewestRejectsAndCounts) {
  typename TypeParam::template queue<Tracked> q(2, Overflow::DropNewest);
  life_counts().reset();
  EXPECT_EQ(q.push(Tracked(1)), PushResult::Pushed);
  EXPECT_EQ(q.push(Tracked(2)), PushResult::Pushed);
  Tracked keep(3);
  EXPECT_EQ(q.push(std::move(keep)), PushResult::Dropped);
  EXPECT_EQ(keep.value(), 3);  // not consumed
  EXPECT_EQ(q.stats().dropped, 1u);
  EXPECT_EQ(q.stats().pushed, 2u);
}

TYPED_TEST_P(SlotQueueTest, DropOldestKeepsNewest) {
  typename TypeParam::template queue<long> q(4, Overflow::DropOldest);
  for (long i = 0; i < 10; ++i) EXPECT_EQ(q.push(i), PushResult::Pushed);
  EXPECT_EQ(drain(q), (std::vector<long>{6, 7, 8, 9}));
  const QueueStats s = q.stats();
  EXPECT_EQ(s.pushed, 10u);
  EXPECT_EQ(s.evicted, 6u);
  EXPECT_EQ(s.popped, 4u);
  EXPECT_EQ(s.pushed, s.popped + s.evicted);
  EXPECT_EQ(s.high_water, 4u);
}

TYPED_TEST_P(SlotQueueTest, Batches) {
  typename TypeParam::template queue<long> q(8);
  std::vector<long> in(10);
  for (long i = 0; i < 10; ++i) in[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(q.push_batch(in), 8u);  // what fits
  EXPECT_EQ(q.push_batch(in), 0u);
  std::vector<long> out(3);
  EXPECT_EQ(q.pop_batch(out), 3u);
  EXPECT_EQ(out, (std::vector<long>{0, 1, 2}));
  std::vector<long> seen;
  EXPECT_EQ(q.take_batch(2, [&](long&& v) noexcept { seen.push_back(v); }), 2u);
  EXPECT_EQ(seen, (std::vector<long>{3, 4}));
  EXPECT_EQ(q.take_batch(100), (std::vector<long>{5, 6, 7}));
  EXPECT_EQ(q.take_batch(5).size(), 0u);
  EXPECT_EQ(q.pop_batch(out), 0u);
  EXPECT_EQ(q.push_batch(std::span<long>(in.data(), 0)), 0u);
}

// consume(): SpscQueue's verb, spelled the same on the slot queues: fn(T&) in place, in order.
TYPED_TEST_P(SlotQueueTest, ConsumeHandsItemsInPlaceInOrder) {
  typename TypeParam::template queue<long> q(4);
  EXPECT_EQ(q.available(), 4u);
  for (long i = 1; i <= 3; ++i) ASSERT_TRUE(q.try_push(i));
  EXPECT_EQ(q.available(), 1u);
  std::vector<long> seen;
  EXPECT_EQ(q.consume(2, [&](long& v) noexcept { seen.push_back(v); }), 2u);
  EXPECT_EQ(seen, (std::vector<long>{1, 2}));
  EXPECT_EQ(q.consume(10, [&](long& v) noexcept { seen.push_back(v); }), 1u);
  EXPECT_EQ(seen, (std::vector<long>{1, 2, 3}));
  EXPECT_EQ(q.consume(10, [&](long&) noexcept { ADD_FAILURE() << "called on an empty queue"; }), 0u);
  EXPECT_EQ(q.available(), 4u);
}

TYPED_TEST_P(SlotQueueTest, StatsDerivedFromIndexes) {
  typename TypeParam::template queue<long> q(256);
  for (long i = 0; i < 200; ++i) ASSERT_TRUE(q.try_push(i));
  long v = 0;
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(q.try_pop(v));
  const QueueStats s = q.stats();
  EXPECT_EQ(s.pushed, 200u);
  EXPECT_EQ(s.popped, 150u);
  EXPECT_EQ(s.dropped + s.evicted + s.spilled, 0u);
  EXPECT_GE(s.high_water, 129u);  // sampled every 64th position: saw at least 129 at position 128
  EXPECT_LE(s.high_water, 200u);
}

TYPED_TEST_P(SlotQueueTest, SlotIndexRemapIsAPermutation) {
  for (std::size_t cap : {1u, 2u, 16u, 64u, 1024u}) {
    typename TypeParam::template queue<long> q(cap);
    std::set<std::size_t> seen;
    for (std::uint64_t p = 0; p < cap; ++p) seen.insert(detail::slot_index_for(q, p));
    EXPECT_EQ(seen.size(), cap);
    EXPECT_EQ(*seen.rbegin(), cap - 1);
  }
}

TYPED_TEST_P(SlotQueueTest, ZeroAllocationsAfterConstruction) {
  typename TypeParam::template queue<long> q(64);
  typename TypeParam::template queue<long> drop_old(4, Overflow::DropOldest);
  typename TypeParam::template queue<long> drop_new(4, Overflow::DropNewest);
  std::vector<long> batch(16, 7), out(16);
  long v = 0, sum = 0;
  (void)q.stats();  // first-use statics (thread shard) outside the measured window
  drop_old.push(0);
  AllocationCounter counter;
  for (long i = 0; i < 1000; ++i) {
    (void)q.try_push(i);
    (void)q.try_emplace(i);
    q.push(i);
    (void)q.try_pop(v);
    (void)q.try_pop();
    sum += q.pop(v) ? v : 0;
    (void)q.push_batch(batch);
    (void)q.pop_batch(out);
    (void)q.take_batch(8, [&](long&& x) noexcept { sum += x; });
    drop_old.push(i);
    drop_new.push(i);
    (void)q.try_push_for(i, std::chrono::microseconds(1));
    (void)q.try_pop_for(v, std::chrono::microseconds(1));
    (void)q.stats();
  }
  EXPECT_EQ(counter.allocations(), 0) << counter.bytes() << " bytes";
  EXPECT_NE(sum, 0);
}

TYPED_TEST_P(SlotQueueTest, BlockingHandOffTwoThreads) {
  typename TypeParam::template queue<long> q(2);
  const long kN = static_cast<long>(scaled(20000));
  std::thread producer([&] {
    for (long i = 0; i < kN; ++i) ASSERT_EQ(q.push(i), PushResult::Pushed);
    q.close();
  });
  long v = 0, expect = 0;
  while (q.pop(v)) ASSERT_EQ(v, expect++);
  producer.join();
  EXPECT_EQ(expect, kN);
}

REGISTER_TYPED_TEST_SUITE_P(SlotQueueTest, Smoke, BlockingEmplaceAppliesThePolicy, CapacityEdgesFailExactlyWhenFull, RejectsBadCapacityNamingTheValue,
                            IndexWrapNearTwoToThe64, LifecycleCountsExact, ExceptionsLeaveQueueUnchanged,
                            ConceptRejectsThrowingTypes, ClosedQueue, CloseWakesBlockedPopAndPush, TimedCallsTimeOut,
                            DropNewestRejectsAndCounts, DropOldestKeepsNewest, Batches, ConsumeHandsItemsInPlaceInOrder,
                            StatsDerivedFromIndexes,
                            SlotIndexRemapIsAPermutation, ZeroAllocationsAfterConstruction,
                            BlockingHandOffTwoThreads);

}  // namespace ringkit::test
