// SPDX-License-Identifier: MIT
#pragma once
// The WAL's file layer: every system call the log makes on files goes through a FileIo (returns -1 and
// sets errno on failure), so tests can inject faults (apps/rewardpool/tests/faulty_file_io.hpp), plus
// the directory helpers the writer, the snapshot code and recovery share.
//
// Durability rules kept here and by every caller (RELIABILITY.md): the directory is fsynced after a file
// in it is created, renamed or deleted; every close() is checked; a failed fsync is never retried.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rewardpool::wal {

class FileIo {
 public:
  virtual ~FileIo() = default;
  virtual int open(const char* path, int flags, unsigned mode);
  virtual long write(int fd, const void* data, std::size_t n);
  virtual long pwrite(int fd, const void* data, std::size_t n, std::int64_t offset);
  virtual int fdatasync(int fd);
  virtual int fsync(int fd);
  virtual int msync(void* addr, std::size_t n);
  virtual int close(int fd);
  virtual int ftruncate(int fd, std::int64_t size);
  // posix_fallocate: returns 0 or an errno value (it does not set errno).
  virtual int fallocate(int fd, std::int64_t size);
  virtual int rename(const char* from, const char* to);
  virtual int unlink(const char* path);
};
FileIo& posix_io();

class WalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// fsyncs a directory; throws WalError naming it.
void sync_directory(FileIo& io, const std::string& dir);
std::string segment_name(std::uint64_t seq);   // wal-0000000000000001.log
std::string snapshot_name(std::uint64_t lsn);  // snapshot-00000000000000000042.snap
inline constexpr const char* kManifestName = "MANIFEST";
inline constexpr const char* kQuarantineDir = "quarantine";
// The durable mark: the highest LSN known durable, rewritten (two alternating slots, synced) at most every
// 100 ms after a data sync and on close, so a log that ends below it lost durable records (snapshot.hpp).
inline constexpr const char* kDurableMarkName = "DURABLE";

namespace detail {
std::string errno_text(int err);
std::string join(const std::string& dir, const std::string& name);
// Writes all n bytes (retrying short writes and EINTR); throws WalError naming `path`.
void write_all(FileIo& io, int fd, const std::byte* p, std::size_t n, const std::string& path);
// The whole file; throws WalError naming it.
std::vector<std::byte> read_file(const std::string& path);
// Closes `fd` and throws WalError naming `path` if close() fails.
void check_close(FileIo& io, int fd, const std::string& path);
// Writes `bytes` to dir/name through name.tmp, fdatasync, rename, directory fsync. Throws WalError.
void write_file_atomically(FileIo& io, const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes);

struct DirListing {
  std::map<std::uint64_t, std::string> segments;   // seq -> name
  std::map<std::uint64_t, std::string> snapshots;  // lsn -> name
  std::vector<std::string> temporaries;            // *.tmp left by a crash
  bool has_manifest = false;
};
DirListing list_dir(const std::string& dir);  // throws WalError
}  // namespace detail

}  // namespace rewardpool::wal
