// SPDX-License-Identifier: MIT
#pragma once
// A fresh, uniquely named directory under the system temp directory, removed with everything in it
// when the object dies. For tests that write files (spill files, WAL segments, crash-test data).
#include <cstddef>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

namespace ringkit::test {

class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ringkit-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
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
  std::size_t file_count() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ringkit::test
