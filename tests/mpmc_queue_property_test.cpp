// SPDX-License-Identifier: MIT
// Property tests (rapidcheck, single-threaded) for MpscQueue and MpmcQueue, one per overflow policy,
// against a std::deque model (RELIABILITY row 10). Random sequences of push/try_push/try_emplace/
// push_batch/pop/try_pop/pop_batch/take_batch on random capacities (1..16) with sequences starting at 0
// or just below 2^64. After every operation the results must equal the model's; at the end
//   produced == consumed + dropped + evicted + left inside   and   stats() agrees with the model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spilling_queue.hpp"

namespace ringkit::test {
namespace {

enum class OpKind : int { Push, TryPush, TryEmplace, PushBatch, Pop, TryPopOpt, PopBatch, TakeBatch, kCount };

struct Op {
  OpKind kind;
  std::size_t n;  // batch size
};

rc::Gen<Op> gen_op() {
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::cast<OpKind>(rc::gen::inRange(0, static_cast<int>(OpKind::kCount)))),
                            rc::gen::set(&Op::n, rc::gen::inRange<std::size_t>(0, 20)));
}

struct Model {
  std::size_t capacity;
  Overflow overflow;
  std::deque<long> ring;   // what the ring holds, oldest first
  std::deque<long> spill;  // SpillToDisk: what the spill holds (after everything in the ring)
  std::uint64_t produced = 0, consumed = 0, dropped = 0, evicted = 0, pushed = 0, spilled = 0;

  bool ring_full() const { return ring.size() == capacity; }
  // try_* paths: no policy; fail when full or (SpillToDisk) while the spill holds items.
  bool try_push(long v) {
    if (ring_full() || !spill.empty()) return false;
    ring.push_back(v);
    ++pushed;
    return true;
  }
  PushResult push(long v) {
    if (overflow == Overflow::SpillToDisk && (!spill.empty() || ring_full())) {
      spill.push_back(v);
      ++spilled;
      return PushResult::Spilled;
    }
    if (!ring_full()) {
      ring.push_back(v);
      ++pushed;
      return PushResult::Pushed;
    }
    if (overflow == Overflow::DropNewest) {
      ++dropped;
      return PushResult::Dropped;
    }
    // DropOldest (Block never gets here: the test does not call push() on a full Block ring)
    ring.pop_front();
    ++evicted;
    ring.push_back(v);
    ++pushed;
    return PushResult::Pushed;
  }
  std::optional<long> pop() {
    std::deque<long>& from = !ring.empty() ? ring : spill;
    if (from.empty()) return std::nullopt;
    const long v = from.front();
    from.pop_front();
    ++consumed;
    return v;
  }
};

