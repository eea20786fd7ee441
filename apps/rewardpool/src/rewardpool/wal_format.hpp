// SPDX-License-Identifier: MIT
#pragma once
// The rewardpool write-ahead log format, version 1 (spec: docs/wal-format.md).
//
// A data directory holds segments `wal-<seq:016>.log` and snapshots `snapshot-<lsn:020>.snap`.
// All integers are little-endian. CRCs are CRC-32C (ringkit::crc32c, <ringkit/crc32c.hpp>).
//
// Segment = header, then records back to back, then (mmap backend only) zero bytes up to the
// pre-sized end of the file.
//
//  Segment header (32 bytes)
//   0        8      10     12           16               24               32
//   +--------+------+------+------------+----------------+----------------+
//   | magic  | ver  | hlen | header crc | segment seq    | base lsn       |
//   | 8 B    | u16  | u16  | u32        | u64            | u64            |
//   +--------+------+------+------------+----------------+----------------+
//   magic = "RPWALSEG", ver = 1, hlen = 32; header crc = CRC-32C of the 32 bytes with the crc field
//   zeroed; base lsn = the LSN the first record of this segment will have.
//
//  Record (20-byte header + payload)
//   0        4        8      9          12               20
//   +--------+--------+------+----------+----------------+------------------+
//   | crc    | length | type | reserved | lsn            | payload          |
//   | u32    | u32    | u8   | 3 x 0    | u64            | `length` bytes   |
//   +--------+--------+------+----------+----------------+------------------+
//   crc = CRC-32C of bytes [4, 20 + length): length, type, reserved, lsn and payload, so a damaged
//   length can never make the reader accept bytes of two records as one. LSNs are consecutive: each
//   record's lsn is the previous record's + 1, across segments.
//
//   type 1 Draw             payload: item u32                                     (length 4)
//   type 2 Update           payload: item u32, quantity i64, weight f64 (bits)   (length 20)
//   type 3 SnapshotMarker   payload: snapshot lsn u64                            (length 8)   (v1 only)
//   type 4 RequestIds       payload: ceiling u64: request ids below it may be in use (length 8)   (v2)
//   type 0 is never written: a zero header marks the end of data in a pre-sized (mmap) segment.
//
//  Snapshot file (written to a .tmp, fsynced, renamed, directory fsynced, read back)
//   +----------+------+----------+-------+-----+-------+-------------+-----------------------------------+-----+
//   | RPSNAP01 | ver  | reserved | count | lsn | draws | next req id | count x (id_len u16, id, qty i64,  | crc |
//   | 8 B      | u16  | u16      | u32   | u64 | u64   | u64 (v2)    |          weight f64)               | u32 |
//   +----------+------+----------+-------+-----+-------+-------------+-----------------------------------+-----+
//   crc = CRC-32C of everything before it. lsn = the last record the snapshot includes; draws = the
//   number of draws applied since the data directory was created; qty -1 = unlimited.
//
//  MANIFEST (44 bytes, rewritten atomically whenever a segment is created)
//   | RPMANIF1 | ver u16 | reserved u16 | reserved u32 | segment seq u64 | base lsn u64 | segment bytes u64 | crc u32 |
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include <ringkit/crc32c.hpp>

namespace rewardpool::wal {

inline constexpr std::array<char, 8> kSegmentMagic{'R', 'P', 'W', 'A', 'L', 'S', 'E', 'G'};
inline constexpr std::array<char, 8> kSnapshotMagic{'R', 'P', 'S', 'N', 'A', 'P', '0', '1'};
// Version 2 adds the RequestIds record and the snapshot's next-request-id field; readers accept 1 and 2.
inline constexpr std::uint16_t kFormatVersion = 2;
inline constexpr std::uint16_t kOldestReadableVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 32;
inline constexpr std::size_t kRecordHeaderSize = 20;
inline constexpr std::uint32_t kMaxPayload = 1024;  // larger length fields are corruption
// Request ids are reserved in blocks: a RequestIds record's ceiling is the previous one + this.
inline constexpr std::uint64_t kRequestIdBlock = 1 << 16;

enum class RecordType : std::uint8_t { Zero = 0, Draw = 1, Update = 2, SnapshotMarker = 3, RequestIds = 4 };
inline constexpr unsigned kMaxRecordType = 4;
std::string_view to_string(RecordType t) noexcept;

// A decoded record. Trivial (no default member initializers), so it can live in a pre-allocated ring
// slot that try_claim() hands out: value-initialize it (`Record r{};`) when you make one.
struct Record {
  RecordType type;
  std::uint32_t item;           // Draw, Update
  std::uint64_t lsn;
  std::int64_t quantity;        // Update
  double weight;                // Update
  std::uint64_t snapshot_lsn;   // SnapshotMarker: the snapshot's lsn; RequestIds: the ceiling
  friend bool operator==(const Record&, const Record&) = default;
};

// Payload length for a valid type, 0 for anything else.
constexpr std::uint32_t payload_size(RecordType t) noexcept {
  switch (t) {
    case RecordType::Draw: return 4;
    case RecordType::Update: return 20;
    case RecordType::SnapshotMarker: return 8;
    case RecordType::RequestIds: return 8;
    case RecordType::Zero: return 0;
  }
  return 0;
}
inline constexpr std::size_t kMaxRecordSize = kRecordHeaderSize + 20;

inline std::uint32_t checksum(const std::byte* data, std::size_t n) noexcept {
  return ringkit::crc32c(std::span<const std::byte>(data, n));
}

// ---- little-endian helpers ----
inline void put_u16(std::byte* p, std::uint16_t v) noexcept {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline void put_u32(std::byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline void put_u64(std::byte* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline std::uint16_t get_u16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | (std::to_integer<unsigned>(p[1]) << 8));
}
inline std::uint32_t get_u32(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
inline std::uint64_t get_u64(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

// Encodes `r` at `out` (room for kMaxRecordSize bytes); returns the bytes written.
std::size_t encode_record(const Record& r, std::byte* out) noexcept;
// Encodes a segment header into 32 bytes.
void encode_segment_header(std::uint64_t segment_seq, std::uint64_t base_lsn, std::byte* out) noexcept;

}  // namespace rewardpool::wal
