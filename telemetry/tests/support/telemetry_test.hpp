// SPDX-License-Identifier: MIT
#pragma once
// What telemetry's tests share besides the capture sink: a scratch directory and sanitizer-scaled
// iteration counts. The telemetry subproject's own test support: it reaches ringkit only through its
// CMake targets (the counting allocator is ringkit::alloc_counter, linked by the test that counts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

namespace ringkit::telemetry::test {

// A fresh, uniquely named directory under the system temp directory, removed with everything in it
// when the object dies. For tests that write log files, ttlog files, spill files and crash dumps.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ringkit-telemetry-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);  // throws (naming the path) if it cannot
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// True in a sanitizer build, or when the ctest presets set RINGKIT_SANITIZER=asan|tsan.
inline bool under_sanitizer() {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return true;
#else
  const char* s = std::getenv("RINGKIT_SANITIZER");
  return s != nullptr && *s != '\0';
#endif
}

// Iteration counts for stress tests: `full` in a normal build, full / divisor under a sanitizer (at
// least 1). Only counts are scaled, never assertions.
inline std::uint64_t scaled(std::uint64_t full, std::uint64_t divisor = 20) {
  if (!under_sanitizer()) return full;
  const std::uint64_t n = full / divisor;
  return n ? n : 1;
}

}  // namespace ringkit::telemetry::test
