// SPDX-License-Identifier: MIT
#pragma once
// ringkit::MpscQueue and ringkit::MpmcQueue (when the tree has them), one row per wait strategy that
// matters for them in the MPSC/MPMC tables: Yielding (default), BusySpin, Blocking. In the 1:1 tables
// (SPSC, batch, latency, sizes) only the Yielding row appears. push()/pop() are the queues' own
// blocking calls; push_batch/pop_batch (with the harness retry) for batches.
#if __has_include("ringkit/mpsc_queue.hpp") && __has_include("ringkit/mpmc_queue.hpp")
#define RINGBENCH_HAVE_RINGKIT_MP 1
#include <cstddef>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "ringbench/contender.hpp"
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringbench::contenders {

template <template <class, class> class Queue, class Wait> struct RingkitMpName;
template <> struct RingkitMpName<ringkit::MpscQueue, ringkit::Yielding> { static constexpr const char* k = "ringkit::MpscQueue<Yielding>"; };
template <> struct RingkitMpName<ringkit::MpscQueue, ringkit::BusySpin> { static constexpr const char* k = "ringkit::MpscQueue<BusySpin>"; };
template <> struct RingkitMpName<ringkit::MpscQueue, ringkit::Blocking> { static constexpr const char* k = "ringkit::MpscQueue<Blocking>"; };
template <> struct RingkitMpName<ringkit::MpmcQueue, ringkit::Yielding> { static constexpr const char* k = "ringkit::MpmcQueue<Yielding>"; };
template <> struct RingkitMpName<ringkit::MpmcQueue, ringkit::BusySpin> { static constexpr const char* k = "ringkit::MpmcQueue<BusySpin>"; };
template <> struct RingkitMpName<ringkit::MpmcQueue, ringkit::Blocking> { static constexpr const char* k = "ringkit::MpmcQueue<Blocking>"; };

template <class T, template <class, class> class Queue, class Wait, unsigned Caps>
struct RingkitMp {
  static constexpr const char* kName = RingkitMpName<Queue, Wait>::k;
  static constexpr const char* kFamily = "ringkit";
  static constexpr unsigned kCaps =
      Caps | kPerProducerFifo | (std::is_same_v<Wait, ringkit::Yielding> ? static_cast<unsigned>(kBatch)
                                                                          : static_cast<unsigned>(kMultiTablesOnly));

  RingkitMp(std::size_t capacity, unsigned, unsigned) : q(capacity, ringkit::Overflow::Block) {}
  void push(T&& item) {
    if constexpr (std::is_same_v<decltype(q.push(std::move(item))), ringkit::PushResult>) {
      if (q.push(std::move(item)) != ringkit::PushResult::Pushed) throw std::runtime_error(std::string(kName) + "::push refused an item");
    } else {
      q.push(std::move(item));
    }
  }
  void pop(T& out) {
    if constexpr (std::is_same_v<decltype(q.pop(out)), bool>) {
      if (!q.pop(out)) throw std::runtime_error(std::string(kName) + "::pop returned false on an open queue");
    } else {
      q.pop(out);
    }
  }
  std::size_t try_push_batch(std::span<T> items) { return q.push_batch(items); }
  std::size_t try_pop_batch(std::span<T> out) { return q.pop_batch(out); }

  Queue<T, Wait> q;
};

template <class T> using RingkitMpscYielding = RingkitMp<T, ringkit::MpscQueue, ringkit::Yielding, kMultiProducer>;
template <class T> using RingkitMpscBusySpin = RingkitMp<T, ringkit::MpscQueue, ringkit::BusySpin, kMultiProducer>;
template <class T> using RingkitMpscBlocking = RingkitMp<T, ringkit::MpscQueue, ringkit::Blocking, kMultiProducer>;
template <class T> using RingkitMpmcYielding = RingkitMp<T, ringkit::MpmcQueue, ringkit::Yielding, kMultiProducer | kMultiConsumer>;
template <class T> using RingkitMpmcBusySpin = RingkitMp<T, ringkit::MpmcQueue, ringkit::BusySpin, kMultiProducer | kMultiConsumer>;
template <class T> using RingkitMpmcBlocking = RingkitMp<T, ringkit::MpmcQueue, ringkit::Blocking, kMultiProducer | kMultiConsumer>;

}  // namespace ringbench::contenders
#endif
