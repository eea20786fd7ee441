// SPDX-License-Identifier: MIT
#pragma once
// The adapter contract every contender (bench/ringbench/contenders/<name>.hpp) implements, and the
// helpers the harness uses to drive it. Adding a contender = one adapter file + one registry line
// (src/registry.cpp).
//
//   template <class T> struct MyQueue {
//     static constexpr const char* kName = "lib::Queue";   // the row label in every report
//     static constexpr const char* kFamily = "lib";        // "ringkit" rows are highlighted
//     static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kBatch | kPerProducerFifo;
//     MyQueue(std::size_t capacity, unsigned producers, unsigned consumers);
//     void push(T&& item);                        // returns once the item is in (spin/yield/park inside)
//     void pop(T& out);                           // returns once an item came out
//     std::size_t try_push_batch(std::span<T>);   // kBatch only: how many leading items went in (0: none)
//     std::size_t try_pop_batch(std::span<T>);    // kBatch only: how many came out (0: empty)
//     // optional per-thread handles (e.g. moodycamel tokens): struct Producer { explicit Producer(MyQueue&);
//     // push / try_push_batch }; struct Consumer { explicit Consumer(MyQueue&); pop / try_pop_batch };
//   };
// Try-only APIs retry with ringbench::retry() (spin, then yield) so every contender waits the same way
// unless the library brings its own blocking call, which is then used (that is what users call).
#include <cstddef>
#include <span>

#include "ringbench/backoff.hpp"

namespace ringbench {

enum Caps : unsigned {
  kMultiProducer = 1u << 0,   // several threads may push at once
  kMultiConsumer = 1u << 1,   // several threads may pop at once
  kBatch = 1u << 2,           // try_push_batch / try_pop_batch
  kPerProducerFifo = 1u << 3, // each consumer sees each producer's items in push order
  kMultiTablesOnly = 1u << 4, // a variant that only matters with several threads per side: left out of
                              // the 1:1 tables (SPSC, batch, latency, sizes)
};

// Runs fn(handle) with the queue's per-thread producer handle, or the queue itself when it has none.
template <class Q, class Fn>
void with_producer(Q& q, Fn&& fn) {
  if constexpr (requires { typename Q::Producer; }) {
    typename Q::Producer handle(q);
    fn(handle);
  } else {
    fn(q);
  }
}

template <class Q, class Fn>
void with_consumer(Q& q, Fn&& fn) {
  if constexpr (requires { typename Q::Consumer; }) {
    typename Q::Consumer handle(q);
    fn(handle);
  } else {
    fn(q);
  }
}

}  // namespace ringbench
