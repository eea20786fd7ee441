// SPDX-License-Identifier: MIT
// Unit tests for ringkit::SpscQueue: the basics (construction, capacity, round trip, wrap-around), then lifecycle, move-only,
// throwing constructors, batch/claim/peek paths, blocking calls and the role check.
#include "ringkit/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lifecycle.hpp"
#include "test_scale.hpp"

namespace {

using ringkit::Overflow;
using ringkit::PushResult;
using ringkit::SpscQueue;
using ringkit::detail::StartSequence;
using ringkit::test::life_counts;
using ringkit::test::Tracked;

// Every test that uses Tracked checks that constructions == destructions when it ends.
class LifecycleChecked : public ::testing::Test {
 protected:
  void SetUp() override { life_counts().reset(); }
  void TearDown() override { EXPECT_EQ(life_counts().alive(), 0) << "objects leaked or double-destroyed"; }
};

// ---- basics: construction, capacity, observers, round trip, wrap-around ---------------------------

TEST(SpscQueueBasics, NewQueueIsEmpty) {
  SpscQueue<std::uint64_t> q(16);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  std::uint64_t out = 0;
  EXPECT_FALSE(q.try_pop(out));
}

TEST(SpscQueueBasics, RejectsNonPowerOfTwoCapacity) {
  for (std::size_t bad : {3u, 6u, 12u, 100u, 1000u, 65535u}) {
    try {
      SpscQueue<int> q(bad);
      ADD_FAILURE() << "capacity " << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos)
          << "message does not name the value: " << e.what();
      EXPECT_NE(std::string(e.what()).find("power of two"), std::string::npos) << e.what();
    }
  }
}

TEST(SpscQueueBasics, RejectsZeroCapacity) {
  try {
    SpscQueue<int> q(0);
    ADD_FAILURE() << "capacity 0 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("got 0"), std::string::npos) << e.what();
  }
}

TEST(SpscQueueBasics, CapacityIsWhatWasAskedFor) {
  for (std::size_t cap : {1u, 2u, 4u, 64u, 1024u, 65536u}) {
    SpscQueue<int> q(cap);
    EXPECT_EQ(q.capacity(), cap);
    EXPECT_EQ(q.available(), cap);
  }
}

TEST(SpscQueueBasics, SizeOfNewQueueIsZero) {
  SpscQueue<int> q(8);
  EXPECT_EQ(q.size(), 0u);
  ASSERT_TRUE(q.try_push(1));
  int x = 0;
  ASSERT_TRUE(q.try_pop(x));
  EXPECT_EQ(q.size(), 0u);
}

TEST(SpscQueueBasics, NewQueueReportsEmpty) {
  SpscQueue<int> q(8);
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueueBasics, NewQueueIsNotFull) {
  SpscQueue<int> q(8);
  EXPECT_FALSE(q.full());
  SpscQueue<int> one(1);
  EXPECT_FALSE(one.full());
}

TEST(SpscQueueBasics, OneItemRoundTrips) {
  SpscQueue<std::string> q(4);
  ASSERT_TRUE(q.try_push(std::string("hello")));
  EXPECT_EQ(q.size(), 1u);
  std::optional<std::string> got = q.try_pop();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "hello");
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueueBasics, FillsExactlyToCapacity) {
  for (std::size_t cap : {1u, 2u, 8u, 1024u}) {
    SpscQueue<std::size_t> q(cap);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(q.try_push(i)) << "cap " << cap << " i " << i;
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.size(), cap);
    EXPECT_EQ(q.available(), 0u);
    EXPECT_FALSE(q.try_push(cap)) << "try_push must fail exactly at capacity";
    for (std::size_t i = 0; i < cap; ++i) {
      std::size_t out = 0;
      ASSERT_TRUE(q.try_pop(out));
      EXPECT_EQ(out, i);
    }
    EXPECT_TRUE(q.empty());
  }
}

