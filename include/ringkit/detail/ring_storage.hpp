#pragma once
// The ring storage every queue shares: the padded, over-aligned slot array (and, with it, the largest
// capacity whose byte size fits in size_t). A queue owns its slot array and names its own slot type
// (SpscQueue: T itself; the slot queues: a turn word plus storage for T).
#include <algorithm>
#include <cstddef>
#include <limits>

#include "ringkit/detail/aligned_new.hpp"
#include "ringkit/detail/cache_line.hpp"

namespace ringkit::detail {

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
