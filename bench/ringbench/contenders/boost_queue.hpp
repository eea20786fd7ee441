// SPDX-License-Identifier: MIT
#pragma once
// boost::lockfree::queue (Michael-Scott, node free list preallocated to `capacity`): bounded_push never
// allocates; both calls are try-only and retried by the harness.
#include <boost/lockfree/queue.hpp>
#include <cstddef>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct BoostQueue {
  static constexpr const char* kName = "boost::lockfree::queue";
  static constexpr const char* kFamily = "boost";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kPerProducerFifo;

  BoostQueue(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { retry([&] { return q.bounded_push(item); }); }
  void pop(T& out) { retry([&] { return q.pop(out); }); }

  boost::lockfree::queue<T> q;
};

}  // namespace ringbench::contenders
