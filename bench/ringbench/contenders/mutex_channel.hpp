// SPDX-License-Identifier: MIT
#pragma once
// The baseline naive code gives (and roughly what a Go channel is): a std::deque behind one std::mutex,
// bounded, with two std::condition_variables (not_full, not_empty) and notify_one after each change.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct MutexChannel {
  static constexpr const char* kName = "std::mutex+condvar+deque";
  static constexpr const char* kFamily = "std";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kPerProducerFifo;

  MutexChannel(std::size_t cap, unsigned, unsigned) : capacity(cap) {}
  void push(T&& item) {
    {
      std::unique_lock lock(mutex);
      not_full.wait(lock, [&] { return items.size() < capacity; });
      items.push_back(std::move(item));
    }
    not_empty.notify_one();
  }
  void pop(T& out) {
    {
      std::unique_lock lock(mutex);
      not_empty.wait(lock, [&] { return !items.empty(); });
      out = std::move(items.front());
      items.pop_front();
    }
    not_full.notify_one();
  }

  std::size_t capacity;
  std::mutex mutex;
  std::condition_variable not_full, not_empty;
  std::deque<T> items;
};

}  // namespace ringbench::contenders
