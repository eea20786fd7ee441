// SPDX-License-Identifier: MIT
#include "rewardpool/wal_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "rewardpool/snapshot.hpp"

namespace rewardpool::wal {

using detail::errno_text;

std::optional<Backend> parse_backend(std::string_view s) noexcept {
  if (s == "file") return Backend::File;
  if (s == "mmap") return Backend::Mmap;
  if (s == "none" || s == "null") return Backend::Null;
  return std::nullopt;
}

std::string_view to_string(Backend b) noexcept {
  switch (b) {
    case Backend::File: return "file";
    case Backend::Mmap: return "mmap";
    case Backend::Null: return "none";
  }
  return "?";
}

std::optional<SyncPolicy> parse_sync_policy(std::string_view s) noexcept {
  if (s == "always") return SyncPolicy{SyncPolicy::Kind::Always, {}};
  if (s == "none") return SyncPolicy{SyncPolicy::Kind::None, {}};
  constexpr std::string_view prefix = "interval:";
  if (s.substr(0, prefix.size()) == prefix) {
    const std::string_view num = s.substr(prefix.size());
    unsigned long ms = 0;
    const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), ms);
    if (ec != std::errc{} || end != num.data() + num.size() || num.empty() || ms == 0 || ms > 3'600'000) {
      return std::nullopt;
    }
    return SyncPolicy{SyncPolicy::Kind::Interval, std::chrono::milliseconds(ms)};
  }
  return std::nullopt;
}

std::string to_string(const SyncPolicy& p) {
  switch (p.kind) {
    case SyncPolicy::Kind::Always: return "always";
    case SyncPolicy::Kind::None: return "none";
    case SyncPolicy::Kind::Interval: return "interval:" + std::to_string(p.interval.count());
  }
  return "?";
}

WalWriter::WalWriter(WalOptions options, std::uint64_t segment_seq, std::uint64_t next_lsn)
    : options_(std::move(options)),
      io_(options_.io ? options_.io : &posix_io()),
      next_lsn_(next_lsn),
      next_seq_(segment_seq),
      written_lsn_(next_lsn - 1),
      durable_lsn_(next_lsn - 1) {
  staged_last_lsn_ = next_lsn - 1;  // write() with nothing appended must not move written_lsn_ back to 0
  marked_lsn_ = next_lsn - 1;  // the mark covers only what this writer synced itself
  if (options_.segment_bytes < kSegmentHeaderSize + kMaxRecordSize) {
    throw WalError("segment size " + std::to_string(options_.segment_bytes) + " is too small (minimum " +
                   std::to_string(kSegmentHeaderSize + kMaxRecordSize) + ")");
  }
  staged_.reserve(256 * 1024);
}

WalWriter::~WalWriter() { (void)close(); }

std::string WalWriter::segment_path(std::uint64_t seq) const { return detail::join(options_.dir, segment_name(seq)); }

bool WalWriter::fail(const std::string& what, int err) {
  if (error_.empty()) error_ = what + (err ? ": " + errno_text(err) : std::string());
  return false;
}

