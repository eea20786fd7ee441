// SPDX-License-Identifier: MIT
#pragma once
// oneTBB concurrent_bounded_queue: its own blocking push/pop (spin, then park on a concurrent_monitor).
#include <cstddef>
#include <tbb/concurrent_queue.h>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct TbbBounded {
  static constexpr const char* kName = "tbb::concurrent_bounded_queue";
  static constexpr const char* kFamily = "tbb";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kPerProducerFifo;

  TbbBounded(std::size_t capacity, unsigned, unsigned) { q.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  void push(T&& item) { q.push(std::move(item)); }
  void pop(T& out) { q.pop(out); }

  tbb::concurrent_bounded_queue<T> q;
};

}  // namespace ringbench::contenders