TEST(SpscQueueBasics, SequencesWrapAroundTwoToThe64) {
  // Start 5 below 2^64: the sequences wrap through zero during the test.
  const std::uint64_t start = std::numeric_limits<std::uint64_t>::max() - 4;
  SpscQueue<std::uint64_t> q(4, Overflow::Block, StartSequence{start});
  std::uint64_t next_push = 0, next_pop = 0;
  for (int round = 0; round < 50; ++round) {
    while (q.try_push(next_push)) ++next_push;
    EXPECT_EQ(q.size(), 4u);
    EXPECT_TRUE(q.full());
    for (int k = 0; k < 3; ++k) {
      std::uint64_t out = 0;
      ASSERT_TRUE(q.try_pop(out));
      ASSERT_EQ(out, next_pop++);
    }
  }
  std::uint64_t out = 0;
  while (q.try_pop(out)) ASSERT_EQ(out, next_pop++);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_EQ(q.stats().pushed, next_push) << "stats are relative to the start sequence";
}

TEST_F(LifecycleChecked, DestructorDestroysRemainingItems) {
  {
    SpscQueue<Tracked> q(8);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.try_emplace(i));
    Tracked t;
    ASSERT_TRUE(q.try_pop(t));
    EXPECT_EQ(life_counts().alive(), 5);  // 4 inside + t
  }
  // LifecycleChecked::TearDown asserts that the 4 left inside were destroyed with the queue.
}

TEST(SpscQueueBasics, MaskedIndexMatchesModulo) {
  // The index a sequence maps to is seq & (cap - 1); observe it through the zero-copy spans.
  for (std::size_t cap : {1u, 2u, 8u, 64u}) {
    SpscQueue<std::uint64_t> q(cap);
    const std::uint64_t* base = nullptr;
    for (std::uint64_t seq = 0; seq < 5 * cap + 3; ++seq) {
      ASSERT_TRUE(q.try_push(seq));
      std::uint64_t* p = q.front();
      ASSERT_NE(p, nullptr);
      if (seq == 0) base = p;
      EXPECT_EQ(static_cast<std::uint64_t>(p - base), seq % cap) << "cap " << cap << " seq " << seq;
      q.pop();
    }
  }
}

// ---- beyond the seed's plan ----------------------------------------------------------------------

TEST(SpscQueue, MoveOnlyTypeRoundTrips) {
  SpscQueue<std::unique_ptr<int>> q(4);
  ASSERT_TRUE(q.try_push(std::make_unique<int>(7)));
  ASSERT_TRUE(q.try_emplace(new int(8)));
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 7);
  auto second = q.try_pop();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(**second, 8);
}

TEST(SpscQueue, FailedTryPushLeavesTheArgumentIntact) {
  SpscQueue<std::unique_ptr<int>> q(1);
  ASSERT_TRUE(q.try_push(std::make_unique<int>(1)));
  auto p = std::make_unique<int>(2);
  EXPECT_FALSE(q.try_push(std::move(p)));
  ASSERT_NE(p, nullptr) << "a rejected rvalue must not be moved from";
  EXPECT_EQ(*p, 2);
}

// Counts since construction of the Delta: exact constructions/copies/moves/destructions of one call.
struct Delta {
  long c0 = life_counts().constructed, d0 = life_counts().destroyed;
  long k0 = life_counts().copies, m0 = life_counts().moves;
  long constructed() const { return life_counts().constructed - c0; }
  long destroyed() const { return life_counts().destroyed - d0; }
  long copies() const { return life_counts().copies - k0; }
  long moves() const { return life_counts().moves - m0; }
};

TEST_F(LifecycleChecked, LifecycleCountsAreExactPerCall) {
  SpscQueue<Tracked> q(4);
  Tracked a(1);
  {
    Delta d;
    ASSERT_TRUE(q.try_push(a));  // one copy-construction into the slot
    EXPECT_EQ(d.constructed(), 1);
    EXPECT_EQ(d.copies(), 1);
    EXPECT_EQ(d.destroyed(), 0);
  }
  {
    Delta d;
    ASSERT_TRUE(q.try_push(Tracked(2)));  // the temporary + one move-construction; the temporary dies
    EXPECT_EQ(d.constructed(), 2);
    EXPECT_EQ(d.moves(), 1);
    EXPECT_EQ(d.destroyed(), 1);
  }
  Tracked out;
  {
    Delta d;
    ASSERT_TRUE(q.try_pop(out));  // one move-assignment out, one destruction of the slot
    EXPECT_EQ(d.constructed(), 0);
    EXPECT_EQ(d.moves(), 1);
    EXPECT_EQ(d.destroyed(), 1);
    EXPECT_EQ(out.value(), 1);
  }
  {
    Delta d;
    auto got = q.try_pop();  // one move-construction into the optional, one destruction of the slot
    EXPECT_EQ(d.constructed(), 1);
    EXPECT_EQ(d.destroyed(), 1);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->value(), 2);
  }
  EXPECT_EQ(life_counts().alive(), 2) << "a and out";
}

