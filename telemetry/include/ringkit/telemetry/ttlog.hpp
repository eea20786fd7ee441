// SPDX-License-Identifier: MIT
#pragma once
// The ttlog binary log format (docs/ttlog-format.md): a 16-byte file header, then blocks of records,
// each block with a CRC-32C. Writer side: BlockBuilder over a caller-supplied buffer (no allocation,
// async-signal-safe, so the crash handler uses it too). Reader side: parse() over bytes, reporting
// damaged regions by offset and resynchronising at the next good block.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringkit/telemetry/record.hpp"
#include "ringkit/telemetry/sink.hpp"

namespace ringkit::telemetry::ttlog {

inline constexpr char kFileMagic[8] = {'R', 'K', 'T', 'T', 'L', 'O', 'G', '\n'};
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kFileHeaderSize = 16;
inline constexpr std::uint32_t kBlockMagic = 0x4B4C4254;  // bytes "TBLK"
inline constexpr std::size_t kBlockHeaderSize = 16;
inline constexpr std::size_t kMaxBlockPayload = std::size_t{1} << 20;

enum class RecordKind : std::uint8_t { Event = 1, RawEvent = 2, Note = 3 };

// Writes the file header into out[0..16). Returns kFileHeaderSize.
std::size_t write_file_header(std::byte* out) noexcept;

// Builds one block in a fixed buffer: records are appended after room for the block header; finish()
// fills the header (length, count, CRC) and returns the block's bytes. A record that does not fit is
// rolled back (the append returns false): write the block out, reset(), append again.
class BlockBuilder {
 public:
  BlockBuilder(std::byte* buf, std::size_t capacity) noexcept : buf_(buf), cap_(capacity) { reset(); }
  void reset() noexcept {
    pos_ = kBlockHeaderSize;
    count_ = 0;
  }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t payload_capacity() const noexcept { return cap_ - kBlockHeaderSize; }

  bool add_event(const Event& e) noexcept;
  // A record from the flight recorder: the call site's format and the arguments' raw bytes.
  bool add_raw(std::uint64_t ts_ns, Level level, std::uint32_t tid, const Metadata& meta,
               const std::byte* payload, std::size_t len, std::uint8_t flags) noexcept;
  bool add_note(std::uint64_t ts_ns, std::string_view text) noexcept;
  std::span<const std::byte> finish() noexcept;

 private:
  bool put(const void* p, std::size_t n) noexcept {
    if (n == 0) return ok_;  // p may be null (an empty string_view)
    if (n > cap_ - pos_) return ok_ = false;
    std::memcpy(buf_ + pos_, p, n);
    pos_ += n;
    return true;
  }
  bool put_u8(std::uint8_t v) noexcept { return put(&v, 1); }
  bool put_u64(std::uint64_t v) noexcept { return put(&v, 8); }  // little-endian hosts only (static_assert in .cpp)
  bool put_varint(std::uint64_t v) noexcept;
  bool put_str(std::string_view s) noexcept { return put_varint(s.size()) && put(s.data(), s.size()); }
  bool commit(std::size_t start) noexcept;

  std::byte* buf_;
  std::size_t cap_;
  std::size_t pos_ = 0;
  std::uint32_t count_ = 0;
  bool ok_ = true;
};

// ---- reading ----------------------------------------------------------------------------------------
struct Arg {
  ArgTag tag;
  std::string key;    // empty: a format argument
  std::string bytes;  // the raw value (string contents for ArgTag::string)
};

struct Entry {
  RecordKind kind = RecordKind::Event;
  std::uint64_t ts_ns = 0;
  Level level = Level::info;
  std::uint32_t tid = 0;
  std::uint32_t line = 0;
  std::string file;
  std::string message;  // Event: the text; RawEvent: formatted by format_raw(); Note: the text
  struct KV {
    std::string key, value;
    bool numeric;
  };
  std::vector<KV> fields;
  // RawEvent only:
  std::string format;
  std::vector<Arg> args;
  bool truncated = false;
  std::uint64_t offset = 0;  // file offset of the block holding it
};

struct Damage {
  std::uint64_t offset;  // file offset where the damaged region starts
  std::uint64_t length;  // bytes skipped
  std::string reason;
};

struct ParseResult {
  std::size_t consumed = 0;  // bytes fully handled; the rest is an incomplete tail (only when !final)
  bool header_ok = false;
};

// Parses `data`, which starts at file offset `base` (0: it starts with the file header). With final =
// false an incomplete block at the end is left unconsumed (follow mode); with final = true it is
// reported as damage. Never throws on bad input.
ParseResult parse(std::span<const std::byte> data, std::uint64_t base, bool final,
                  const std::function<void(const Entry&)>& on_entry,
                  const std::function<void(const Damage&)>& on_damage);

// Formats a RawEvent's format string with its arguments (user types as hex); never throws.
std::string format_raw(std::string_view format, const std::vector<Arg>& args);

// Renders an entry as one line of text (the console/file format) or JSON.
std::string to_text(const Entry& e);
std::string to_json(const Entry& e);

}  // namespace ringkit::telemetry::ttlog
