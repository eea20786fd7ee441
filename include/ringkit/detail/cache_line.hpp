// SPDX-License-Identifier: MIT
#pragma once
// Sizes that keep independently written data off each other's cache lines.
#include <cstddef>

namespace ringkit::detail {

// Two lines, not one: x86's adjacent-line prefetcher pulls 128-byte pairs, so fields 64 bytes apart
// still ping-pong (crossbeam and folly pad to 128 on x86-64 for the same reason).
inline constexpr std::size_t kFalseSharingRange = 128;

}  // namespace ringkit::detail
