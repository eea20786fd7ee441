#pragma once
// The write-ahead log: file I/O layer (with fault injection), segment reader, writer (file / mmap /
// null backends, sync policies, rotation, snapshots) and recovery. Format: wal_format.hpp.
//
// Durability rules kept here (RELIABILITY.md): the directory is fsynced after a segment or snapshot is
// created, renamed or deleted; every close() is checked; the first failed write or sync poisons the
// writer: every later call fails without touching the file (fsync is never retried, because Linux may
// report a write-back error once and then mark the pages clean).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rewardpool/pool.hpp"
#include "rewardpool/wal_format.hpp"

namespace rewardpool::wal {

// ---- configuration ---------------------------------------------------------------------------------
enum class Backend : std::uint8_t { File, Mmap, Null };
std::optional<Backend> parse_backend(std::string_view s) noexcept;  // "file" | "mmap" | "none" | "null"
std::string_view to_string(Backend b) noexcept;

struct SyncPolicy {
  enum class Kind : std::uint8_t { Always, Interval, None } kind = Kind::Always;
  std::chrono::milliseconds interval{0};
};
std::optional<SyncPolicy> parse_sync_policy(std::string_view s) noexcept;  // always | interval:MS | none
std::string to_string(const SyncPolicy& p);

// ---- the file layer --------------------------------------------------------------------------------
// Every system call the WAL makes on files goes through one of these (returns -1 and sets errno on
// failure), so tests can inject faults.
class FileIo {
 public:
  virtual ~FileIo() = default;
  virtual int open(const char* path, int flags, unsigned mode);
  virtual long write(int fd, const void* data, std::size_t n);
  virtual int fdatasync(int fd);
  virtual int fsync(int fd);
  virtual int msync(void* addr, std::size_t n);
  virtual int close(int fd);
  virtual int ftruncate(int fd, std::int64_t size);
  virtual int rename(const char* from, const char* to);
  virtual int unlink(const char* path);
};
FileIo& posix_io();

// Fails the n-th call (1-based, counted from construction) of a kind with errno `error`; 0 = never.
// "sync" counts fdatasync, fsync and msync together.
class FaultyFileIo final : public FileIo {
 public:
  std::atomic<long> fail_write_at{0};
  std::atomic<long> fail_sync_at{0};
  std::atomic<long> fail_close_at{0};
  std::atomic<int> error{EIO};
  std::atomic<long> writes{0};
  std::atomic<long> syncs{0};
  std::atomic<long> closes{0};

  long write(int fd, const void* data, std::size_t n) override;
  int fdatasync(int fd) override;
  int fsync(int fd) override;
  int msync(void* addr, std::size_t n) override;
  int close(int fd) override;

 private:
  bool fail_sync();
};

class WalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// fsyncs a directory; throws WalError naming it.
void sync_directory(FileIo& io, const std::string& dir);
std::string segment_name(std::uint64_t seq);  // wal-0000000000000001.log
std::string snapshot_name(std::uint64_t lsn);  // snapshot-00000000000000000042.snap

// ---- snapshots -------------------------------------------------------------------------------------
struct Snapshot {
  Catalog catalog;
  std::uint64_t lsn = 0;    // last record included
  std::uint64_t draws = 0;  // draws applied since the directory was created
};
std::vector<std::byte> encode_snapshot(const Snapshot& s);
// Throws WalError("<path>: ...") on any damage.
Snapshot decode_snapshot(std::span<const std::byte> bytes, const std::string& path);
// Writes <dir>/snapshot-<lsn>.snap via a .tmp file, fdatasync, rename, directory fsync.
void write_snapshot_file(FileIo& io, const std::string& dir, const Snapshot& s);
// Creates `dir` if needed and writes the LSN-0 snapshot of `catalog`. Throws WalError if `dir` already
// holds a snapshot or segment.
void initialize_data_dir(const std::string& dir, const Catalog& catalog);
bool has_data(const std::string& dir);

// ---- reading ---------------------------------------------------------------------------------------
struct ReadResult {
  enum class Kind : std::uint8_t { Record, End, Damaged } kind = Kind::End;
  Record record{};
  std::uint64_t offset = 0;  // where the record (or the damage) starts
  std::string reason;        // Damaged: what is wrong
  bool at_tail = false;      // Damaged: nothing but zeros (or the end of the file) follows the damage
};

// Reads one segment held in memory. Never returns a record whose bytes fail the CRC; after Damaged it
// keeps returning the same Damaged result (it cannot resynchronize, so it never joins two records).
class SegmentReader {
 public:
  SegmentReader(std::vector<std::byte> bytes, std::string name);
  static SegmentReader open(const std::string& path);  // throws WalError if it cannot be read