TEST_F(LifecycleChecked, ThrowingConstructorLeavesQueueUnchanged) {
  using ringkit::test::ThrowCountdown;
  using ringkit::test::ThrowingOnCopy;
  {
    SpscQueue<ThrowingOnCopy> q(4);
    ThrowingOnCopy a(1), b(2);
    ASSERT_TRUE(q.try_push(a));
    ThrowCountdown::arm(0);  // the next construction throws
    EXPECT_THROW((void)q.try_push(b), std::runtime_error);
    ThrowCountdown::disarm();
    EXPECT_EQ(q.size(), 1u) << "a failed construction must publish nothing";
    ASSERT_TRUE(q.try_push(b));  // still usable
    EXPECT_EQ(q.size(), 2u);
    ThrowingOnCopy out(0);
    ThrowCountdown::arm(0);  // the next copy-assignment throws: the item must stay in the queue
    EXPECT_THROW((void)q.try_pop(out), std::runtime_error);
    ThrowCountdown::disarm();
    EXPECT_EQ(q.size(), 2u);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value(), 1);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value(), 2);
  }
  ringkit::test::ThrowCountdown::disarm();
}

TEST_F(LifecycleChecked, PushBatchRollsBackOnThrowAndKeepsTheCallersItems) {
  using ringkit::test::ThrowCountdown;
  using ringkit::test::ThrowingOnCopy;
  // A copyable type whose move may throw: push_batch copies (move_if_noexcept), so a throw half-way
  // leaves the caller's items exactly as they were and the queue empty.
  struct MayThrowOnMove {
    ThrowingOnCopy v;
    explicit MayThrowOnMove(long x) : v(x) {}
    MayThrowOnMove(const MayThrowOnMove&) = default;
    MayThrowOnMove(MayThrowOnMove&& o) : v(o.v) {}
    MayThrowOnMove& operator=(const MayThrowOnMove&) = default;
  };
  static_assert(!std::is_nothrow_move_constructible_v<MayThrowOnMove>);
  {
    SpscQueue<MayThrowOnMove> q(8);
    std::vector<MayThrowOnMove> items;
    for (long i = 0; i < 5; ++i) items.emplace_back(i);
    ThrowCountdown::arm(3);  // the 4th construction throws
    EXPECT_THROW((void)q.push_batch(items), std::runtime_error);
    ThrowCountdown::disarm();
    EXPECT_EQ(q.size(), 0u);
    for (long i = 0; i < 5; ++i) EXPECT_EQ(items[static_cast<std::size_t>(i)].v.value(), i) << "caller's item intact";
    EXPECT_EQ(q.push_batch(items), 5u);
    for (long i = 0; i < 5; ++i) {
      ASSERT_NE(q.front(), nullptr);
      EXPECT_EQ(q.front()->v.value(), i);
      q.pop();
    }
  }
}

template <class T>
concept can_pop_batch = requires(SpscQueue<T>& q, std::span<T> s) { q.pop_batch(s); };

TEST(SpscQueue, PopBatchNeedsANothrowMoveAssignment) {
  static_assert(!can_pop_batch<ringkit::test::ThrowingOnCopy>);
  static_assert(can_pop_batch<std::string>);
  static_assert(can_pop_batch<std::unique_ptr<int>>);
  SUCCEED();
}

