// SPDX-License-Identifier: MIT
// Property tests: random sequences of single, batch, claim/commit and peek/pop_n operations on an
// SpscQueue agree with a std::deque model.
#include "ringkit/spsc_queue.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

namespace {

using ringkit::SpscQueue;

enum class Op : std::uint8_t { Push, Pop, PushBatch, PopBatch, ClaimCommit, PeekPopN, Consume, Front };

struct Step {
  Op op;
  std::size_t n;  // batch size, where it applies
};

Step gen_step_value(int op, std::size_t n) { return Step{static_cast<Op>(op), n}; }

rc::Gen<std::vector<Step>> gen_steps() {
  return rc::gen::container<std::vector<Step>>(rc::gen::apply(
      gen_step_value, rc::gen::inRange(0, 8), rc::gen::inRange<std::size_t>(0, 20)));
}

// Start either at 0 or within a few hundred of the top of the 64-bit range, so wrap-around is covered.
rc::Gen<std::uint64_t> gen_start() {
  return rc::gen::oneOf(rc::gen::just<std::uint64_t>(0),
                        rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 300), [](std::uint64_t k) {
                          return std::numeric_limits<std::uint64_t>::max() - k;
                        }));
}

// Runs `steps` on a queue and the model; checks every property after every step.
void check_against_model(std::size_t capacity, std::uint64_t start, const std::vector<Step>& steps) {
  SpscQueue<std::uint64_t> q(capacity, ringkit::Overflow::Block, ringkit::detail::StartSequence{start});
  std::deque<std::uint64_t> model;
  std::uint64_t next = 1;
  std::uint64_t pushed = 0, popped = 0;
  auto take = [&](std::uint64_t got) {
    RC_ASSERT(!model.empty());
    RC_ASSERT(got == model.front());  // FIFO and no loss: exactly the oldest remaining value
    model.pop_front();
    ++popped;
  };
  for (const Step& s : steps) {
    switch (s.op) {
      case Op::Push: {
        const bool ok = q.try_push(next);
        RC_ASSERT(ok == (model.size() < capacity));  // fails exactly at capacity
        if (ok) { model.push_back(next); ++pushed; }
        ++next;
        break;
      }
      case Op::Pop: {
        std::uint64_t v = 0;
        const bool ok = q.try_pop(v);
        RC_ASSERT(ok == !model.empty());
        if (ok) take(v);
        break;
      }
      case Op::PushBatch: {
        std::vector<std::uint64_t> in(s.n);
        for (auto& v : in) v = next++;
        const std::size_t k = q.push_batch(in);
        RC_ASSERT(k == std::min(s.n, capacity - model.size()));
        for (std::size_t i = 0; i < k; ++i) model.push_back(in[i]);
        pushed += k;
        break;
      }
      case Op::PopBatch: {
        std::vector<std::uint64_t> out(s.n);
        const std::size_t k = q.pop_batch(out);
        RC_ASSERT(k == std::min(s.n, model.size()));
        for (std::size_t i = 0; i < k; ++i) take(out[i]);
        break;
      }
      case Op::ClaimCommit: {
        auto spans = q.try_claim(s.n);
        RC_ASSERT(spans.size() == std::min(s.n, capacity - model.size()));
        const std::size_t commit = spans.size() / 2 + (spans.size() & 1);  // publish a prefix of the claim
        for (std::size_t i = 0; i < spans.size(); ++i) spans[i] = next + i;
        q.commit(commit);
        for (std::size_t i = 0; i < commit; ++i) model.push_back(next + i);
        next += spans.size();
        pushed += commit;
        break;
      }
      case Op::PeekPopN: {
        auto spans = q.peek(s.n);
        RC_ASSERT(spans.size() == std::min(s.n, model.size()));
        for (std::size_t i = 0; i < spans.size(); ++i) RC_ASSERT(spans[i] == model[i]);
        q.pop_n(spans.size());
        for (std::size_t i = 0; i < spans.size(); ++i) { model.pop_front(); ++popped; }
        break;
      }
      case Op::Consume: {
        std::vector<std::uint64_t> seen;
        const std::size_t k = q.consume(s.n, [&](std::uint64_t& v) { seen.push_back(v); });
        RC_ASSERT(k == std::min(s.n, model.size()));
        RC_ASSERT(seen.size() == k);
        for (std::uint64_t v : seen) take(v);
        break;
      }
      case Op::Front: {
        std::uint64_t* f = q.front();
        RC_ASSERT((f != nullptr) == !model.empty());
        if (f) { take(*f); q.pop(); }
        break;
      }
    }
    // prop_len_never_exceeds_capacity, and the length is exact with no concurrent side.
    RC_ASSERT(q.size() <= capacity);
    RC_ASSERT(q.size() == model.size());
    RC_ASSERT(q.empty() == model.empty());
    RC_ASSERT(q.full() == (model.size() == capacity));
    // prop_write_seq_always_gte_read_seq: pushed - popped is the length, never negative.
    const auto st = q.stats();
    RC_ASSERT(st.pushed == pushed);
    RC_ASSERT(st.popped == popped);
    RC_ASSERT(st.pushed >= st.popped);
  }
  // prop_no_data_loss: draining yields exactly what the model still holds.
  std::uint64_t v = 0;
  while (q.try_pop(v)) take(v);
  RC_ASSERT(model.empty());
  RC_ASSERT(pushed == popped);
}

RC_GTEST_PROP(SpscQueueProperty, ItemsReadInFifoOrderWithLengthWithinCapacity, ()) {
  const std::size_t capacity = std::size_t{1} << *rc::gen::inRange(0, 6);
  check_against_model(capacity, *gen_start(), *gen_steps());
}

RC_GTEST_PROP(SpscQueueProperty, WriteSeqAlwaysGteReadSeqNearTheTopOfTheRange, ()) {
  const std::size_t capacity = std::size_t{1} << *rc::gen::inRange(0, 4);
  const std::uint64_t start = std::numeric_limits<std::uint64_t>::max() - *rc::gen::inRange<std::uint64_t>(0, 40);
  check_against_model(capacity, start, *gen_steps());
}

}  // namespace
