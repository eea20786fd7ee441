// SPDX-License-Identifier: MIT
#pragma once
// What the reward pool's tests share (apps/rewardpool/tests and tests/service): a scratch data directory,
// sanitizer-scaled iteration counts, and the file layers that hold or watch the WAL's segment writes.
// The rewardpool subproject's own test support: it reaches ringkit only through its CMake targets.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "rewardpool/file_io.hpp"
#include "rewardpool/wal.hpp"

namespace rewardpool::test {

// A fresh directory (mkdtemp under the system temp directory), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rewardpool-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed under " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Iteration counts: `full` in a normal build, full / divisor (at least 1) under a sanitizer (compiled
// in, or RINGKIT_SANITIZER set by the ctest presets). Only counts are scaled, never assertions.
inline std::uint64_t scaled(std::uint64_t full, std::uint64_t divisor = 20) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  const bool sanitized = true;
#else
  const char* s = std::getenv("RINGKIT_SANITIZER");
  const bool sanitized = s != nullptr && *s != '\0';
#endif
  if (!sanitized) return full;
  return full / divisor ? full / divisor : 1;
}

// A Draw record of `item` at `lsn`.
inline wal::Record draw_rec(std::uint64_t lsn, std::uint32_t item) {
  wal::Record r{};
  r.type = wal::RecordType::Draw;
  r.lsn = lsn;
  r.item = item;
  return r;
}

// A FileIo that knows the descriptor of the file it opened last whose name ends with `suffix` (by
// default a WAL segment, *.log).
class WatchedFileIo : public wal::FileIo {
 public:
  explicit WatchedFileIo(std::string suffix = ".log") : suffix_(std::move(suffix)) {}
  int open(const char* path, int flags, unsigned mode) override {
    const int fd = FileIo::open(path, flags, mode);
    if (fd >= 0 && std::string_view(path).ends_with(suffix_)) watched_fd = fd;
    return fd;
  }
  std::atomic<int> watched_fd{-2};

 private:
  std::string suffix_;
};

// A WatchedFileIo whose overrides can hold a call at a gate until the test calls release(); `held` says
// a call reached the gate (wait for it on `cv` under `mu`).
class GatedFileIo : public WatchedFileIo {
 public:
  using WatchedFileIo::WatchedFileIo;
  void release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool held = false, released = false;

 protected:
  void hold() {
    std::unique_lock lock(mu);
    held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  }
};

// Holds every write() into a WAL segment until release(): the I/O thread stalls, the log buffer fills,
// then the actor and the mailbox.
class HeldSegmentWriteIo final : public GatedFileIo {
 public:
  long write(int fd, const void* data, std::size_t n) override {
    if (fd == watched_fd.load()) hold();
    return FileIo::write(fd, data, n);
  }
};

}  // namespace rewardpool::test
