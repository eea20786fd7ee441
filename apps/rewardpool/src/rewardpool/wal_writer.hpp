// SPDX-License-Identifier: MIT
#pragma once
// WalWriter: appends records to WAL segments (file / mmap / null backends), rotating segments and keeping
// the MANIFEST (the newest segment ever created) current. Owned by one thread: the pool's I/O thread.
//
// Progress is two LSNs: written (in the page cache or the mapping: survives a crash of the process) and
// durable (fdatasync / msync done: survives a crash of the machine). append() stages; write() makes the
// staged records written; sync() makes the written ones durable.
//
// Durability rules (RELIABILITY.md): a segment is created with O_EXCL, its space reserved
// (posix_fallocate, so the mmap backend never meets SIGBUS on a full disk), its header written and synced,
// the directory and the MANIFEST synced, before any record goes into it; the old segment is synced before
// rotating under every policy; every close() is checked; the first failed call poisons the writer (every
// later call fails without touching the file; a failed fsync is never retried). After a data sync the
// durable LSN is also written to DIR/DURABLE (at most every 100 ms, and on close), so recovery can tell a
// log that lost durable records (a truncated newest segment) from one that merely lost unsynced ones.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rewardpool/file_io.hpp"
#include "rewardpool/wal_format.hpp"

namespace rewardpool::wal {

enum class Backend : std::uint8_t { File, Mmap, Null };
std::optional<Backend> parse_backend(std::string_view s) noexcept;  // "file" | "mmap" | "none" | "null"
std::string_view to_string(Backend b) noexcept;

// When the I/O thread syncs on its own (besides the syncs that durable acknowledgements ask for).
struct SyncPolicy {
  enum class Kind : std::uint8_t { Always, Interval, None } kind = Kind::None;
  std::chrono::milliseconds interval{0};
};
std::optional<SyncPolicy> parse_sync_policy(std::string_view s) noexcept;  // always | interval:MS | none
std::string to_string(const SyncPolicy& p);

struct WalOptions {
  std::string dir;
  Backend backend = Backend::File;
  SyncPolicy sync;
  std::uint64_t segment_bytes = 64ull << 20;  // rotate when the next record would not fit
  FileIo* io = nullptr;                       // nullptr: posix_io()
};

struct WalStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;     // record bytes encoded (all backends)
  std::uint64_t writes = 0;    // write() batches that wrote something
  std::uint64_t syncs = 0;     // fdatasync / msync calls
  std::uint64_t segments = 0;  // segments created
};

class WalWriter {
 public:
  // The first record appended will be `next_lsn`, in segment `segment_seq` (created on that first
  // append: a writer that never appends creates nothing). Throws WalError on bad options.
  WalWriter(WalOptions options, std::uint64_t segment_seq, std::uint64_t next_lsn);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Stages one record (its lsn must be the next one). False when poisoned.
  bool append(const Record& r);
  // Makes every staged record written (file: one write(); mmap: they are already in the mapping).
  bool write();
  // Makes every written record durable. Syncs nothing (and succeeds) when nothing is unsynced.
  bool sync();
  // The background policy after a write: Always syncs, Interval syncs when the oldest unsynced write is
  // older than the interval, None does nothing.
  bool sync_by_policy();
  // Writes and syncs, closes (checked); the mmap backend trims the segment to its used length. Idempotent.
  bool close();

  [[nodiscard]] std::uint64_t written_lsn() const noexcept { return written_lsn_; }
  [[nodiscard]] std::uint64_t durable_lsn() const noexcept { return durable_lsn_; }
  [[nodiscard]] std::uint64_t next_lsn() const noexcept { return next_lsn_; }
  [[nodiscard]] bool poisoned() const noexcept { return !error_.empty(); }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const WalStats& stats() const noexcept { return stats_; }
  // How long until sync_by_policy() would sync (Interval with unsynced data), else nullopt.
  [[nodiscard]] std::optional<std::chrono::steady_clock::duration> sync_due_in() const noexcept;

 private:
  bool open_segment(std::uint64_t seq);
  // Rewrites the durable mark (DIR/DURABLE) with durable_lsn_ if it moved and 100 ms passed (or `force`).
  bool write_mark(bool force);
  bool close_segment();
  bool fail(const std::string& what, int err);
  std::string segment_path(std::uint64_t seq) const;

  WalOptions options_;
  FileIo* io_;
  std::uint64_t next_lsn_;
  std::uint64_t next_seq_;          // the segment the next open_segment() creates
  std::uint64_t seq_ = 0;           // the open segment (0: none)
  int fd_ = -1;
  std::byte* map_ = nullptr;        // mmap backend
  std::uint64_t used_ = 0;          // bytes of the open segment in use (header + records)
  std::uint64_t synced_to_ = 0;     // mmap: bytes msynced
  std::vector<std::byte> staged_;   // file/null backend: encoded records not yet written
  std::uint64_t staged_last_lsn_ = 0;
  std::uint64_t written_lsn_;
  std::uint64_t durable_lsn_;
  std::chrono::steady_clock::time_point unsynced_since_{};
  std::string error_;
  WalStats stats_;
  bool closed_ = false;
  int mark_fd_ = -1;
  std::uint64_t marked_lsn_ = 0;
  unsigned mark_slot_ = 0;
  std::chrono::steady_clock::time_point marked_at_{};
};

}  // namespace rewardpool::wal
