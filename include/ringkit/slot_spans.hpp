// SPDX-License-Identifier: MIT
#pragma once
// SlotSpans<T>: a run of ring slots handed out for zero-copy access. A run that crosses the end of the
// slot array comes as two contiguous pieces: `first` (up to the end) then `second` (from slot 0).
#include <cstddef>
#include <span>

namespace ringkit {

template <class T>
struct SlotSpans {
  std::span<T> first;
  std::span<T> second;

  [[nodiscard]] std::size_t size() const noexcept { return first.size() + second.size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  // The i-th slot of the run, 0 <= i < size().
  [[nodiscard]] T& operator[](std::size_t i) const noexcept {
    return i < first.size() ? first[i] : second[i - first.size()];
  }
};

}  // namespace ringkit
