// SPDX-License-Identifier: MIT
#pragma once
// ringkit::MpscLaneQueue (when the tree has it): one lane per producer thread through a Producer handle,
// the like-for-like peer of moodycamel::ConcurrentQueue with a ProducerToken. Lane capacity: the run's
// capacity divided among the producers (rounded down to a power of two, at least 64), so the slots in all
// lanes together are no more than MpscQueue's ring. push()/pop() are the queue's blocking calls (Yielding);
// batches: Producer::push_batch / pop_batch with the harness retry. MPSC tables only (one consumer, and
// kMultiTablesOnly: it adds nothing to the 1:1 tables).
#if __has_include("ringkit/mpsc_lane_queue.hpp")
#define RINGBENCH_HAVE_RINGKIT_LANES 1
#include <algorithm>
#include <bit>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "ringbench/contender.hpp"
#include "ringkit/mpsc_lane_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringbench::contenders {

template <class T>
struct RingkitMpscLanes {
  static constexpr const char* kName = "ringkit::MpscLaneQueue<Yielding>";
  static constexpr const char* kFamily = "ringkit";
  static constexpr unsigned kCaps = kMultiProducer | kBatch | kPerProducerFifo | kMultiTablesOnly;

  static std::size_t lane_capacity(std::size_t capacity, unsigned producers) {
    return std::max<std::size_t>(64, std::bit_floor(capacity / std::max(1u, producers)));
  }
  RingkitMpscLanes(std::size_t capacity, unsigned producers, unsigned)
      : q(std::max(1u, producers), lane_capacity(capacity, producers)) {}

  struct Producer {
    explicit Producer(RingkitMpscLanes& owner) : handle(owner.q.make_producer()) {}
    void push(T&& item) {
      if (handle.push(std::move(item)) != ringkit::PushResult::Pushed) {
        throw std::runtime_error(std::string(kName) + "::push refused an item");
      }
    }
    std::size_t try_push_batch(std::span<T> items) { return handle.push_batch(items); }
    typename ringkit::MpscLaneQueue<T, ringkit::Yielding>::Producer handle;
  };
  void pop(T& out) {
    if (!q.pop(out)) throw std::runtime_error(std::string(kName) + "::pop returned false on an open queue");
  }
  std::size_t try_pop_batch(std::span<T> out) { return q.pop_batch(out); }

  ringkit::MpscLaneQueue<T, ringkit::Yielding> q;
};

}  // namespace ringbench::contenders
#endif
