// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::ConcurrentQueue with a ProducerToken per producer thread and a ConsumerToken per consumer
// thread (its fast path); try-only calls retried; bulk calls for batches.
// Known limit, visible in the MPSC 4-producer table: explicit producers keep every block they ever took
// from the pre-sized pool, and one that found the pool empty before taking its first block can never
// enqueue with the non-allocating try_enqueue: that run ends as TIMEOUT (enqueue() would allocate).
// How users run it (normal enqueue(), which may allocate) is moodycamel_cq_token_enqueue.hpp.
#include <concurrentqueue/concurrentqueue.h>
#include <cstddef>
#include <iterator>
#include <span>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelCqToken {
  static constexpr const char* kName = "moodycamel::ConcurrentQueue+tokens";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kBatch | kPerProducerFifo;

  MoodycamelCqToken(std::size_t capacity, unsigned producers, unsigned) : q(capacity, producers, 0) {}

  struct Producer {
    explicit Producer(MoodycamelCqToken& owner) : q(owner.q), token(owner.q) {}
    void push(T&& item) { retry([&] { return q.try_enqueue(token, item); }); }
    std::size_t try_push_batch(std::span<T> items) {
      return q.try_enqueue_bulk(token, std::make_move_iterator(items.begin()), items.size()) ? items.size() : 0;
    }
    moodycamel::ConcurrentQueue<T>& q;
    moodycamel::ProducerToken token;
  };
  struct Consumer {
    explicit Consumer(MoodycamelCqToken& owner) : q(owner.q), token(owner.q) {}
    void pop(T& out) { retry([&] { return q.try_dequeue(token, out); }); }
    std::size_t try_pop_batch(std::span<T> out) { return q.try_dequeue_bulk(token, out.begin(), out.size()); }
    moodycamel::ConcurrentQueue<T>& q;
    moodycamel::ConsumerToken token;
  };

  moodycamel::ConcurrentQueue<T> q;
};

}  // namespace ringbench::contenders
