// SPDX-License-Identifier: MIT
#pragma once
// ringkit::SpscQueue, one row per wait strategy: push()/pop() are the queue's own blocking calls, so
// the strategy is what waits (and Blocking's notify() runs on every publish). Plus one row driven
// through try_push/try_pop (and push_batch/pop_batch for batches) with the harness's retry.
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ringbench/contender.hpp"
#include "ringkit/spsc_queue.hpp"

namespace ringbench::contenders {

template <class Wait> struct RingkitWaitName;
template <> struct RingkitWaitName<ringkit::BusySpin> { static constexpr const char* kSpsc = "ringkit::SpscQueue<BusySpin>"; };
template <> struct RingkitWaitName<ringkit::Yielding> { static constexpr const char* kSpsc = "ringkit::SpscQueue<Yielding>"; };
template <> struct RingkitWaitName<ringkit::Sleeping> { static constexpr const char* kSpsc = "ringkit::SpscQueue<Sleeping>"; };
template <> struct RingkitWaitName<ringkit::Blocking> { static constexpr const char* kSpsc = "ringkit::SpscQueue<Blocking>"; };

template <class T, class Wait>
struct RingkitSpsc {
  static constexpr const char* kName = RingkitWaitName<Wait>::kSpsc;
  static constexpr const char* kFamily = "ringkit";
  // No kBatch here: batches go through push_batch/pop_batch + the harness retry whatever the strategy,
  // so the batch table has one ringkit SpscQueue row (RingkitSpscTry).
  static constexpr unsigned kCaps = kPerProducerFifo;

  RingkitSpsc(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) {
    if (q.push(std::move(item)) != ringkit::PushResult::Pushed) throw std::runtime_error("SpscQueue::push refused an item");
  }
  void pop(T& out) {
    if (!q.pop(out)) throw std::runtime_error("SpscQueue::pop returned false on an open queue");
  }

  ringkit::SpscQueue<T, Wait> q;
};

// The same queue driven through try_push/try_pop with the harness's retry (spin 128, then yield): what
// the peers with try-only APIs get. Separates the queue's data path from its wait-strategy path.
template <class T>
struct RingkitSpscTry {
  static constexpr const char* kName = "ringkit::SpscQueue (try_*/batch API)";
  static constexpr const char* kFamily = "ringkit";
  static constexpr unsigned kCaps = kBatch | kPerProducerFifo;

  RingkitSpscTry(std::size_t capacity, unsigned, unsigned) : q(capacity) {}
  void push(T&& item) { retry([&] { return q.try_push(std::move(item)); }); }
  void pop(T& out) { retry([&] { return q.try_pop(out); }); }
  std::size_t try_push_batch(std::span<T> items) { return q.push_batch(items); }
  std::size_t try_pop_batch(std::span<T> out) { return q.pop_batch(out); }

  ringkit::SpscQueue<T, ringkit::Yielding> q;
};

template <class T> using RingkitSpscBusySpin = RingkitSpsc<T, ringkit::BusySpin>;
template <class T> using RingkitSpscYielding = RingkitSpsc<T, ringkit::Yielding>;
template <class T> using RingkitSpscSleeping = RingkitSpsc<T, ringkit::Sleeping>;
template <class T> using RingkitSpscBlocking = RingkitSpsc<T, ringkit::Blocking>;

}  // namespace ringbench::contenders