  // Damaged at offset 0 when the header is bad; then next() returns the same.
  [[nodiscard]] const ReadResult& header_status() const noexcept { return header_; }
  [[nodiscard]] std::uint64_t segment_seq() const noexcept { return seq_; }
  [[nodiscard]] std::uint64_t base_lsn() const noexcept { return base_lsn_; }
  [[nodiscard]] std::size_t file_size() const noexcept { return bytes_.size(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  ReadResult next();

 private:
  ReadResult damaged(std::uint64_t offset, std::string reason, bool at_tail);
  bool zeros_from(std::size_t offset) const noexcept;

  std::vector<std::byte> bytes_;
  std::string name_;
  std::size_t offset_ = kSegmentHeaderSize;
  ReadResult header_;
  std::optional<ReadResult> stuck_;
  std::uint64_t seq_ = 0;
  std::uint64_t base_lsn_ = 0;
};

// ---- writing ---------------------------------------------------------------------------------------
struct WalOptions {
  std::string dir;
  Backend backend = Backend::File;
  SyncPolicy sync;
  std::uint64_t segment_bytes = 64ull << 20;  // rotate when the next record would not fit
  FileIo* io = nullptr;                       // nullptr: posix_io()
};

struct WalStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;    // record bytes encoded (all backends)
  std::uint64_t batches = 0;  // flush() calls that wrote something
  std::uint64_t syncs = 0;    // fdatasync / msync calls
  std::uint64_t segments = 0; // segments created
  std::uint64_t snapshots = 0;
};

// Owned by one thread (the flusher). Not thread-safe.
class WalWriter {
 public:
  // Creates segment `segment_seq` whose first record will have LSN `next_lsn`. Throws WalError.
  WalWriter(WalOptions options, std::uint64_t segment_seq, std::uint64_t next_lsn);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Stages one record (its lsn must be the next one). False when poisoned.
  bool append(const Record& r);
  // Hands the staged records to the backend (file: one write(); mmap: already in the mapping) and syncs
  // as the policy says (`force` syncs under any policy). On success every staged record is "durable
  // under the policy". False (poisoned) on any error.
  bool commit(bool force = false);
  // Interval policy: syncs if written data is older than the interval. False on error.
  bool sync_if_due();
  // Commits, writes a snapshot of state at `s.lsn` (must be the last appended LSN), starts a new
  // segment, logs a SnapshotMarker as its first record, and deletes older segments and snapshots.
  bool snapshot(const Snapshot& s);
  // Commits with a sync, closes (checked). False on error. Idempotent.
  bool close();

  [[nodiscard]] bool poisoned() const noexcept { return !error_.empty(); }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const WalStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t next_lsn() const noexcept { return next_lsn_; }
  [[nodiscard]] bool has_unsynced() const noexcept { return unsynced_; }

 private:
  bool open_segment(std::uint64_t seq);
  bool close_segment();
  bool write_staged();
  bool sync_now();
  bool fail(const std::string& what, int err);
  std::string segment_path(std::uint64_t seq) const;

  WalOptions options_;
  FileIo* io_;
  std::uint64_t next_lsn_;
  std::uint64_t seq_ = 0;
  int fd_ = -1;
  std::byte* map_ = nullptr;        // mmap backend
  std::uint64_t used_ = 0;          // bytes of the segment in use (header + records)
  std::uint64_t synced_to_ = 0;     // mmap: bytes msynced
  std::vector<std::byte> staged_;   // file/null backend: encoded records not yet written
  bool unsynced_ = false;
  std::chrono::steady_clock::time_point last_sync_;
  std::string error_;
  WalStats stats_;
  bool closed_ = false;
};

// ---- recovery --------------------------------------------------------------------------------------
class RecoveryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SegmentSummary {
  std::string name;
  std::uint64_t seq = 0;
  std::uint64_t file_size = 0;
  std::uint64_t valid_bytes = 0;  // end of the last good record
  std::uint64_t records = 0;
  std::uint64_t first_lsn = 0, last_lsn = 0;  // 0 when empty
  std::string damage;                         // empty when clean
};

struct RecoveryOptions {
  bool read_only = false;        // inspect: report, change nothing
  bool repair = false;           // truncate at corruption before the tail instead of failing
  bool collect_records = false;  // return the replayed records (tests)
};

struct RecoveryResult {
  Catalog catalog;
  std::uint64_t lsn = 0;    // last applied record (or the snapshot's)
  std::uint64_t draws = 0;  // draws applied since the directory was created
  std::uint64_t snapshot_lsn = 0;
  std::string snapshot_file;
  std::uint64_t next_segment_seq = 1;
  std::vector<SegmentSummary> segments;
  std::vector<std::string> warnings;  // torn tail truncated, repairs
  bool damaged = false;               // a torn tail or a repair happened (or would, under read_only)
  std::vector<Record> records;        // collect_records only: replayed, in order
};

// Latest snapshot, then every later record. A torn last record is truncated with a warning (unless
// read_only). Corruption before the tail throws RecoveryError naming segment and offset, unless
// `repair`, which truncates there and deletes later segments.
RecoveryResult recover(const std::string& dir, const RecoveryOptions& options = {});

}  // namespace rewardpool::wal