template <class Q>
void check(Q& q, Model& m, const std::vector<Op>& ops) {
  long next = 0;
  for (const Op& op : ops) {
    switch (op.kind) {
      case OpKind::Push:
        if (m.overflow == Overflow::Block && m.ring_full()) {
          RC_ASSERT(!q.try_push(next));
          break;
        }
        ++m.produced;
        RC_ASSERT(q.push(next) == m.push(next));
        ++next;
        break;
      case OpKind::TryPush:
      case OpKind::TryEmplace: {
        const bool got = op.kind == OpKind::TryPush ? q.try_push(next) : q.try_emplace(next);
        RC_ASSERT(got == m.try_push(next));
        if (got) {
          ++m.produced;
          ++next;
        }
        break;
      }
      case OpKind::PushBatch: {
        std::vector<long> items(op.n);
        for (std::size_t i = 0; i < op.n; ++i) items[i] = next + static_cast<long>(i);
        const std::size_t n = q.push_batch(items);
        std::size_t expect = 0;
        while (expect < op.n && m.try_push(items[expect])) ++expect;
        RC_ASSERT(n == expect);
        m.produced += n;
        next += static_cast<long>(n);
        break;
      }
      case OpKind::Pop: {
        long v = -1;
        const auto want = m.pop();
        RC_ASSERT(q.try_pop(v) == want.has_value());
        if (want) RC_ASSERT(v == *want);
        break;
      }
      case OpKind::TryPopOpt:
        RC_ASSERT(q.try_pop() == m.pop());
        break;
      case OpKind::PopBatch:
      case OpKind::TakeBatch: {
        std::vector<long> got(op.n, -1);
        std::size_t n = 0;
        if (op.kind == OpKind::PopBatch) {
          n = q.pop_batch(got);
        } else {
          n = q.take_batch(op.n, [&](long&& v) noexcept { got[n++] = v; });
        }
        // A batch reads the ring's run, or (ring empty) the spill: never both in one call.
        std::vector<long> want;
        const bool from_ring = !m.ring.empty();
        while (want.size() < op.n && (from_ring ? !m.ring.empty() : !m.spill.empty())) want.push_back(*m.pop());
        RC_ASSERT(n == want.size());
        got.resize(n);
        RC_ASSERT(got == want);
        break;
      }
      case OpKind::kCount:
        break;
    }
    RC_ASSERT(q.size() == m.ring.size());
  }
  const QueueStats s = q.stats();
  RC_ASSERT(s.pushed == m.pushed);
  RC_ASSERT(s.evicted == m.evicted);
  RC_ASSERT(s.dropped == m.dropped);
  RC_ASSERT(s.spilled == m.spilled);
  RC_ASSERT(s.popped == m.consumed);
  // Drain and check the books balance.
  while (auto v = q.try_pop()) {
    const auto want = m.pop();
    RC_ASSERT(want.has_value());
    RC_ASSERT(*v == *want);
  }
  RC_ASSERT(m.ring.empty() && m.spill.empty());
  RC_ASSERT(m.produced == m.consumed + m.dropped + m.evicted);
  const QueueStats e = q.stats();
  RC_ASSERT(e.popped + e.evicted + e.dropped == m.produced);
  RC_ASSERT(e.unspilled == e.spilled);
}

template <class Q>
void property(Overflow overflow) {
  const std::size_t capacity = std::size_t{1} << *rc::gen::inRange(0, 5);
  const bool near_wrap = *rc::gen::arbitrary<bool>();
  const std::uint64_t start = near_wrap ? ~std::uint64_t{0} - *rc::gen::inRange<std::uint64_t>(0, 40) : 0;
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
  Model m{capacity, overflow, {}, {}};
  if constexpr (std::is_constructible_v<Q, std::size_t, SpillOptions>) {  // a spilling queue
    if (overflow == Overflow::SpillToDisk) {
      const auto dir = std::filesystem::temp_directory_path();
      Q q(capacity, SpillOptions{.directory = dir}, TrivialCodec<long>{}, detail::StartSequence{start});
      check(q, m, ops);
      RC_ASSERT(q.spill_path().empty());  // drained: the file is gone
      RC_ASSERT(!q.last_error());
      return;
    }
  }
  Q q(capacity, overflow, detail::StartSequence{start});
  check(q, m, ops);
}

RC_GTEST_PROP(MpscQueueProperty, Block, ()) { property<MpscQueue<long>>(Overflow::Block); }
RC_GTEST_PROP(MpscQueueProperty, DropNewest, ()) { property<MpscQueue<long>>(Overflow::DropNewest); }
RC_GTEST_PROP(MpscQueueProperty, DropOldest, ()) { property<MpscQueue<long>>(Overflow::DropOldest); }
RC_GTEST_PROP(MpscQueueProperty, SpillToDisk, ()) { property<SpillingMpscQueue<long>>(Overflow::SpillToDisk); }
RC_GTEST_PROP(MpmcQueueProperty, Block, ()) { property<MpmcQueue<long>>(Overflow::Block); }
RC_GTEST_PROP(MpmcQueueProperty, DropNewest, ()) { property<MpmcQueue<long>>(Overflow::DropNewest); }
RC_GTEST_PROP(MpmcQueueProperty, DropOldest, ()) { property<MpmcQueue<long>>(Overflow::DropOldest); }
RC_GTEST_PROP(MpmcQueueProperty, SpillToDisk, ()) { property<SpillingMpmcQueue<long>>(Overflow::SpillToDisk); }

}  // namespace
}  // namespace ringkit::test