bool WalWriter::open_segment(std::uint64_t seq) {
  seq_ = seq;
  next_seq_ = seq + 1;
  used_ = kSegmentHeaderSize;
  synced_to_ = 0;
  ++stats_.segments;
  if (options_.backend == Backend::Null) return true;
  const std::string path = segment_path(seq);
  const bool mm = options_.backend == Backend::Mmap;
  fd_ = io_->open(path.c_str(), (mm ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail("cannot create WAL segment " + path, errno);
  // Reserve the space first: a sparse mapping on a full disk dies with SIGBUS at the first store into a
  // page the file system cannot back; a reservation that fails is an error here, before any record.
  if (mm) {
    if (const int err = io_->fallocate(fd_, static_cast<std::int64_t>(options_.segment_bytes)); err != 0) {
      io_->close(fd_);
      fd_ = -1;
      ::unlink(path.c_str());  // nothing was written into it; a crash before this leaves an empty segment (a torn tail)
      return fail("cannot reserve " + std::to_string(options_.segment_bytes) + " bytes for WAL segment " + path, err);
    }
  }
  std::byte header[kSegmentHeaderSize];
  encode_segment_header(seq, next_lsn_, header);
  if (mm) {
    void* m = ::mmap(nullptr, options_.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) return fail("mmap(" + path + ") failed", errno);
    map_ = static_cast<std::byte*>(m);
    std::memcpy(map_, header, kSegmentHeaderSize);
    if (io_->msync(map_, kSegmentHeaderSize) != 0) return fail("msync(" + path + ") failed", errno);
    if (io_->fdatasync(fd_) != 0) return fail("fdatasync(" + path + ") failed", errno);  // the file size
    synced_to_ = kSegmentHeaderSize;
  } else {
    try {
      detail::write_all(*io_, fd_, header, kSegmentHeaderSize, path);
    } catch (const WalError& e) {
      return fail(e.what(), 0);
    }
    if (io_->fdatasync(fd_) != 0) return fail("fdatasync(" + path + ") failed", errno);
  }
  ++stats_.syncs;
  try {
    sync_directory(*io_, options_.dir);
    write_manifest(*io_, options_.dir, Manifest{seq, next_lsn_, options_.segment_bytes});
  } catch (const WalError& e) {
    return fail(e.what(), 0);
  }
  return true;
}

bool WalWriter::close_segment() {
  if (seq_ == 0) return true;
  seq_ = 0;
  if (options_.backend == Backend::Null || fd_ < 0) return !poisoned();
  const std::string path = segment_path(next_seq_ - 1);
  bool ok = true;
  if (map_) {
    if (::munmap(map_, options_.segment_bytes) != 0) ok = fail("munmap(" + path + ") failed", errno);
    map_ = nullptr;
    // Give back the unused reserved tail (zeros read as end-of-data anyway, so a crash before this is
    // harmless; recovery trims such a tail too).
    if (ok && !poisoned() && io_->ftruncate(fd_, static_cast<std::int64_t>(used_)) != 0) {
      ok = fail("ftruncate(" + path + ") failed", errno);
    }
  }
  if (io_->close(fd_) != 0 && ok) ok = fail("close(" + path + ") failed", errno);
  fd_ = -1;
  return ok && !poisoned();
}

bool WalWriter::append(const Record& r) {
  if (poisoned()) return false;
  if (r.lsn != next_lsn_) {
    return fail("WAL append out of order: record lsn " + std::to_string(r.lsn) + ", expected " + std::to_string(next_lsn_), 0);
  }
  const std::size_t size = kRecordHeaderSize + payload_size(r.type);
  if (seq_ == 0) {
    if (!open_segment(next_seq_)) return false;
  } else if (used_ + staged_.size() + size > options_.segment_bytes) {
    // Rotate. The old segment is synced first under every policy, so a crash can never leave a later
    // segment durable behind a gap in an earlier one.
    if (!write() || !sync() || !close_segment() || !open_segment(next_seq_)) return false;
  }
  ++next_lsn_;
  ++stats_.records;
  stats_.bytes += size;
  if (map_) {
    encode_record(r, map_ + used_);
    used_ += size;
  } else {
    const std::size_t at = staged_.size();
    staged_.resize(at + size);  // capacity is kept across writes: no allocation in steady state
    encode_record(r, staged_.data() + at);
  }
  staged_last_lsn_ = r.lsn;
  return true;
}

bool WalWriter::write() {
  if (poisoned()) return false;
  if (staged_last_lsn_ == written_lsn_) return true;
  if (options_.backend == Backend::File && !staged_.empty()) {
    const std::byte* p = staged_.data();
    std::size_t n = staged_.size();
    while (n > 0) {
      const long w = io_->write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail("write(" + segment_path(next_seq_ - 1) + ") at offset " + std::to_string(used_) + " failed", errno);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      used_ += static_cast<std::uint64_t>(w);
    }
  } else if (options_.backend == Backend::Null) {
    used_ += staged_.size();
  }
  ++stats_.writes;
  staged_.clear();
  if (written_lsn_ == durable_lsn_) unsynced_since_ = std::chrono::steady_clock::now();
  written_lsn_ = staged_last_lsn_;
  if (options_.backend == Backend::Null) durable_lsn_ = written_lsn_;  // nothing to sync: as durable as it gets
  return true;
}

bool WalWriter::sync() {
  if (poisoned()) return false;
  if (durable_lsn_ == written_lsn_) return true;
  if (map_) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t from = synced_to_ / page * page;
    if (io_->msync(map_ + from, used_ - from) != 0) return fail("msync(" + segment_path(next_seq_ - 1) + ") failed", errno);
    synced_to_ = used_;
  } else if (fd_ >= 0 && io_->fdatasync(fd_) != 0) {
    return fail("fdatasync(" + segment_path(next_seq_ - 1) + ") failed", errno);
  }
  ++stats_.syncs;
  durable_lsn_ = written_lsn_;
  return write_mark(false);
}

bool WalWriter::write_mark(bool force) {
  if (options_.backend == Backend::Null || durable_lsn_ <= marked_lsn_ || durable_lsn_ == 0) return !poisoned();
  const auto now = std::chrono::steady_clock::now();  // after a data sync (a syscall) only
  if (!force && mark_fd_ >= 0 && now - marked_at_ < std::chrono::milliseconds(100)) return true;
  const std::string path = detail::join(options_.dir, kDurableMarkName);
  if (mark_fd_ < 0) {
    mark_fd_ = io_->open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (mark_fd_ < 0) return fail("cannot open " + path, errno);
    try {
      sync_directory(*io_, options_.dir);
    } catch (const WalError& e) {
      return fail(e.what(), 0);
    }
  }
  std::byte slot[kDurableSlotSize];
  encode_durable_slot(durable_lsn_, slot);
  const auto off = static_cast<std::int64_t>(mark_slot_ * kDurableSlotSize);
  if (io_->pwrite(mark_fd_, slot, sizeof slot, off) != static_cast<long>(sizeof slot)) {
    return fail("pwrite(" + path + ") failed", errno);
  }
  if (io_->fdatasync(mark_fd_) != 0) return fail("fdatasync(" + path + ") failed", errno);
  mark_slot_ ^= 1u;
  marked_lsn_ = durable_lsn_;
  marked_at_ = now;
  return true;
}

std::optional<std::chrono::steady_clock::duration> WalWriter::sync_due_in() const noexcept {
  if (options_.sync.kind != SyncPolicy::Kind::Interval || durable_lsn_ == written_lsn_) return std::nullopt;
  const auto due = unsynced_since_ + options_.sync.interval;
  const auto now = std::chrono::steady_clock::now();
  return due > now ? due - now : std::chrono::steady_clock::duration::zero();
}

bool WalWriter::sync_by_policy() {
  if (poisoned()) return false;
  switch (options_.sync.kind) {
    case SyncPolicy::Kind::Always: return sync();
    case SyncPolicy::Kind::None: return true;
    case SyncPolicy::Kind::Interval: {
      const auto due = sync_due_in();
      return due && *due == std::chrono::steady_clock::duration::zero() ? sync() : true;
    }
  }
  return true;
}

bool WalWriter::close() {
  if (closed_) return !poisoned();
  closed_ = true;
  bool ok = !poisoned() && write() && sync() && write_mark(true);
  if (!close_segment()) ok = false;
  if (mark_fd_ >= 0) {
    if (io_->close(mark_fd_) != 0 && ok) ok = fail("close(" + detail::join(options_.dir, kDurableMarkName) + ") failed", errno);
    mark_fd_ = -1;
  }
  return ok && !poisoned();
}

}  // namespace rewardpool::wal
