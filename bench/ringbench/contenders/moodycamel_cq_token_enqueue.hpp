// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::ConcurrentQueue as its users run it (issue 8): pre-sized (capacity elements, one explicit
// producer per producer thread), a ProducerToken / ConsumerToken per thread, and the normal enqueue(),
// which allocates a new block when the pre-sized pool runs out instead of failing. The queue is
// therefore unbounded: a producer faster than its consumer grows it (memory is bounded by the run's item
// count). Dequeue is try-only upstream, retried by the harness. Batches: enqueue_bulk / try_dequeue_bulk.
// The try_enqueue variant (no allocation after the pool) stays as moodycamel::ConcurrentQueue+tokens.
#include <concurrentqueue/concurrentqueue.h>
#include <cstddef>
#include <iterator>
#include <span>
#include <stdexcept>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelCqTokenEnqueue {
  static constexpr const char* kName = "moodycamel::ConcurrentQueue+tokens (enqueue)";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kBatch | kPerProducerFifo;

  MoodycamelCqTokenEnqueue(std::size_t capacity, unsigned producers, unsigned) : q(capacity, producers, 0) {}

  struct Producer {
    explicit Producer(MoodycamelCqTokenEnqueue& owner) : q(owner.q), token(owner.q) {}
    void push(T&& item) {
      // enqueue() fails only when memory allocation fails: that is an error, not a retry.
      if (!q.enqueue(token, std::move(item))) throw std::runtime_error("ConcurrentQueue::enqueue could not allocate");
    }
    std::size_t try_push_batch(std::span<T> items) {
      if (!q.enqueue_bulk(token, std::make_move_iterator(items.begin()), items.size())) {
        throw std::runtime_error("ConcurrentQueue::enqueue_bulk could not allocate");
      }
      return items.size();
    }
    moodycamel::ConcurrentQueue<T>& q;
    moodycamel::ProducerToken token;
  };
  struct Consumer {
    explicit Consumer(MoodycamelCqTokenEnqueue& owner) : q(owner.q), token(owner.q) {}
    void pop(T& out) { retry([&] { return q.try_dequeue(token, out); }); }
    std::size_t try_pop_batch(std::span<T> out) { return q.try_dequeue_bulk(token, out.begin(), out.size()); }
    moodycamel::ConcurrentQueue<T>& q;
    moodycamel::ConsumerToken token;
  };

  moodycamel::ConcurrentQueue<T> q;
};

}  // namespace ringbench::contenders
