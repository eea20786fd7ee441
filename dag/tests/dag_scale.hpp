// SPDX-License-Identifier: MIT
#pragma once
// The DAG tests' iteration counts: full size in a normal build, divided under a sanitizer so `make test`
// stays fast. Only counts change, never an assertion.
#include <cstdint>
#include <cstdlib>

namespace ringkit::dag::test {

// Decided once: compiled with ASan or TSan, or RINGKIT_SANITIZER set (the ctest presets set it).
inline const bool kUnderSanitizer = [] {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return true;
#else
  const char* env = std::getenv("RINGKIT_SANITIZER");
  return env != nullptr && env[0] != '\0';
#endif
}();

inline bool under_sanitizer() { return kUnderSanitizer; }

// `full`, or full / divisor (at least 1) under a sanitizer.
inline std::uint64_t scaled(std::uint64_t full, std::uint64_t divisor) {
  return !kUnderSanitizer ? full : full / divisor > 0 ? full / divisor : 1;
}

}  // namespace ringkit::dag::test
