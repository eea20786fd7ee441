// SPDX-License-Identifier: MIT
#pragma once
// Iteration counts for stress tests: full size in the normal (Release) build, scaled down under
// sanitizers (RINGKIT_SANITIZER=asan|tsan, set by the ctest presets) so `make test` stays fast.
// Only counts are scaled, never assertions.
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace ringkit::test {

inline bool under_sanitizer() {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return true;
#else
  const char* s = std::getenv("RINGKIT_SANITIZER");
  return s != nullptr && *s != '\0';
#endif
}

inline bool under_tsan() {
#if defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

// `full` in a normal build, full / divisor under a sanitizer (at least 1).
inline std::uint64_t scaled(std::uint64_t full, std::uint64_t divisor = 20) {
  if (!under_sanitizer()) return full;
  const std::uint64_t n = full / divisor;
  return n ? n : 1;
}

}  // namespace ringkit::test
