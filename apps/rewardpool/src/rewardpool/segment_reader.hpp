// SPDX-License-Identifier: MIT
#pragma once
// Reads one WAL segment held in memory (format: wal_format.hpp, docs/wal-format.md). LevelDB's reader
// rules: never returns a record whose bytes fail the CRC; after Damaged it keeps returning the same
// Damaged result (it cannot resynchronize, so it never joins two records).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rewardpool/wal_format.hpp"

namespace rewardpool::wal {

struct ReadResult {
  enum class Kind : std::uint8_t { Record, End, Damaged } kind = Kind::End;
  Record record{};
  std::uint64_t offset = 0;  // where the record (or the damage) starts
  std::string reason;        // Damaged: what is wrong
  bool at_tail = false;      // Damaged: nothing but zeros (or the end of the file) follows the damage
};

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

}  // namespace rewardpool::wal
