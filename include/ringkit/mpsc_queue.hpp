// SPDX-License-Identifier: MIT
#pragma once
// MpscQueue<T, Wait>: a bounded, pre-allocated multi-producer / single-consumer ring. Items move by value
// into pre-allocated slots: no allocation after construction.
//
//   ringkit::MpscQueue<Event> q(1024);                          // Overflow::Block, Yielding waits
//   ringkit::MpscQueue<Event, ringkit::Blocking> q2(1024, ringkit::Overflow::DropOldest);
//   q.push(e);  q.pop(out);  q.close();
//
// Overflow::SpillToDisk is a separate type, SpillingMpscQueue (ringkit/spilling_queue.hpp): this header
// pulls in no file, mutex or spill code.
//
// Thread roles: any number of threads may call the producer functions (try_push, try_emplace, push,
// try_push_for, push_batch, push_batch_wait) concurrently; ONE thread at a time the consumer functions
// (try_pop, pop, try_pop_for, pop_batch, pop_batch_wait, wait_for_not_empty, take_batch, consume).
// Observers, close() and stats() from any thread.
// The consumer claims head with a plain store (no CAS) — except under Overflow::DropOldest, where
// evicting producers also take from head, so the consumer then uses the CAS path.
//
// Memory contract, linearizability, FIFO, spurious failures and the slot protocol: see
// detail/slot_queue.hpp and docs/mpmc-design.md. Element types must be nothrow-move-constructible and
// nothrow-destructible (NothrowQueueElement): a claimed multi-producer slot cannot be given back.
#include "ringkit/detail/slot_queue.hpp"

namespace ringkit {

template <NothrowQueueElement T, WaitStrategy Wait = Yielding>
class MpscQueue : public detail::SlotQueue<T, Wait, false> {
  using Base = detail::SlotQueue<T, Wait, false>;

 public:
  using Base::Base;
};

}  // namespace ringkit
