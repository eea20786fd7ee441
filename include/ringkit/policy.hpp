// SPDX-License-Identifier: MIT
#pragma once
// Vocabulary shared by every queue: what push() does when the ring is full, what it reports, and the
// counters stats() returns.
#include <cstdint>
#include <string_view>

namespace ringkit {

// What the blocking push() does when the ring is full. try_push() never applies a policy: it fails.
enum class Overflow : std::uint8_t {
  Block,        // wait for space, by the queue's wait strategy
  DropNewest,   // reject the new item (PushResult::Dropped); the caller keeps it
  DropOldest,   // evict the oldest unread item to make room (MPSC/MPMC only)
  SpillToDisk,  // append to a spill file, re-delivered in order (MPSC/MPMC only)
};

enum class PushResult : std::uint8_t {
  Pushed,    // in the ring
  Dropped,   // rejected under Overflow::DropNewest; the item was not consumed
  Spilled,   // written to the spill file under Overflow::SpillToDisk
  Closed,    // the queue was closed; the item was not consumed
  Error,     // an I/O error (spill); the item was not consumed; see the queue's last_error()
  TimedOut,  // try_push_for() ran out of time; the item was not consumed
};

constexpr std::string_view to_string(PushResult r) noexcept {
  switch (r) {
    case PushResult::Pushed: return "Pushed";
    case PushResult::Dropped: return "Dropped";
    case PushResult::Spilled: return "Spilled";
    case PushResult::Closed: return "Closed";
    case PushResult::Error: return "Error";
    case PushResult::TimedOut: return "TimedOut";
  }
  return "?";
}

constexpr std::string_view to_string(Overflow o) noexcept {
  switch (o) {
    case Overflow::Block: return "Block";
    case Overflow::DropNewest: return "DropNewest";
    case Overflow::DropOldest: return "DropOldest";
    case Overflow::SpillToDisk: return "SpillToDisk";
  }
  return "?";
}

// A snapshot of a queue's counters. Taken without stopping the queue, so fields are individually
// accurate but not one atomic cut: pushed - popped may briefly disagree with size().
struct QueueStats {
  std::uint64_t pushed = 0;         // items that entered the ring (including later-evicted ones)
  std::uint64_t popped = 0;         // items handed to a consumer
  std::uint64_t dropped = 0;        // rejected under DropNewest
  std::uint64_t evicted = 0;        // overwritten under DropOldest
  std::uint64_t spilled = 0;        // written to the spill file
  std::uint64_t unspilled = 0;      // read back from the spill file
  std::uint64_t blocked_waits = 0;  // times push() or pop() had to wait
  std::uint64_t high_water = 0;     // largest size observed by a producer
};

}  // namespace ringkit
