// SPDX-License-Identifier: MIT
#pragma once
// The benchmark payload: N bytes carrying (producer, index) in its first word. Items bigger than one
// word also carry a check word at the end, so a torn copy of the payload is caught by the consumer.
#include <array>
#include <cstddef>
#include <cstdint>

namespace ringbench {

inline constexpr unsigned kIndexBits = 48;
inline constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;

template <std::size_t N>
struct Item {
  static_assert(N >= 16 && N % 8 == 0);
  std::uint64_t tag;  // producer << kIndexBits | index
  std::array<std::uint64_t, N / 8 - 1> body;
};

template <>
struct Item<8> {
  std::uint64_t tag;
};

inline constexpr std::uint64_t kCheckSalt = 0x9e3779b97f4a7c15ULL;

template <std::size_t N>
inline Item<N> make_item(std::uint64_t producer, std::uint64_t index) noexcept {
  Item<N> item{};
  item.tag = producer << kIndexBits | index;
  if constexpr (N > 8) item.body.back() = item.tag ^ kCheckSalt;
  return item;
}

// False when the payload is torn (its check word does not match its tag).
template <std::size_t N>
inline bool item_intact(const Item<N>& item) noexcept {
  if constexpr (N > 8) return item.body.back() == (item.tag ^ kCheckSalt);
  return true;
}

inline constexpr std::uint64_t producer_of(std::uint64_t tag) noexcept { return tag >> kIndexBits; }
inline constexpr std::uint64_t index_of(std::uint64_t tag) noexcept { return tag & kIndexMask; }

}  // namespace ringbench
