// SPDX-License-Identifier: MIT
#pragma once
// Snapshot files (the whole catalog as of an LSN) and the MANIFEST (the log's high-water mark).
// Layouts: wal_format.hpp and docs/wal-format.md.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rewardpool/file_io.hpp"
#include "rewardpool/pool.hpp"

namespace rewardpool::wal {

struct Snapshot {
  Catalog catalog;
  std::uint64_t lsn = 0;              // last record included
  std::uint64_t draws = 0;            // draws applied since the directory was created
  std::uint64_t next_request_id = 1;  // request ids below this may have been handed out (v2; v1: lsn + 1)
};
std::vector<std::byte> encode_snapshot(const Snapshot& s);
// Throws WalError("<path>: ...") on any damage.
Snapshot decode_snapshot(std::span<const std::byte> bytes, const std::string& path);
// Writes <dir>/snapshot-<lsn>.snap via a .tmp file, fdatasync, rename, directory fsync, then reads it
// back and decodes it (a snapshot that does not verify is an error, and never replaces anything).
void write_snapshot_file(FileIo& io, const std::string& dir, const Snapshot& s);

// The MANIFEST names the newest segment ever created and bounds the LSNs it can hold, so a lost newest
// segment is detected (start-up refuses without --repair) and a repair never reuses a written LSN.
struct Manifest {
  std::uint64_t segment_seq = 0;    // the newest segment created
  std::uint64_t base_lsn = 0;       // its first record's LSN
  std::uint64_t segment_bytes = 0;  // its size limit: it holds LSNs < base_lsn + max_records()
  [[nodiscard]] std::uint64_t max_records() const noexcept;
  friend bool operator==(const Manifest&, const Manifest&) = default;
};
std::vector<std::byte> encode_manifest(const Manifest& m);
Manifest decode_manifest(std::span<const std::byte> bytes, const std::string& path);  // throws WalError
void write_manifest(FileIo& io, const std::string& dir, const Manifest& m);            // atomically; throws

// The durable mark (DIR/DURABLE): two 32-byte slots, written alternately, each
//   | RPDURAB1 | lsn u64 | reserved u64 (0) | reserved u32 (0) | crc u32 (CRC-32C of the first 28 bytes) |
// The mark is the highest lsn of a valid slot (a slot torn by a crash is invalid; the other one holds an
// older, lower mark). Written only after a data sync covered that lsn.
inline constexpr std::size_t kDurableSlotSize = 32;
void encode_durable_slot(std::uint64_t lsn, std::byte* out) noexcept;
// The mark; nullopt when no slot is valid (error says why).
std::optional<std::uint64_t> decode_durable_mark(std::span<const std::byte> bytes, std::string& error);

// Creates `dir` if needed and writes the LSN-0 snapshot of `catalog`. Throws WalError if `dir` already
// holds a snapshot or segment, or CatalogError if the catalog is empty.
void initialize_data_dir(const std::string& dir, const Catalog& catalog);
bool has_data(const std::string& dir);

}  // namespace rewardpool::wal