TEST(SpscQueue, CapacityTooLargeForMemoryIsRejectedBeforeAllocating) {
  try {
    SpscQueue<std::uint64_t> q(std::size_t{1} << 61);  // 2^64 bytes would wrap size_t
    ADD_FAILURE() << "accepted";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(std::size_t{1} << 61)), std::string::npos) << e.what();
  }
  EXPECT_THROW(SpscQueue<std::uint64_t>(std::size_t{1} << 63), std::invalid_argument) << "above 2^62";
}

TEST(SpscQueue, AStaleClaimCannotBeCommitted) {
  SpscQueue<int> q(8);
  auto claim = q.try_claim(2);
  ASSERT_EQ(claim.size(), 2u);
  claim[0] = 1;
  ASSERT_TRUE(q.try_push(99));  // takes the slot the claim pointed at
  EXPECT_THROW(q.commit(1), std::logic_error);
  EXPECT_EQ(q.size(), 1u);
  q.commit(0);  // committing nothing is always fine
  int x = 0;
  ASSERT_TRUE(q.try_pop(x));
  EXPECT_EQ(x, 99);
}

TEST(SpscQueue, ConsumeCallbacksMayUseTheConsumerSide) {
  SpscQueue<int> q(8);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push(i));
  std::size_t sizes = 0;
  EXPECT_EQ(q.consume(2, [&](int&) { sizes += q.size(); (void)q.front(); }), 2u);
  EXPECT_EQ(sizes, 8u) << "size() is 4 during both callbacks: slots are freed after fn returns";
  EXPECT_EQ(q.size(), 2u);
}

TEST(SpscQueue, ThrowingAndNothrowConstructionAreBothAllowed) {
  static_assert(!std::is_nothrow_copy_constructible_v<ringkit::test::ThrowingOnCopy>);
  static_assert(noexcept(std::declval<SpscQueue<int>&>().capacity()));
  SpscQueue<ringkit::test::ThrowingOnCopy> q(2);  // compiles: SPSC publishes after constructing
  EXPECT_EQ(q.capacity(), 2u);
}

