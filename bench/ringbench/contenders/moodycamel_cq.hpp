// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::ConcurrentQueue without tokens (implicit producers): try_enqueue (no allocation after the
// pre-sized block pool) and try_dequeue, retried; all-or-nothing bulk calls for batches.
#include <concurrentqueue/concurrentqueue.h>
#include <cstddef>
#include <iterator>
#include <span>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelCq {
  static constexpr const char* kName = "moodycamel::ConcurrentQueue";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kBatch | kPerProducerFifo;

  MoodycamelCq(std::size_t capacity, unsigned producers, unsigned) : q(capacity, 0, producers) {}
  void push(T&& item) { retry([&] { return q.try_enqueue(item); }); }
  void pop(T& out) { retry([&] { return q.try_dequeue(out); }); }
  std::size_t try_push_batch(std::span<T> items) {
    return q.try_enqueue_bulk(std::make_move_iterator(items.begin()), items.size()) ? items.size() : 0;
  }
  std::size_t try_pop_batch(std::span<T> out) { return q.try_dequeue_bulk(out.begin(), out.size()); }

  moodycamel::ConcurrentQueue<T> q;
};

}  // namespace ringbench::contenders
