// SPDX-License-Identifier: MIT
#pragma once
// Recovery policy: rebuilds the pool's state from a data directory (newest good snapshot, then every later
// record), decides what is a torn tail (dropped quietly), what is corruption (start-up refuses, naming the
// file and offset) and what --repair does (cuts the log there, moving what it cuts into DIR/quarantine/,
// never deleting it and never reusing a written LSN).
#include <cstdint>
#include <string>
#include <vector>

#include "rewardpool/pool.hpp"
#include "rewardpool/wal_format.hpp"

namespace rewardpool::wal {

class FileIo;

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
  bool repair = false;           // cut the log at corruption (or a lost tail) instead of failing
  bool collect_records = false;  // return the replayed records (tests)
  FileIo* io = nullptr;          // for the newest segment's sync (nullptr: posix_io()); tests count it
};

struct RecoveryResult {
  Catalog catalog;
  std::uint64_t lsn = 0;    // last applied record (or the snapshot's); the next record gets lsn + 1
  std::uint64_t draws = 0;  // draws applied since the directory was created
  std::uint64_t next_request_id = 1;  // no request id below this may be handed out again
  std::uint64_t snapshot_lsn = 0;
  std::string snapshot_file;
  std::uint64_t next_segment_seq = 1;
  std::vector<SegmentSummary> segments;
  std::vector<std::string> warnings;  // torn tail dropped, snapshot fallback, repairs, cleanup
  bool damaged = false;               // a torn tail, a fallback or a repair happened (or would, under read_only)
  std::uint64_t dropped_records = 0;  // repair: records cut out of the log (moved to quarantine/)
  std::uint64_t dropped_draws = 0;    // repair: of which draws (any of them may have been acknowledged)
  std::vector<Record> records;        // collect_records only: replayed, in order
};

// Throws RecoveryError naming the file and offset when the log cannot be recovered without --repair.
RecoveryResult recover(const std::string& dir, const RecoveryOptions& options = {});

}  // namespace rewardpool::wal
