// SPDX-License-Identifier: MIT
#pragma once
// xenium::vyukov_bounded_queue (Debian libxenium-dev 0.0.2, header-only, <xenium/vyukov_bounded_queue.hpp>):
// Vyukov's bounded MPMC queue, one sequence number per slot. Its API is try-only (try_push / try_pop, the
// strong variants by default: a pop waits for a push that claimed an earlier slot), so the harness
// retries, as a user's loop would. Capacity: a power of two (ringbench's --capacity always is).
// Order: a slot's sequence carries the lap, so items leave in claim order: per-producer FIFO holds for
// every consumer, and ringbench checks it.
#include <cstddef>
#include <utility>
#include <xenium/vyukov_bounded_queue.hpp>

#include "ringbench/contender.hpp"

namespace ringbench::contenders {

template <class T>
struct XeniumVyukov {
  static constexpr const char* kName = "xenium::vyukov_bounded_queue";
  static constexpr const char* kFamily = "xenium";
  static constexpr unsigned kCaps = kMultiProducer | kMultiConsumer | kPerProducerFifo;

  XeniumVyukov(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { retry([&] { return q.try_push(std::move(item)); }); }
  void pop(T& out) { retry([&] { return q.try_pop(out); }); }

  xenium::vyukov_bounded_queue<T> q;
};

}  // namespace ringbench::contenders