TEST(SpscQueue, PushBatchMovesInWhatFitsWithOnePublish) {
  SpscQueue<std::unique_ptr<int>> q(8);
  std::vector<std::unique_ptr<int>> in;
  for (int i = 0; i < 11; ++i) in.push_back(std::make_unique<int>(i));
  EXPECT_EQ(q.push_batch(in), 8u);
  EXPECT_EQ(q.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(in[static_cast<std::size_t>(i)], nullptr) << "moved in";
  for (int i = 8; i < 11; ++i) ASSERT_NE(in[static_cast<std::size_t>(i)], nullptr) << "left alone";
  std::vector<std::unique_ptr<int>> out(5);
  EXPECT_EQ(q.pop_batch(out), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*out[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(q.push_batch(std::span(in).subspan(8)), 3u);  // wraps around the end of the slot array
  std::vector<std::unique_ptr<int>> rest(10);
  EXPECT_EQ(q.pop_batch(rest), 6u);
  const int expect[] = {5, 6, 7, 8, 9, 10};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(*rest[i], expect[i]);
  EXPECT_EQ(q.pop_batch(rest), 0u);
}

TEST(SpscQueue, ClaimAndCommitHandOutTwoSpansAtTheWrap) {
  SpscQueue<std::uint32_t> q(8);
  for (std::uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(q.try_push(i));
  std::uint32_t sink[6];
  ASSERT_EQ(q.pop_batch(sink), 6u);  // read/write at index 6 now
  ringkit::SlotSpans<std::uint32_t> claim = q.try_claim(5);
  ASSERT_EQ(claim.size(), 5u);
  EXPECT_EQ(claim.first.size(), 2u) << "slots 6,7 before the wrap";
  EXPECT_EQ(claim.second.size(), 3u) << "slots 0,1,2 after it";
  for (std::uint32_t i = 0; i < 5; ++i) claim[i] = 100 + i;
  EXPECT_TRUE(q.empty()) << "nothing is visible before commit";
  q.commit(4);  // publish only four of the five
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.try_claim(100).size(), 4u) << "claims are bounded by free space";
  EXPECT_THROW(q.commit(5), std::logic_error) << "more than the claim handed out";
  std::vector<std::uint32_t> seen;
  EXPECT_EQ(q.consume(10, [&](std::uint32_t& v) { seen.push_back(v); }), 4u);
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{100, 101, 102, 103}));
  EXPECT_TRUE(q.empty());
}

// Single pops go by the slots' marks and batch calls by write_ (the header's "Publication"): mixed, and
// across the 2^64 wrap with capacity 1 and 2 (a mark left from the previous lap must never pass for the
// current one), every call sees exactly what was published, in order.
TEST(SpscQueue, SinglePopsByMarkAndBatchCallsByIndexAgreeAcrossLapsAndTheWrap) {
  for (const std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{8}}) {
    SpscQueue<std::uint64_t> q(cap, Overflow::Block, StartSequence{std::numeric_limits<std::uint64_t>::max() - 6});
    std::uint64_t pushed = 0, popped = 0;
    std::vector<std::uint64_t> buf(cap);
    for (int round = 0; round < 40; ++round) {
      // Fill: single pushes, batches and a claim, by round.
      if (round % 3 == 0) {
        while (q.try_push(pushed)) ++pushed;
      } else if (round % 3 == 1) {
        for (std::size_t i = 0; i < cap; ++i) buf[i] = pushed + i;
        pushed += q.push_batch(buf);
      } else {
        auto spans = q.try_claim(cap);
        for (std::size_t i = 0; i < spans.size(); ++i) spans[i] = pushed + i;
        pushed += q.commit(spans.size());
      }
      ASSERT_EQ(q.size(), cap) << "round " << round;
      // Drain: one single pop (by mark), then the rest by a batch call, a peek or front().
      std::uint64_t out = ~std::uint64_t{0};
      ASSERT_TRUE(q.try_pop(out));
      ASSERT_EQ(out, popped++);
      if (round % 3 == 0) {
        const std::size_t n = q.pop_batch(buf);
        ASSERT_EQ(n, cap - 1) << "a batch after a single pop sees exactly the rest";
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(buf[i], popped++);
      } else if (round % 3 == 1) {
        auto spans = q.peek(cap);
        ASSERT_EQ(spans.size(), cap - 1);
        for (std::size_t i = 0; i < spans.size(); ++i) ASSERT_EQ(spans[i], popped++);
        q.pop_n(spans.size());
      } else {
        while (std::uint64_t* f = q.front()) {
          ASSERT_EQ(*f, popped++);
          q.pop();
        }
      }
      EXPECT_TRUE(q.empty());
      EXPECT_FALSE(q.try_pop(out)) << "an empty ring: the next slot's mark is from the previous lap";
      EXPECT_EQ(q.front(), nullptr);
    }
    const auto st = q.stats();
    EXPECT_EQ(st.pushed, pushed);
    EXPECT_EQ(st.popped, popped);
  }
}

// The marks start at the start sequence, which is no first-lap seq + 1: an empty queue started at
// 2^64 - 1 (whose first item's mark is 0) must not take a zeroed or stale mark for a published item.
TEST(SpscQueue, AnEmptyQueueStartedAtTheTopOfTheRangeHasNothingToPop) {
  for (const std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{8}}) {
    SpscQueue<std::uint64_t> q(cap, Overflow::Block, StartSequence{std::numeric_limits<std::uint64_t>::max()});
    std::uint64_t out = 7;
    EXPECT_FALSE(q.try_pop(out)) << "capacity " << cap;
    EXPECT_EQ(q.front(), nullptr);
    EXPECT_FALSE(q.try_pop().has_value());
    ASSERT_TRUE(q.try_push(41));
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, 41u);
    EXPECT_FALSE(q.try_pop(out)) << "the next slot's mark is still the initial one";
  }
}

