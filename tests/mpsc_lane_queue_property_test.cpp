// SPDX-License-Identifier: MIT
// Property test (rapidcheck, single-threaded) for MpscLaneQueue against a model of one std::deque per
// lane. Random sequences of try_push / push_batch / try_pop / pop_batch / handle release and re-acquire /
// close on random lane counts (1..4) and lane capacities (1..16), with positions starting at 0 or just
// below the 2^63 wrap. After every operation: a push succeeds exactly when the model's lane has room (and
// the queue is open); a pop returns the FRONT of some model lane (per-producer FIFO), and fails only when
// every lane is empty; pop_batch keeps each lane's order. At the end every pushed item was popped once or
// is still inside.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "ringkit/mpsc_lane_queue.hpp"

namespace ringkit::test {
namespace {

using Q = MpscLaneQueue<std::uint64_t, BusySpin>;

enum class OpKind : int { TryPush, PushBatch, TryPop, PopBatch, Release, Acquire, Close, kCount };

RC_GTEST_PROP(MpscLaneQueueProperty, MatchesPerLaneFifoModel, ()) {
  const auto lanes = *rc::gen::inRange<std::size_t>(1, 5);
  const auto cap = std::size_t{1} << *rc::gen::inRange(0, 5);
  const bool near_wrap = *rc::gen::arbitrary<bool>();
  Q q(lanes, cap, detail::StartSequence{near_wrap ? (std::uint64_t{1} << 63) - 7 : 0});
  std::vector<std::optional<Q::Producer>> handles(lanes);
  for (auto& h : handles) h.emplace(q.make_producer());
  std::vector<std::deque<std::uint64_t>> model(lanes);  // indexed by Producer::lane()
  std::vector<std::uint64_t> next(lanes, 0);            // per handle slot: next sequence number
  bool closed = false;
  std::uint64_t pushed = 0, popped = 0;

  const auto take = [&](std::uint64_t v) {
    const std::size_t lane = static_cast<std::size_t>(v >> 32);
    RC_ASSERT(lane < lanes);
    RC_ASSERT(!model[lane].empty());
    RC_ASSERT(model[lane].front() == v);  // per-lane FIFO: the oldest item of its lane
    model[lane].pop_front();
    ++popped;
  };

  const auto steps = *rc::gen::inRange(0, 200);
  for (int step = 0; step < steps; ++step) {
    const auto kind = static_cast<OpKind>(*rc::gen::inRange(0, static_cast<int>(OpKind::kCount)));
    const auto who = *rc::gen::inRange<std::size_t>(0, lanes);
    auto& h = handles[who];
    switch (kind) {
      case OpKind::TryPush: {
        if (!h) break;
        const std::size_t lane = h->lane();
        const std::uint64_t v = (std::uint64_t{lane} << 32) | next[lane];
        const bool ok = h->try_push(v);
        RC_ASSERT(ok == (!closed && model[lane].size() < cap));
        if (ok) {
          model[lane].push_back(v);
          ++next[lane];
          ++pushed;
        }
        break;
      }
      case OpKind::PushBatch: {
        if (!h) break;
        const std::size_t lane = h->lane();
        const auto n = *rc::gen::inRange<std::size_t>(0, 20);
        std::vector<std::uint64_t> items(n);
        for (std::size_t i = 0; i < n; ++i) items[i] = (std::uint64_t{lane} << 32) | (next[lane] + i);
        const std::size_t got = h->push_batch(items);
        const std::size_t want = closed ? 0 : std::min(n, cap - model[lane].size());
        RC_ASSERT(got == want);
        for (std::size_t i = 0; i < got; ++i) model[lane].push_back(items[i]);
        next[lane] += got;
        pushed += got;
        break;
      }
      case OpKind::TryPop: {
        std::uint64_t v = 0;
        const bool ok = q.try_pop(v);
        bool any = false;
        for (const auto& m : model) any = any || !m.empty();
        RC_ASSERT(ok == any);
        if (ok) take(v);
        break;
      }
      case OpKind::PopBatch: {
        const auto n = *rc::gen::inRange<std::size_t>(0, 40);
        std::vector<std::uint64_t> out(n);
        const std::size_t got = q.pop_batch(out);
        std::size_t inside = 0;
        for (const auto& m : model) inside += m.size();
        // One scan over the lanes, taking what each holds until out is full.
        RC_ASSERT(got == std::min(n, inside));
        for (std::size_t i = 0; i < got; ++i) take(out[i]);
        break;
      }
      case OpKind::Release:
        h.reset();  // its lane keeps its items; a later handle continues it
        break;
      case OpKind::Acquire:
        if (!h) {
          auto p = q.try_make_producer();
          RC_ASSERT(p.has_value());
          h.emplace(std::move(*p));
        } else {
          bool all_live = true;
          for (const auto& x : handles) all_live = all_live && x.has_value();
          if (all_live) RC_ASSERT(!q.try_make_producer().has_value());  // every lane has a live handle
        }
        break;
      case OpKind::Close:
        q.close();
        closed = true;
        break;
      case OpKind::kCount:
        break;
    }
    std::size_t inside = 0;
    for (const auto& m : model) inside += m.size();
    RC_ASSERT(q.size_approx() == inside);
  }
  // Drain: pop() (blocking) ends false once closed and empty.
  q.close();
  std::uint64_t v = 0;
  while (q.pop(v)) take(v);
  for (const auto& m : model) RC_ASSERT(m.empty());
  RC_ASSERT(popped == pushed);
}

}  // namespace
}  // namespace ringkit::test
