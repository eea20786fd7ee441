// SPDX-License-Identifier: MIT
#pragma once
// boost::lockfree::spsc_queue (runtime capacity): try-only API, retried by the harness; array push/pop
// for batches.
#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <span>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct BoostSpsc {
  static constexpr const char* kName = "boost::lockfree::spsc_queue";
  static constexpr const char* kFamily = "boost";
  static constexpr unsigned kCaps = kBatch | kPerProducerFifo;

  BoostSpsc(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { retry([&] { return q.push(item); }); }
  void pop(T& out) { retry([&] { return q.pop(out); }); }
  std::size_t try_push_batch(std::span<T> items) { return q.push(items.data(), items.size()); }
  std::size_t try_pop_batch(std::span<T> out) { return q.pop(out.data(), out.size()); }

  boost::lockfree::spsc_queue<T> q;
};

}  // namespace ringbench::contenders