// A publishing call marks only its first slot (with the end of its range), so a batch's other slots
// keep marks from laps ago. A single pop that reaches such a slot on an empty ring must not take an old
// mark for a new call's, however many laps old it is and across the 2^64 wrap; a later call that
// starts there is then taken whole through its one mark.
TEST(SpscQueue, ASlotWhoseMarkIsLapsOldHasNothingToPopUntilACallStartsThere) {
  constexpr std::size_t cap = 8;
  for (const std::uint64_t start : {std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max() - 20}) {
    SpscQueue<std::uint64_t> q(cap, Overflow::Block, StartSequence{start});
    std::uint64_t pushed = 0, popped = 0, out = 0;
    std::vector<std::uint64_t> buf(cap);
    // Lap 0: every slot gets a single push's mark.
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(q.try_push(pushed++));
    for (std::size_t i = 0; i < cap; ++i) {
      ASSERT_TRUE(q.try_pop(out));
      ASSERT_EQ(out, popped++);
    }
    for (int lap = 1; lap <= 5; ++lap) {
      // Whole-ring batches: only the first slot's mark (the one of sequence start + 8k) is rewritten;
      // the other seven keep lap 0's.
      for (std::size_t i = 0; i < cap; ++i) buf[i] = pushed++;
      ASSERT_EQ(q.push_batch(buf), cap);
      ASSERT_EQ(q.pop_batch(buf), cap);
      for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(buf[i], popped++);
    }
    ASSERT_TRUE(q.try_push(pushed++));  // the first slot (offset 0 from start, mod 8)
    ASSERT_TRUE(q.try_pop(out));
    ASSERT_EQ(out, popped++);
    // The ring is empty at offset 1, whose mark is six laps old.
    EXPECT_FALSE(q.try_pop(out)) << "start " << start;
    EXPECT_EQ(q.front(), nullptr);
    EXPECT_TRUE(q.empty());
    // A batch of 3 that starts at offset 1 is taken by single pops, in order, through its one mark.
    for (std::size_t i = 0; i < 3; ++i) buf[i] = pushed++;
    ASSERT_EQ(q.push_batch(std::span<std::uint64_t>(buf.data(), 3)), 3u);
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(q.try_pop(out)) << "item " << i;
      ASSERT_EQ(out, popped++);
    }
    EXPECT_FALSE(q.try_pop(out)) << "offset 4's mark is six laps old too";
    EXPECT_EQ(q.stats().pushed, pushed);
    EXPECT_EQ(q.stats().popped, popped);
  }
}

// A single pop at its cache's end that finds the next call published too asks the mark of the last call
// start on its 128-byte line of marks (16 marks), else walks the calls in order. Here the line's last slot is inside a batch (its
// mark a lap old) and a call crosses the line's end: single pops must take every item in order, and
// nothing past what was pushed.
TEST(SpscQueue, SinglePopsTakeEveryCallOnALineWhoseLastSlotIsInsideABatch) {
  constexpr std::size_t cap = 32;
  for (const std::uint64_t start : {std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max() - 40}) {
    SpscQueue<std::uint64_t> q(cap, Overflow::Block, StartSequence{start});
    std::uint64_t pushed = 0, popped = 0, out = 0;
    std::vector<std::uint64_t> buf(cap);
    const auto push_batch = [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) buf[i] = pushed + i;
      ASSERT_EQ(q.push_batch(std::span<std::uint64_t>(buf.data(), n)), n);
      pushed += n;
    };
    const auto pop_all = [&] {
      while (q.try_pop(out)) ASSERT_EQ(out, popped++);
      EXPECT_EQ(popped, pushed) << "start " << start;
    };
    // Lap 0: every slot marked by a single push.
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(q.try_push(pushed++));
    pop_all();
    // Then three shapes (line positions as for start 0; the other start shifts them by 7): singles around
    // a batch that covers a line's last slot, a batch that ends exactly at a line's end, a call that
    // crosses it.
    ASSERT_TRUE(q.try_push(pushed++));
    ASSERT_TRUE(q.try_push(pushed++));
    push_batch(20);
    ASSERT_TRUE(q.try_push(pushed++));
    pop_all();
    push_batch(9);  // the rest of the lap
    pop_all();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.try_push(pushed++));
    push_batch(11);  // ends at a line's end (offsets 5..15 of its line)
    push_batch(6);   // the next line
    pop_all();
    push_batch(14);  // crosses the line's end
    ASSERT_TRUE(q.try_push(pushed++));
    pop_all();
    // A batch that starts at a line's last slot, after singles: a trailing pop takes the line by that
    // batch's mark, whose end lies on the next line.
    while (((start + pushed) & 15) != 15) ASSERT_TRUE(q.try_push(pushed++));
    push_batch(4);
    pop_all();
    EXPECT_FALSE(q.try_pop(out));
    EXPECT_EQ(q.stats().pushed, pushed);
  }
}

