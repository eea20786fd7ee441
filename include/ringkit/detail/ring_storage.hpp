// SPDX-License-Identifier: MIT
#pragma once
// The ring storage every queue shares: the capacity check, the padded, over-aligned slot array (and,
// with it, the largest capacity whose byte size fits in size_t), and the start-sequence test hook. A
// queue owns its slot array and names its own slot type (SpscQueue: T itself; the slot queues: a turn
// word plus storage for T).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "ringkit/detail/aligned_new.hpp"
#include "ringkit/detail/cache_line.hpp"

namespace ringkit::detail {

// Test hook (not API): start both sequences at `value` instead of 0 (e.g. near 2^64 to exercise
// wrap-around). Every queue has a constructor (capacity, overflow, StartSequence).
struct StartSequence {
  std::uint64_t value = 0;
};

// Validates a ring capacity: a non-zero power of two, at most 2^62, and at most `max_slots` (what the
// slot array's byte size can represent). Throws std::invalid_argument / std::length_error naming it.
inline std::size_t checked_capacity(std::size_t capacity, const char* queue,
                                    std::size_t max_slots = std::numeric_limits<std::size_t>::max()) {
  if (capacity == 0 || (capacity & (capacity - 1)) != 0) {
    throw std::invalid_argument(std::string(queue) + ": capacity must be a non-zero power of two, got " +
                                std::to_string(capacity));
  }
  if (capacity > (std::size_t{1} << 62)) {
    throw std::invalid_argument(std::string(queue) + ": capacity " + std::to_string(capacity) +
                                " is larger than 2^62");
  }
  if (capacity > max_slots) {
    throw std::length_error(std::string(queue) + ": capacity " + std::to_string(capacity) +
                            " slots do not fit in the address space");
  }
  return capacity;
}

template <class Slot>
struct PaddedSlots {
  // Dead slots either side, so a neighbouring heap block never shares a false-sharing range with a slot.
  static constexpr std::size_t kPad = (kFalseSharingRange + sizeof(Slot) - 1) / sizeof(Slot);
  static constexpr std::size_t kAlign = std::max(alignof(Slot), kFalseSharingRange);
  // Largest capacity whose padded slot array's size in bytes does not overflow size_t.
  static constexpr std::size_t kMaxSlots = std::numeric_limits<std::size_t>::max() / sizeof(Slot) - 2 * kPad;

  // Raw storage for `capacity` slots (the caller constructs them); capacity <= kMaxSlots.
  static Slot* allocate(std::size_t capacity) {
    void* raw = aligned_allocate(sizeof(Slot) * (capacity + 2 * kPad), kAlign);
    return static_cast<Slot*>(raw) + kPad;
  }
  static void deallocate(Slot* slots, std::size_t capacity) noexcept {
    aligned_deallocate(static_cast<void*>(slots - kPad), sizeof(Slot) * (capacity + 2 * kPad), kAlign);
  }
};

}  // namespace ringkit::detail
