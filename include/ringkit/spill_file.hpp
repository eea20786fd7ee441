// SPDX-License-Identifier: MIT
#pragma once
// SpillFile: one append-only file of framed records, the disk half of Overflow::SpillToDisk.
// Format (version 1; full spec and rationale in docs/spill-format.md):
//
//   offset 0                                                                     32
//   +----------------+-----------+-------------+-------------+----------+---------+
//   | magic          | version   | header_size | record_max  | reserved | hdr crc |
//   | "RKSPILL\0" 8B | u32 = 1   | u32 = 32    | u32         | u32 = 0  | u32     |
//   +----------------+-----------+-------------+-------------+----------+---------+
//   then records, back to back, each:
//   +-------------+-----------------------------+----------------------+
//   | length u32  | crc32c(length || payload)   | payload (length B)   |
//   +-------------+-----------------------------+----------------------+
//   All integers little-endian. hdr crc = crc32c of the 28 bytes before it.
//
// Not thread-safe: the queue calls it under its spill mutex. Appends are write-through (one pwrite per
// record, no user-space buffer), so a record is in the file (page cache; not fsync'ed: a spill file is
// scratch space that dies with its queue) before append() returns success. A failed or short write is
// cut back off the file (ftruncate) so the file stays a clean sequence of whole records.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace ringkit {

// Errors the spill layer reports besides std::system_category() I/O errors (ENOSPC, EFBIG, EACCES ...).
enum class spill_errc {
  bad_header = 1,       // the file does not start with a valid version-1 header
  unsupported_version,  // the header names a version this build cannot read
  bad_length,           // a record length is larger than record_max or runs past the end of the data
  truncated_record,     // the file ends inside a record (fewer bytes than were appended)
  checksum_mismatch,    // a record's CRC32C does not match its bytes
  record_too_large,     // an encoded item is larger than SpillOptions::max_record_bytes
  codec_rejected,       // the codec could not decode a record whose checksum was fine
  codec_threw,          // the codec's decode() threw on a record; that record alone is discarded
};

const std::error_category& spill_category() noexcept;
std::error_code make_error_code(spill_errc e) noexcept;

}  // namespace ringkit

template <>
struct std::is_error_code_enum<ringkit::spill_errc> : std::true_type {};

namespace ringkit {

class SpillFile {
 public:
  static constexpr char kMagic[8] = {'R', 'K', 'S', 'P', 'I', 'L', 'L', '\0'};
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::size_t kHeaderSize = 32;
  static constexpr std::size_t kFrameSize = 8;  // length + crc
  static constexpr std::uint32_t kMaxRecordLimit = 1u << 30;

  // Creates a new, uniquely named file (ringkit-spill-<pid>-<n>.rks, O_EXCL) in `directory` and writes its
  // header. On failure returns nullptr and sets `ec`; error_detail is set to a message naming the path.
  static std::unique_ptr<SpillFile> create(const std::filesystem::path& directory, std::uint32_t record_max,
                                           std::error_code& ec, std::string* error_detail = nullptr);
  // Opens an existing spill file to read it from its first record (tools and tests). Validates the header.
  static std::unique_ptr<SpillFile> open(const std::filesystem::path& file, std::error_code& ec,
                                         std::string* error_detail = nullptr);

  ~SpillFile();  // closes the descriptor; does not remove the file (remove() does)
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends one record. On error nothing of the record remains in the file and the error is returned.
  std::error_code append(std::span<const std::byte> payload);

  enum class Read { Record, End, Error };
  // Reads the next record into `payload` (replacing its contents). End: every appended record was read.
  // Error: `ec` says what, error_detail() says where (file and byte offset); the reader stays stuck at
  // that offset (an error never joins two records into one and never skips to a later one).
  Read read(std::vector<std::byte>& payload, std::error_code& ec);

  [[nodiscard]] bool drained() const noexcept { return read_offset_ == write_offset_; }
  // Closes and unlinks the file. Idempotent.
  std::error_code remove();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t read_offset() const noexcept { return read_offset_; }
  [[nodiscard]] std::uint64_t write_offset() const noexcept { return write_offset_; }
  [[nodiscard]] const std::string& error_detail() const noexcept { return error_detail_; }

 private:
  SpillFile(int fd, std::filesystem::path path, std::uint32_t record_max, std::uint64_t end);
  std::error_code fail(std::error_code ec, std::uint64_t offset, const char* what);
  // Makes [offset, offset + len) available in read_buf_; returns the bytes actually available (< len on EOF).
  std::size_t fill(std::uint64_t offset, std::size_t len, std::error_code& ec);

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint32_t record_max_;
  std::uint64_t write_offset_;  // end of the last whole record
  std::uint64_t read_offset_ = kHeaderSize;
  std::vector<std::byte> frame_;     // scratch for append: frame + payload, one pwrite
  std::vector<std::byte> read_buf_;  // read-ahead window
  std::uint64_t read_buf_start_ = 0; // file offset of read_buf_[0]
  std::size_t read_buf_len_ = 0;
  std::string error_detail_;
};

}  // namespace ringkit
