// SPDX-License-Identifier: MIT
#include "rewardpool/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <system_error>

namespace rewardpool::wal {

int FileIo::open(const char* path, int flags, unsigned mode) { return ::open(path, flags, mode); }
long FileIo::write(int fd, const void* data, std::size_t n) { return ::write(fd, data, n); }
long FileIo::pwrite(int fd, const void* data, std::size_t n, std::int64_t offset) {
  return ::pwrite(fd, data, n, static_cast<off_t>(offset));
}
int FileIo::fdatasync(int fd) { return ::fdatasync(fd); }
int FileIo::fsync(int fd) { return ::fsync(fd); }
int FileIo::msync(void* addr, std::size_t n) { return ::msync(addr, n, MS_SYNC); }
int FileIo::close(int fd) { return ::close(fd); }
int FileIo::ftruncate(int fd, std::int64_t size) { return ::ftruncate(fd, static_cast<off_t>(size)); }
int FileIo::fallocate(int fd, std::int64_t size) { return ::posix_fallocate(fd, 0, static_cast<off_t>(size)); }
int FileIo::rename(const char* from, const char* to) { return ::rename(from, to); }
int FileIo::unlink(const char* path) { return ::unlink(path); }

FileIo& posix_io() {
  static FileIo io;
  return io;
}

namespace detail {

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

void write_all(FileIo& io, int fd, const std::byte* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const long w = io.write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw WalError("write(" + path + ") failed: " + errno_text(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::vector<std::byte> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw WalError("cannot open " + path + ": " + errno_text(errno));
  std::vector<std::byte> out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  std::byte buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw WalError("read(" + path + ") failed: " + errno_text(err));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

void check_close(FileIo& io, int fd, const std::string& path) {
  if (io.close(fd) != 0) throw WalError("close(" + path + ") failed: " + errno_text(errno));
}

void write_file_atomically(FileIo& io, const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  const std::string final_path = join(dir, name);
  const std::string tmp = final_path + ".tmp";
  const int fd = io.open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw WalError("cannot create " + tmp + ": " + errno_text(errno));
  try {
    write_all(io, fd, bytes.data(), bytes.size(), tmp);
    if (io.fdatasync(fd) != 0) throw WalError("fdatasync(" + tmp + ") failed: " + errno_text(errno));
  } catch (...) {
    io.close(fd);
    throw;
  }
  check_close(io, fd, tmp);
  if (io.rename(tmp.c_str(), final_path.c_str()) != 0) {
    throw WalError("rename(" + tmp + ", " + final_path + ") failed: " + errno_text(errno));
  }
  sync_directory(io, dir);
}

namespace {
// Parses "<prefix><digits><suffix>"; nullopt if `name` is not of that form.
std::optional<std::uint64_t> parse_number_name(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}
}  // namespace

DirListing list_dir(const std::string& dir) {
  DirListing out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw WalError("cannot open data directory " + dir + ": " + errno_text(errno));
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (auto seq = parse_number_name(name, "wal-", ".log")) out.segments.emplace(*seq, std::string(name));
    if (auto lsn = parse_number_name(name, "snapshot-", ".snap")) out.snapshots.emplace(*lsn, std::string(name));
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") out.temporaries.emplace_back(name);
    if (name == kManifestName) out.has_manifest = true;
  }
  ::closedir(d);
  return out;
}

}  // namespace detail

void sync_directory(FileIo& io, const std::string& dir) {
  const int fd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw WalError("cannot open directory " + dir + " to fsync it: " + detail::errno_text(errno));
  if (io.fsync(fd) != 0) {
    const int err = errno;
    io.close(fd);
    throw WalError("fsync(" + dir + ") failed: " + detail::errno_text(err));
  }
  detail::check_close(io, fd, dir);
}

std::string segment_name(std::uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "wal-%016llu.log", static_cast<unsigned long long>(seq));
  return buf;
}

std::string snapshot_name(std::uint64_t lsn) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "snapshot-%020llu.snap", static_cast<unsigned long long>(lsn));
  return buf;
}

}  // namespace rewardpool::wal
