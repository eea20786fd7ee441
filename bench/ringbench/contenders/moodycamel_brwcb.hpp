// SPDX-License-Identifier: MIT
#pragma once
// moodycamel::BlockingReaderWriterCircularBuffer: its own blocking wait_enqueue / wait_dequeue
// (semaphores: spin briefly, then park).
#include <cstddef>
#include <readerwriterqueue/readerwritercircularbuffer.h>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MoodycamelBrwcb {
  static constexpr const char* kName = "moodycamel::BlockingReaderWriterCircularBuffer";
  static constexpr const char* kFamily = "moodycamel";
  static constexpr unsigned kCaps = kPerProducerFifo;

  MoodycamelBrwcb(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { q.wait_enqueue(std::move(item)); }
  void pop(T& out) { q.wait_dequeue(out); }

  moodycamel::BlockingReaderWriterCircularBuffer<T> q;
};

}  // namespace ringbench::contenders
