// SPDX-License-Identifier: MIT
#pragma once
// SpillLayer<T>: the Overflow::SpillToDisk layer of a SlotQueue (SpillingMpscQueue, SpillingMpmcQueue in
// ringkit/spilling_queue.hpp). The ring calls it through six hooks (detail/slot_queue.hpp, "Overflow
// layers"); everything about files, codecs and the spill mutex lives here, so the plain queues compile
// none of it.
//
// Spill routing (per-producer FIFO, docs/mpmc-design.md "Spill"): once anything is spilled, every later
// push goes to the spill until it is drained; the consumer reads the spill only while the ring holds no
// claimed position, under the same mutex the producers append under.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "ringkit/policy.hpp"
#include "ringkit/spill.hpp"

namespace ringkit::detail {

template <class T>
class SpillLayer {
 public:
  static constexpr bool kSpills = true;

  SpillLayer() noexcept = default;  // a spilling queue built with a non-spill policy: the layer stays idle
  explicit SpillLayer(std::unique_ptr<SpillChannel<T>> channel) : state_(new State(std::move(channel))) {}
  SpillLayer(SpillLayer&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  SpillLayer& operator=(SpillLayer&&) = delete;
  ~SpillLayer() { delete state_; }

  // Checks the options and builds the channel; throws std::invalid_argument naming what is wrong.
  template <class C>
  static SpillLayer make(const char* queue, SpillOptions options, C codec) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.directory, ec)) {
      throw std::invalid_argument(std::string(queue) + ": spill directory '" + options.directory.string() +
                                  "' is not an existing directory" + (ec ? " (" + ec.message() + ")" : ""));
    }
    if (options.max_record_bytes == 0 || options.max_record_bytes > SpillFile::kMaxRecordLimit) {
      throw std::invalid_argument(std::string(queue) + ": SpillOptions::max_record_bytes " +
                                  std::to_string(options.max_record_bytes) + " is not in [1, 2^30]");
    }
    return SpillLayer(std::make_unique<SpillChannelImpl<T, C>>(std::move(options), std::move(codec)));
  }

  // ---- hooks the ring calls (detail/slot_queue.hpp) ----
  // Producer try paths: while the spill holds items, new items must queue behind them.
  bool blocks_ring() const noexcept {
    // acquire: pairs with the releases in push() (true) and take() (false); a hint: a stale value only
    // sends one try_push to the ring, or refuses it, once.
    return state_ != nullptr && active_.load(std::memory_order_acquire);
  }

  // push() under Overflow::SpillToDisk: the ring if the spill is idle and the ring has room, else the file.
  template <class Ring, class V>
  PushResult push(Ring& ring, V&& value) {
    // acquire: pairs with the release below; a stale `false` only means we try the ring first.
    if (!active_.load(std::memory_order_acquire) && ring.emplace_ring(std::forward<V>(value))) {
      return PushResult::Pushed;
    }
    {
      std::lock_guard lock(state_->mutex);
      // relaxed: under the mutex, which orders every write of the flag.
      if (!active_.load(std::memory_order_relaxed) && ring.emplace_ring(std::forward<V>(value))) {
        return PushResult::Pushed;
      }
      // Under the mutex: a consumer that saw closed() takes it before it trusts an inactive spill
      // (drained_after_close()), so either it sees our record or we see the closed bit here.
      if (ring.tail_closed()) return PushResult::Closed;
      const std::error_code ec = state_->channel->append(std::as_const(value));
      if (ec) {
        state_->error = ec;
        state_->error_message = state_->channel->detail();
        return PushResult::Error;
      }
      // relaxed: a statistic written under the mutex.
      state_->spilled.store(state_->spilled.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      // release: pairs with the acquire loads in push()/take()/readable().
      active_.store(true, std::memory_order_release);
    }
    ring.not_empty_.notify();
    return PushResult::Spilled;
  }

  // Consumer, after the ring came up empty: hands the oldest spilled item to deliver(T&&); false if none
  // may be read now (nothing spilled, or the ring still holds claimed positions).
  template <class Ring, class Deliver>
  bool take(Ring& ring, Deliver&& deliver) {
    if (state_ == nullptr) return false;
    // acquire: pairs with the release in push() (the mutex below does the real ordering).
    if (!active_.load(std::memory_order_acquire)) return false;
    std::optional<T> item;
    {
      std::lock_guard lock(state_->mutex);
      if (!active_.load(std::memory_order_relaxed)) return false;  // relaxed: under the mutex
      // Ring first: a producer's ring item is always claimed before its later spilled items are read.
      if (!ring.ring_drained()) return false;
      std::error_code ec;
      switch (state_->channel->read(item, ec)) {
        case SpillChannel<T>::Read::Item:
          // relaxed: a statistic written under the mutex.
          state_->unspilled.store(state_->unspilled.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
          break;
        case SpillChannel<T>::Read::Error:
          state_->error = ec;
          state_->error_message = state_->channel->detail();
          break;
        case SpillChannel<T>::Read::Empty:
          break;
      }
      if (state_->channel->empty()) {
        // release: pairs with the acquire loads of the flag (a stale `true` only costs a lock).
        active_.store(false, std::memory_order_release);
        ring.not_full_.notify_all();
      }
    }
    if (!item) return false;
    deliver(std::move(*item));
    return true;
  }

  // The consumer's wake-up hint: true if take() may succeed now. The spill is readable only once the
  // ring holds no claimed position; hinting earlier would make a Blocking consumer spin, not park.
  // Every change to "drained" is a publish (which notifies) or a claim of a published slot: a waiter that
  // has not parked yet sees it in its own re-check, and a parked one is woken by the claimant
  // (SlotQueue::hand_on_spill()), so waiting on this hint loses no wake-up.
  template <class Ring>
  bool readable(const Ring& ring) const noexcept {
    // acquire: pairs with the release in push().
    return state_ != nullptr && active_.load(std::memory_order_acquire) && ring.ring_drained();
  }

  // After close() (the caller saw the bit): true if the spill holds nothing and never will again. Under
  // the spill mutex, so a push() either appended before (we see it active) or checks the closed bit
  // after us and refuses.
  bool drained_after_close() const {
    if (state_ == nullptr) return true;
    std::lock_guard lock(state_->mutex);
    return !active_.load(std::memory_order_relaxed);  // relaxed: under the mutex
  }

  // stats(): the spill's counters; its reads count as pops.
  void add_stats(QueueStats& s) const noexcept {
    if (state_ == nullptr) return;
    // relaxed: statistics written under the spill mutex; a snapshot.
    s.spilled = state_->spilled.load(std::memory_order_relaxed);
    s.unspilled = state_->unspilled.load(std::memory_order_relaxed);
    s.popped += s.unspilled;
  }

  // ---- the spilling queues' observers (ringkit/spilling_queue.hpp documents them) ----
  std::error_code last_error() const {
    if (state_ == nullptr) return {};
    std::lock_guard lock(state_->mutex);
    return state_->error;
  }
  std::string last_error_message() const {
    if (state_ == nullptr) return {};
    std::lock_guard lock(state_->mutex);
    return state_->error_message;
  }
  std::filesystem::path path() const {
    if (state_ == nullptr) return {};
    std::lock_guard lock(state_->mutex);
    return state_->channel->current_path();
  }
  std::uint64_t discarded_bytes() const {
    if (state_ == nullptr) return 0;
    std::lock_guard lock(state_->mutex);
    return state_->channel->discarded_bytes();
  }
  std::uint64_t discarded_records() const {
    if (state_ == nullptr) return 0;
    std::lock_guard lock(state_->mutex);
    return state_->channel->discarded_records();
  }
  std::uint64_t pending() const {
    if (state_ == nullptr) return 0;
    std::lock_guard lock(state_->mutex);  // the discarded count is guarded by it; a consistent snapshot
    // relaxed: statistics, written under the mutex we hold.
    return state_->spilled.load(std::memory_order_relaxed) - state_->unspilled.load(std::memory_order_relaxed) -
           state_->channel->discarded_records();
  }

 private:
  struct State {
    explicit State(std::unique_ptr<SpillChannel<T>> c) : channel(std::move(c)) {}
    mutable std::mutex mutex;
    std::unique_ptr<SpillChannel<T>> channel;  // guarded by mutex
    std::error_code error;                     // guarded by mutex
    std::string error_message;                 // guarded by mutex
    std::atomic<std::uint64_t> spilled{0};     // written under mutex, read anywhere
    std::atomic<std::uint64_t> unspilled{0};   // written under mutex, read anywhere
  };

  // Both members sit on the ring's read-mostly line (SlotQueue places the layer next to closed_).
  std::atomic<bool> active_{false};  // the spill holds records: route pushes there
  State* state_ = nullptr;           // null: the queue was built with a non-spill policy
};

}  // namespace ringkit::detail
