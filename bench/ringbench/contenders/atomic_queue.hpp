// SPDX-License-Identifier: MIT
#pragma once
// atomic_queue (Debian libatomic-queue-dev 0.0+git20220518): AtomicQueueB2<T, Allocator,
// MAXIMIZE_THROUGHPUT, TOTAL_ORDER, SPSC> - runtime capacity, any T.
//   AtomicQueueB2          try_push / try_pop, retried by the harness (upstream's RetryDecorator shape)
//   OptimistAtomicQueueB2  push() / pop(), which claim a slot index first and spin inside the slot
//                          (upstream's "optimist" benchmark variant; this header version has no alias)
//   ...<SPSC>              the same with SPSC = true (plain loads/stores instead of CAS on the indices)
// Order: with TOTAL_ORDER = false (the default, used here) the multi-producer variants do not promise
// FIFO: a producer that claimed slot i and was preempted lets a producer one lap ahead fill the same
// slot first (slot states carry no lap number). ringbench checks them for exactly-once delivery only.
#include <atomic_queue/atomic_queue.h>
#include <cstddef>
#include <memory>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T, bool Spsc, bool Optimist> struct AtomicQueueName;
template <class T> struct AtomicQueueName<T, false, false> { static constexpr const char* k = "atomic_queue::AtomicQueueB2"; };
template <class T> struct AtomicQueueName<T, false, true> { static constexpr const char* k = "atomic_queue::OptimistAtomicQueueB2"; };
template <class T> struct AtomicQueueName<T, true, false> { static constexpr const char* k = "atomic_queue::AtomicQueueB2<SPSC>"; };
template <class T> struct AtomicQueueName<T, true, true> { static constexpr const char* k = "atomic_queue::OptimistAtomicQueueB2<SPSC>"; };

template <class T, bool Spsc, bool Optimist>
struct AtomicQueueAdapter {
  static constexpr const char* kName = AtomicQueueName<T, Spsc, Optimist>::k;
  static constexpr const char* kFamily = "atomic_queue";
  static constexpr unsigned kCaps = Spsc ? static_cast<unsigned>(kPerProducerFifo) : static_cast<unsigned>(kMultiProducer | kMultiConsumer);

  AtomicQueueAdapter(std::size_t capacity, unsigned, unsigned) : q(static_cast<unsigned>(capacity)) {}
  void push(T&& item) {
    if constexpr (Optimist) {
      q.push(std::move(item));
    } else {
      retry([&] { return q.try_push(std::move(item)); });
    }
  }
  void pop(T& out) {
    if constexpr (Optimist) {
      out = q.pop();
    } else {
      retry([&] { return q.try_pop(out); });
    }
  }

  atomic_queue::AtomicQueueB2<T, std::allocator<T>, true, false, Spsc> q;
};

template <class T> using AtomicQueueB2 = AtomicQueueAdapter<T, false, false>;
template <class T> using OptimistAtomicQueueB2 = AtomicQueueAdapter<T, false, true>;
template <class T> using AtomicQueueB2Spsc = AtomicQueueAdapter<T, true, false>;
template <class T> using OptimistAtomicQueueB2Spsc = AtomicQueueAdapter<T, true, true>;

}  // namespace ringbench::contenders
