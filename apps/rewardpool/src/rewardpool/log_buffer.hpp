// SPDX-License-Identifier: MIT
#pragma once
// The WAL's in-memory log buffer between the actor (producer) and the I/O thread (consumer). Entries are
// decoded records (wal::Record, 40 bytes): the I/O thread encodes and checksums them, so the actor's
// share of logging is a 40-byte store per record. An entry of type Zero is a wake-up with no record.
//
//   VectorLogBuffer  a std::vector the actor appends a batch to under a mutex; the I/O thread swaps it
//                    for its own (empty, same capacity) vector: the "slice" of the Go original. After
//                    warm-up both vectors have the capacity they need and nothing is allocated.
//   RingLogBuffer    a ringkit::SpscQueue of pre-allocated entries: the actor claims slots and writes the
//                    records in place (try_claim/commit); the I/O thread reads them in place (peek) and
//                    frees them after the batch is written (pop_n). Bounded: a full ring makes the actor
//                    wait (back-pressure from the disk).
//
// A batch is handed to the I/O thread as up to three contiguous spans (the ring may wrap).
#include <array>
#include <chrono>
#include <condition_variable>
#include <concepts>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

#include "rewardpool/wal_format.hpp"
#include "ringkit/spsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace rewardpool {

using LogEntry = wal::Record;
static_assert(std::is_trivially_copyable_v<LogEntry> && std::is_trivially_default_constructible_v<LogEntry>);

struct LogBatch {
  std::array<std::span<LogEntry>, 3> parts{};
  [[nodiscard]] std::size_t size() const noexcept { return parts[0].size() + parts[1].size() + parts[2].size(); }
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& p : parts)
      for (LogEntry& e : p) fn(e);
  }
};

template <class B>
concept LogBuffer = requires(B& b, std::span<const LogEntry> entries, LogBatch& batch, std::chrono::nanoseconds timeout) {
  b.append(entries);  // actor
  // I/O thread: waits up to `timeout` for entries; false once closed and drained. `batch` may be empty.
  { b.next_batch(batch, timeout) } -> std::same_as<bool>;
  b.release_batch();  // I/O thread: done with the batch
  b.close();          // actor, after its last append
};

inline constexpr std::size_t kMaxIoBatch = 16384;

class VectorLogBuffer {
 public:
  explicit VectorLogBuffer(std::size_t initial_capacity) {
    pending_.reserve(initial_capacity);
    taken_.reserve(initial_capacity);
  }

  void append(std::span<const LogEntry> entries) {
    if (entries.empty()) return;
    bool wake;
    {
      std::lock_guard lock(mu_);
      pending_.insert(pending_.end(), entries.begin(), entries.end());
      wake = waiting_;
    }
    if (wake) cv_.notify_one();
  }

  bool next_batch(LogBatch& batch, std::chrono::nanoseconds timeout) {
    batch = {};
    std::unique_lock lock(mu_);
    if (pending_.empty() && !closed_) {
      waiting_ = true;
      cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || closed_; });
      waiting_ = false;
    }
    if (pending_.empty()) return !closed_;
    pending_.swap(taken_);  // taken_ was cleared (capacity kept) by release_batch()
    lock.unlock();
    batch.parts[0] = std::span<LogEntry>(taken_);
    return true;
  }

  void release_batch() { taken_.clear(); }

  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<LogEntry> pending_;  // guarded by mu_
  bool waiting_ = false;           // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  std::vector<LogEntry> taken_;    // I/O thread only
};

template <ringkit::WaitStrategy W = ringkit::Blocking>
class RingLogBuffer {
 public:
  explicit RingLogBuffer(std::size_t capacity) : q_(capacity, ringkit::Overflow::Block) {}

  void append(std::span<const LogEntry> entries) {
    std::size_t done = 0;
    while (done < entries.size()) {
      const ringkit::SlotSpans<LogEntry> slots = q_.try_claim(entries.size() - done);
      if (slots.empty()) {
        // Full: wait for the I/O thread by the ring's strategy (the blocking push waits on not_full).
        if (q_.push(entries[done]) != ringkit::PushResult::Pushed) return;  // closed: cannot happen (we close)
        ++done;
        continue;
      }
      for (std::size_t i = 0; i < slots.size(); ++i) slots[i] = entries[done + i];
      q_.commit(slots.size());
      done += slots.size();
    }
  }

  bool next_batch(LogBatch& batch, std::chrono::nanoseconds timeout) {
    batch = {};
    if (!q_.try_pop_for(first_, timeout)) {
      if (!q_.closed()) return true;  // timed out
      // Closed: the actor closes after its last append, so seeing closed() makes every append visible.
      if (!q_.try_pop(first_)) return false;
    }
    const ringkit::SlotSpans<LogEntry> rest = q_.peek(kMaxIoBatch - 1);
    batch.parts[0] = std::span<LogEntry>(&first_, 1);
    batch.parts[1] = rest.first;
    batch.parts[2] = rest.second;
    peeked_ = rest.size();
    return true;
  }

  void release_batch() {
    q_.pop_n(peeked_);
    peeked_ = 0;
  }

  void close() { q_.close(); }

 private:
  ringkit::SpscQueue<LogEntry, W> q_;
  LogEntry first_{};
  std::size_t peeked_ = 0;
};

static_assert(LogBuffer<VectorLogBuffer> && LogBuffer<RingLogBuffer<>>);

}  // namespace rewardpool