TEST(SpscQueue, PeekAndPopNReadInPlace) {
  SpscQueue<std::string> q(4);
  for (const char* s : {"a", "b", "c"}) ASSERT_TRUE(q.try_push(std::string(s)));
  auto spans = q.peek(2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0], "a");
  EXPECT_EQ(spans[1], "b");
  EXPECT_EQ(q.size(), 3u) << "peek does not consume";
  q.pop_n(2);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_THROW(q.pop_n(2), std::out_of_range) << "only one item is left";
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), "c");
  q.pop();
  EXPECT_EQ(q.front(), nullptr);
}

TEST(SpscQueue, ConsumeKeepsUnfinishedItemsWhenFnThrows) {
  SpscQueue<int> q(8);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.try_push(i));
  int calls = 0;
  EXPECT_THROW(q.consume(5,
                         [&](int& v) {
                           if (v == 2) throw std::runtime_error("stop");
                           ++calls;
                         }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(q.size(), 3u) << "0 and 1 consumed; 2 (the one that threw), 3, 4 remain";
  int x = -1;
  ASSERT_TRUE(q.try_pop(x));
  EXPECT_EQ(x, 2);
}

TEST(SpscQueue, DropNewestRejectsAndCounts) {
  SpscQueue<std::unique_ptr<int>> q(2, Overflow::DropNewest);
  EXPECT_EQ(q.push(std::make_unique<int>(1)), PushResult::Pushed);
  EXPECT_EQ(q.push(std::make_unique<int>(2)), PushResult::Pushed);
  auto third = std::make_unique<int>(3);
  EXPECT_EQ(q.push(std::move(third)), PushResult::Dropped);
  ASSERT_NE(third, nullptr) << "a dropped item stays with the caller";
  EXPECT_EQ(q.stats().dropped, 1u);
  EXPECT_EQ(q.stats().pushed, 2u);
}

// emplace() and size_approx(): the verbs every queue spells the same (README, "One verb set").
TEST(SpscQueue, EmplaceBuildsTheItemAndAppliesThePolicy) {
  SpscQueue<std::string> q(2, Overflow::DropNewest);
  EXPECT_EQ(q.emplace(std::size_t{3}, 'a'), PushResult::Pushed);
  EXPECT_EQ(q.emplace("b"), PushResult::Pushed);
  EXPECT_EQ(q.size_approx(), 2u);
  EXPECT_EQ(q.emplace("c"), PushResult::Dropped);
  std::string out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, "aaa");
  EXPECT_EQ(q.size_approx(), 1u);
  q.close();
  EXPECT_EQ(q.emplace("d"), PushResult::Closed);
}

TEST(SpscQueue, UnsupportedOverflowPoliciesAreRejectedWithAReason) {
  for (Overflow o : {Overflow::DropOldest, Overflow::SpillToDisk}) {
    try {
      SpscQueue<int> q(4, o);
      ADD_FAILURE() << "accepted " << ringkit::to_string(o);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(ringkit::to_string(o)), std::string::npos) << e.what();
    }
  }
}

TEST(SpscQueue, ClosedQueueRejectsPushesAndDrains) {
  SpscQueue<int> q(4);
  EXPECT_EQ(q.push(1), PushResult::Pushed);
  EXPECT_EQ(q.push(2), PushResult::Pushed);
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(q.push(3), PushResult::Closed);
  int x = 0;
  ASSERT_TRUE(q.pop(x));
  EXPECT_EQ(x, 1);
  ASSERT_TRUE(q.pop(x));
  EXPECT_EQ(x, 2);
  EXPECT_FALSE(q.pop(x)) << "closed and drained";
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::milliseconds(1)));
}

