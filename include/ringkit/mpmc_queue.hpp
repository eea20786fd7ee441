// SPDX-License-Identifier: MIT
#pragma once
// MpmcQueue<T, Wait>: a bounded, pre-allocated multi-producer / multi-consumer ring (Vyukov's bounded
// queue with a capacity-1-safe turn encoding). Items move by value into pre-allocated slots.
//
//   ringkit::MpmcQueue<Job> q(4096);
//   q.push(job);                 // any thread; applies the overflow policy
//   Job j; while (q.pop(j)) {}   // any thread; false once closed and drained
//
// Thread roles: any number of producers and consumers concurrently. Producers and consumers each claim
// positions with one CAS (on tail / head) per item or per batch. Memory contract, linearizability, FIFO
// (per producer, in claim order), spurious failures and the slot protocol: see detail/slot_queue.hpp
// and docs/mpmc-design.md. Element types must satisfy NothrowQueueElement.
#include "ringkit/detail/slot_queue.hpp"

namespace ringkit {

template <NothrowQueueElement T, WaitStrategy Wait = Yielding>
class MpmcQueue : public detail::SlotQueue<T, Wait, true> {
  using Base = detail::SlotQueue<T, Wait, true>;

 public:
  using Base::Base;
};

}  // namespace ringkit
