// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::ReaderWriterQueue: try_enqueue never allocates (bounded by the initial capacity); retried.
#include <cstddef>
#include <readerwriterqueue/readerwriterqueue.h>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelRwq {
  static constexpr const char* kName = "moodycamel::ReaderWriterQueue";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kPerProducerFifo;

  MoodycamelRwq(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { retry([&] { return q.try_enqueue(item); }); }
  void pop(T& out) { retry([&] { return q.try_dequeue(out); }); }

  moodycamel::ReaderWriterQueue<T> q;
};

}  // namespace ringbench::contenders
