// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::BlockingConcurrentQueue: try_enqueue retried (its enqueue() would allocate), its own
// blocking wait_dequeue (lightweight semaphore: spin, then park); bulk calls for batches.
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <cstddef>
#include <iterator>
#include <span>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelBcq {
  static constexpr const char* kName = "moodycamel::BlockingConcurrentQueue";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kBatch | kPerProducerFifo;

  MoodycamelBcq(std::size_t capacity, unsigned producers, unsigned) : q(capacity, 0, producers) {}
  void push(T&& item) { retry([&] { return q.try_enqueue(item); }); }
  void pop(T& out) { q.wait_dequeue(out); }
  std::size_t try_push_batch(std::span<T> items) {
    return q.try_enqueue_bulk(std::make_move_iterator(items.begin()), items.size()) ? items.size() : 0;
  }
  std::size_t try_pop_batch(std::span<T> out) { return q.try_dequeue_bulk(out.begin(), out.size()); }

  moodycamel::BlockingConcurrentQueue<T> q;
};

}  // namespace ringbench::contenders