template <class Wait>
class SpscBlocking : public ::testing::Test {};
using AllWaits = ::testing::Types<ringkit::BusySpin, ringkit::Yielding, ringkit::Sleeping, ringkit::Blocking>;
TYPED_TEST_SUITE(SpscBlocking, AllWaits);

TYPED_TEST(SpscBlocking, TimedCallsTimeOutAndLeaveTheItem) {
  SpscQueue<int, TypeParam> q(1);
  int x = 0;
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::milliseconds(2)));
  ASSERT_EQ(q.push(1), PushResult::Pushed);
  EXPECT_EQ(q.try_push_for(2, std::chrono::milliseconds(2)), PushResult::TimedOut);
  EXPECT_EQ(q.size(), 1u);
  ASSERT_TRUE(q.try_pop_for(x, std::chrono::milliseconds(2)));
  EXPECT_EQ(x, 1);
}

TYPED_TEST(SpscBlocking, TimeoutsWithNarrowAndExtremeDurationsTerminate) {
  SpscQueue<int, TypeParam> q(1);
  int x = 0;
  // A 32-bit count of microseconds cannot represent time_point::max() - now; it must not wrap into
  // "wait forever".
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::duration<int, std::micro>(1000)));
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::duration<int, std::milli>(1)));
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::nanoseconds(0)));
  EXPECT_FALSE(q.try_pop_for(x, std::chrono::seconds(-5)));
  ASSERT_EQ(q.push(1), PushResult::Pushed);
  EXPECT_EQ(q.try_push_for(2, std::chrono::duration<short, std::milli>(1)), PushResult::TimedOut);
  EXPECT_TRUE(q.try_pop_for(x, std::chrono::hours::max())) << "an item is there: no wait at all";
}

TYPED_TEST(SpscBlocking, CloseWakesABlockedConsumerAndABlockedProducer) {
  {
    SpscQueue<int, TypeParam> q(1);
    std::thread consumer([&] {
      int x = 0;
      EXPECT_FALSE(q.pop(x));  // parks (or spins) until close()
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.close();
    consumer.join();
  }
  {
    SpscQueue<int, TypeParam> q(1);
    ASSERT_EQ(q.push(0), PushResult::Pushed);
    std::thread producer([&] { EXPECT_EQ(q.push(1), PushResult::Closed); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.close();
    producer.join();
  }
}

TYPED_TEST(SpscBlocking, BlockingTransferDeliversEverythingInOrder) {
  const std::uint64_t n = ringkit::test::scaled(100'000);
  SpscQueue<std::uint64_t, TypeParam> q(2);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(q.push(i), PushResult::Pushed);
    q.close();
  });
  std::uint64_t expect = 0, x = 0;
  while (q.pop(x)) ASSERT_EQ(x, expect++);
  producer.join();
  EXPECT_EQ(expect, n);
}

TEST(SpscQueue, LayoutKeepsProducerAndConsumerIndicesApart) {
  using Q = SpscQueue<int>;
  static_assert(alignof(Q) >= ringkit::detail::kFalseSharingRange);
  static_assert(sizeof(Q) >= 4 * ringkit::detail::kFalseSharingRange);
  Q q(4);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&q) % ringkit::detail::kFalseSharingRange, 0u);
}

#ifdef RINGKIT_CHECK_ROLES
// Two threads push and pop the same SpscQueue until the role check aborts (or 30 s pass).
void misuse_from_two_threads() {
  SpscQueue<int> q(1024);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto hammer = [&] {
    while (std::chrono::steady_clock::now() < give_up) {
      (void)q.try_push(1);
      int x;
      (void)q.try_pop(x);
    }
  };
  std::thread a(hammer);
  std::thread b(hammer);
  a.join();
  b.join();  // reaching here (no abort in 30 s) fails the death test
}

TEST(SpscQueueDeathTest, TwoConcurrentProducersAbortInDebugBuilds) {
  if (ringkit::test::under_tsan()) GTEST_SKIP() << "TSan reports the misuse itself, before the role check";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(misuse_from_two_threads(), "two threads are in the (producer|consumer) role");
}
#endif

}  // namespace
