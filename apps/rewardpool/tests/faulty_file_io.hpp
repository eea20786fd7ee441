// SPDX-License-Identifier: MIT
#pragma once
// A FileIo that fails the n-th call (1-based, counted from construction) of a kind with errno `error`;
// 0 = never. "sync" counts fdatasync, fsync and msync together. Test-only: production code knows only
// the FileIo interface (apps/rewardpool/src/rewardpool/file_io.hpp).
#include <atomic>
#include <cerrno>

#include "rewardpool/file_io.hpp"

namespace rewardpool::test {

class FaultyFileIo final : public wal::FileIo {
 public:
  std::atomic<long> fail_write_at{0};
  std::atomic<long> fail_sync_at{0};
  std::atomic<long> fail_close_at{0};
  std::atomic<long> fail_fallocate_at{0};
  std::atomic<int> error{EIO};
  std::atomic<long> writes{0};
  std::atomic<long> syncs{0};
  std::atomic<long> closes{0};
  std::atomic<long> fallocates{0};

  long write(int fd, const void* data, std::size_t n) override {
    const long k = writes.fetch_add(1) + 1;
    if (k == fail_write_at.load()) {
      errno = error.load();
      return -1;
    }
    return FileIo::write(fd, data, n);
  }
  int fdatasync(int fd) override { return fail_sync() ? -1 : FileIo::fdatasync(fd); }
  int fsync(int fd) override { return fail_sync() ? -1 : FileIo::fsync(fd); }
  int msync(void* addr, std::size_t n) override { return fail_sync() ? -1 : FileIo::msync(addr, n); }
  int close(int fd) override {
    const long k = closes.fetch_add(1) + 1;
    const int rc = FileIo::close(fd);  // the descriptor is released either way, as close(2) does
    if (k == fail_close_at.load()) {
      errno = error.load();
      return -1;
    }
    return rc;
  }
  int fallocate(int fd, std::int64_t size) override {
    const long k = fallocates.fetch_add(1) + 1;
    if (k == fail_fallocate_at.load()) return error.load();  // posix_fallocate returns the error
    return FileIo::fallocate(fd, size);
  }

 private:
  bool fail_sync() {
    const long k = syncs.fetch_add(1) + 1;
    if (k == fail_sync_at.load()) {
      errno = error.load();
      return true;
    }
    return false;
  }
};

}  // namespace rewardpool::test
