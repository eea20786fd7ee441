// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/ttlog.hpp"

#include <bit>
#include <cstdio>

#include <fmt/args.h>
#include <fmt/format.h>

#include "ringkit/crc32c.hpp"
#include "ringkit/telemetry/text_format.hpp"

namespace ringkit::telemetry::ttlog {

static_assert(std::endian::native == std::endian::little, "ttlog: the writer assumes a little-endian host");

std::size_t write_file_header(std::byte* out) noexcept {
  std::memcpy(out, kFileMagic, 8);
  const std::uint16_t version = kVersion;
  const std::uint16_t header_size = kFileHeaderSize;
  const std::uint32_t reserved = 0;
  std::memcpy(out + 8, &version, 2);
  std::memcpy(out + 10, &header_size, 2);
  std::memcpy(out + 12, &reserved, 4);
  return kFileHeaderSize;
}

bool BlockBuilder::put_varint(std::uint64_t v) noexcept {
  std::uint8_t tmp[10];
  std::size_t n = 0;
  do {
    std::uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    tmp[n++] = b;
  } while (v);
  return put(tmp, n);
}

bool BlockBuilder::commit(std::size_t start) noexcept {
  if (!ok_) {
    pos_ = start;
    ok_ = true;
    return false;
  }
  ++count_;
  return true;
}

bool BlockBuilder::add_event(const Event& e) noexcept {
  const std::size_t start = pos_;
  put_u8(static_cast<std::uint8_t>(RecordKind::Event)) && put_u64(e.ts_ns) &&
      put_u8(static_cast<std::uint8_t>(e.level)) && put_varint(e.tid) && put_varint(e.line) && put_str(e.file) &&
      put_str(e.message) && put_varint(e.fields.size());
  for (const Field& f : e.fields) {
    if (!ok_) break;
    put_u8(f.numeric ? 1 : 0) && put_str(f.key) && put_str(f.value);
  }
  return commit(start);
}

bool BlockBuilder::add_raw(std::uint64_t ts_ns, Level level, std::uint32_t tid, const Metadata& meta,
                           const std::byte* payload, std::size_t len, std::uint8_t flags) noexcept {
  const std::size_t start = pos_;
  put_u8(static_cast<std::uint8_t>(RecordKind::RawEvent)) && put_u64(ts_ns) &&
      put_u8(static_cast<std::uint8_t>(level)) && put_varint(tid) && put_varint(meta.line) &&
      put_str(meta.file ? std::string_view(meta.file) : std::string_view()) && put_str(meta.format) && put_u8(flags) &&
      put_varint(meta.nargs);
  std::size_t off = 0;
  for (std::size_t i = 0; i < meta.nargs && ok_; ++i) {
    const ArgInfo& a = meta.args[i];
    std::size_t n = a.size;
    const std::byte* value = payload + off;
    if (a.tag == ArgTag::string) {
      std::uint32_t sl = 0;
      if (off + 4 <= len) std::memcpy(&sl, payload + off, 4);
      off += 4;
      value = payload + off;
      n = sl;
    }
    if (off + n > len) n = off < len ? len - off : 0;  // never read past the payload
    put_u8(static_cast<std::uint8_t>(a.tag)) && put_str(a.key ? std::string_view(a.key) : std::string_view()) &&
        put_varint(n) && put(value, n);
    off += n;
  }
  return commit(start);
}

bool BlockBuilder::add_note(std::uint64_t ts_ns, std::string_view text) noexcept {
  const std::size_t start = pos_;
  put_u8(static_cast<std::uint8_t>(RecordKind::Note)) && put_u64(ts_ns) && put_str(text);
  return commit(start);
}

std::span<const std::byte> BlockBuilder::finish() noexcept {
  const auto payload_len = static_cast<std::uint32_t>(pos_ - kBlockHeaderSize);
  std::memcpy(buf_ + 0, &kBlockMagic, 4);
  std::memcpy(buf_ + 4, &payload_len, 4);
  std::memcpy(buf_ + 8, &count_, 4);
  // The CRC covers the length and count fields and the payload.
  std::uint32_t crc = crc32c_extend(0, std::span<const std::byte>(buf_ + 4, 8));
  crc = crc32c_extend(crc, std::span<const std::byte>(buf_ + kBlockHeaderSize, payload_len));
  std::memcpy(buf_ + 12, &crc, 4);
  return {buf_, pos_};
}

// ---- reading ----------------------------------------------------------------------------------------
namespace {

class In {
 public:
  In(const std::byte* p, std::size_t n) : p_(p), end_(p + n) {}
  bool u8(std::uint8_t& v) { return raw(&v, 1); }
  bool u64(std::uint64_t& v) { return raw(&v, 8); }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!u8(b)) return false;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool u32v(std::uint32_t& v) {
    std::uint64_t x;
    if (!varint(x) || x > 0xFFFFFFFFu) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n;
    if (!varint(n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    s.assign(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  bool raw(void* out, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) return false;
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  const std::byte* p_;
  const std::byte* end_;
};

bool valid_tag(std::uint8_t t) { return t >= 1 && t <= static_cast<std::uint8_t>(ArgTag::opaque); }

// Parses one record; false if malformed.
bool parse_record(In& in, Entry& e) {
  std::uint8_t kind, level;
  if (!in.u8(kind)) return false;
  e = Entry{};
  if (kind == static_cast<std::uint8_t>(RecordKind::Note)) {
    e.kind = RecordKind::Note;
    return in.u64(e.ts_ns) && in.str(e.message);
  }
  if (kind != static_cast<std::uint8_t>(RecordKind::Event) && kind != static_cast<std::uint8_t>(RecordKind::RawEvent))
    return false;
  e.kind = static_cast<RecordKind>(kind);
  if (!in.u64(e.ts_ns) || !in.u8(level) || level > static_cast<std::uint8_t>(Level::critical) || !in.u32v(e.tid) ||
      !in.u32v(e.line) || !in.str(e.file))
    return false;
  e.level = static_cast<Level>(level);
  if (e.kind == RecordKind::Event) {
    std::uint64_t n;
    if (!in.str(e.message) || !in.varint(n) || n > 4096) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint8_t numeric;
      Entry::KV kv;
      if (!in.u8(numeric) || numeric > 1 || !in.str(kv.key) || !in.str(kv.value)) return false;
      kv.numeric = numeric == 1;
      e.fields.push_back(std::move(kv));
    }
    return true;
  }
  std::uint8_t flags;
  std::uint64_t n;
  if (!in.str(e.format) || !in.u8(flags) || !in.varint(n) || n > 4096) return false;
  e.truncated = (flags & kTruncated) != 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint8_t tag;
    Arg a;
    if (!in.u8(tag) || !valid_tag(tag) || !in.str(a.key) || !in.str(a.bytes)) return false;
    a.tag = static_cast<ArgTag>(tag);
    e.args.push_back(std::move(a));
  }
  std::vector<Arg> fmt_args;
  for (const Arg& a : e.args) {
    if (a.key.empty()) fmt_args.push_back(a);
    else {
      std::vector<Arg> one{Arg{a.tag, {}, a.bytes}};
      const bool numeric = a.tag != ArgTag::string && a.tag != ArgTag::opaque && a.tag != ArgTag::pointer &&
                           a.tag != ArgTag::boolean && a.tag != ArgTag::chr;
      e.fields.push_back({a.key, format_raw("{}", one), numeric});
    }
  }
  e.message = format_raw(e.format, fmt_args);
  if (e.truncated) e.message += " [truncated]";
  return true;
}

std::uint32_t load32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

enum class BlockCheck { Good, Bad, Incomplete };

BlockCheck check_block(std::span<const std::byte> data, std::size_t at, std::size_t& total, std::string& why) {
  const std::size_t avail = data.size() - at;
  if (avail < kBlockHeaderSize) {
    why = "incomplete block header";
    return BlockCheck::Incomplete;
  }
  const std::byte* p = data.data() + at;
  if (load32(p) != kBlockMagic) {
    why = "bad block magic";
    return BlockCheck::Bad;
  }
  const std::uint32_t len = load32(p + 4);
  if (len > kMaxBlockPayload) {
    why = "block length " + std::to_string(len) + " exceeds the maximum";
    return BlockCheck::Bad;
  }
  total = kBlockHeaderSize + len;
  if (avail < total) {
    why = "block truncated (" + std::to_string(avail) + " of " + std::to_string(total) + " bytes)";
    return BlockCheck::Incomplete;
  }
  std::uint32_t crc = crc32c_extend(0, std::span<const std::byte>(p + 4, 8));
  crc = crc32c_extend(crc, std::span<const std::byte>(p + kBlockHeaderSize, len));
  if (crc != load32(p + 12)) {
    why = "CRC mismatch";
    return BlockCheck::Bad;
  }
  return BlockCheck::Good;
}

// The next offset > from where a complete, CRC-valid block starts; npos if none.
std::size_t find_next_good(std::span<const std::byte> data, std::size_t from) {
  for (std::size_t at = from; at + kBlockHeaderSize <= data.size(); ++at) {
    if (load32(data.data() + at) != kBlockMagic) continue;
    std::size_t total = 0;
    std::string why;
    if (check_block(data, at, total, why) == BlockCheck::Good) return at;
  }
  return std::string::npos;
}

}  // namespace

ParseResult parse(std::span<const std::byte> data, std::uint64_t base, bool final,
                  const std::function<void(const Entry&)>& on_entry,
                  const std::function<void(const Damage&)>& on_damage) {
  ParseResult r;
  std::size_t at = 0;
  if (base == 0) {
    if (data.size() < kFileHeaderSize) {
      if (final && !data.empty()) on_damage({0, data.size(), "file shorter than the 16-byte ttlog header"});
      r.consumed = final ? data.size() : 0;
      return r;
    }
    std::uint16_t version = 0;
    std::memcpy(&version, data.data() + 8, 2);
    if (std::memcmp(data.data(), kFileMagic, 8) != 0) {
      on_damage({0, kFileHeaderSize, "not a ttlog file header (bad magic)"});
    } else if (version != kVersion) {
      on_damage({0, kFileHeaderSize, "unsupported ttlog version " + std::to_string(version)});
    } else {
      r.header_ok = true;
    }
    at = kFileHeaderSize;
  }
  Entry e;
  while (at < data.size()) {
    std::size_t total = 0;
    std::string why;
    const BlockCheck c = check_block(data, at, total, why);
    if (c == BlockCheck::Good) {
      const std::byte* p = data.data() + at;
      const std::uint32_t count = load32(p + 8);
      In in(p + kBlockHeaderSize, total - kBlockHeaderSize);
      for (std::uint32_t i = 0; i < count; ++i) {
        if (!parse_record(in, e)) {
          on_damage({base + at, total, "malformed record " + std::to_string(i) + " in a block with a good CRC"});
          break;
        }
        e.offset = base + at;
        on_entry(e);
      }
      at += total;
      continue;
    }
    const std::size_t next = find_next_good(data, at + 1);
    if (c == BlockCheck::Incomplete && next == std::string::npos) {
      if (!final) break;  // wait for the writer (follow mode)
      on_damage({base + at, data.size() - at, why});
      at = data.size();
      break;
    }
    const std::size_t resume = next == std::string::npos ? data.size() : next;
    on_damage({base + at, resume - at, why});
    at = resume;
  }
  r.consumed = at;
  return r;
}

// ---- formatting ------------------------------------------------------------------------------------
namespace {
template <class T>
T load_as(const std::string& b) {
  T v{};
  std::memcpy(&v, b.data(), b.size() < sizeof(T) ? b.size() : sizeof(T));
  return v;
}
}  // namespace

std::string format_raw(std::string_view format, const std::vector<Arg>& args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const Arg& a : args) {
    switch (a.tag) {
      // A bool is stored as one byte; a damaged file may hold any value there, which is not a valid bool
      // object: read the byte, never the bool (UBSan caught this through fuzz_ttlog).
      case ArgTag::boolean: store.push_back(load_as<std::uint8_t>(a.bytes) != 0); break;
      case ArgTag::chr: store.push_back(load_as<char>(a.bytes)); break;
      case ArgTag::i8: store.push_back(static_cast<int>(load_as<std::int8_t>(a.bytes))); break;
      case ArgTag::i16: store.push_back(load_as<std::int16_t>(a.bytes)); break;
      case ArgTag::i32: store.push_back(load_as<std::int32_t>(a.bytes)); break;
      case ArgTag::i64: store.push_back(load_as<std::int64_t>(a.bytes)); break;
      case ArgTag::u8: store.push_back(static_cast<unsigned>(load_as<std::uint8_t>(a.bytes))); break;
      case ArgTag::u16: store.push_back(load_as<std::uint16_t>(a.bytes)); break;
      case ArgTag::u32: store.push_back(load_as<std::uint32_t>(a.bytes)); break;
      case ArgTag::u64: store.push_back(load_as<std::uint64_t>(a.bytes)); break;
      case ArgTag::f32: store.push_back(load_as<float>(a.bytes)); break;
      case ArgTag::f64: store.push_back(load_as<double>(a.bytes)); break;
      case ArgTag::pointer: store.push_back(reinterpret_cast<const void*>(load_as<std::uintptr_t>(a.bytes))); break;
      case ArgTag::string: store.push_back(a.bytes); break;
      case ArgTag::opaque:
      default: {
        std::string hex = fmt::format("<{} bytes:", a.bytes.size());
        for (char c : a.bytes) hex += fmt::format(" {:02x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        hex += ">";
        store.push_back(hex);
        break;
      }
    }
  }
  try {
    return fmt::vformat(fmt::string_view(format.data(), format.size()), store);
  } catch (const std::exception&) {
    // A user type's format spec (say "{:>8%H}") need not apply to its hex stand-in: show all parts.
    std::string out(format);
    out += " [args:";
    for (const Arg& a : args) {
      out += ' ';
      std::vector<Arg> one{a};
      out += a.tag == ArgTag::string ? a.bytes : format_raw("{}", one);
    }
    out += "]";
    return out;
  }
}

std::string to_text(const Entry& e) {
  fmt::memory_buffer b;
  if (e.kind == RecordKind::Note) {
    append_timestamp(b, e.ts_ns);
    b.append(std::string_view(" # "));
    b.append(e.message);
    return fmt::to_string(b);
  }
  std::vector<Field> fields;
  for (const auto& kv : e.fields) fields.push_back({kv.key, kv.value, kv.numeric});
  Event ev{e.ts_ns, e.level, e.tid, e.file, e.line, e.message, fields};
  append_text(b, ev, false);
  if (b.size() && b.data()[b.size() - 1] == '\n') b.resize(b.size() - 1);
  return fmt::to_string(b);
}

std::string to_json(const Entry& e) {
  fmt::memory_buffer b;
  if (e.kind == RecordKind::Note) {
    b.append(std::string_view("{\"ts\":\""));
    append_timestamp(b, e.ts_ns);
    b.append(std::string_view("\",\"note\":"));
    append_json_string(b, e.message);
    b.append(std::string_view("}"));
    return fmt::to_string(b);
  }
  std::vector<Field> fields;
  for (const auto& kv : e.fields) fields.push_back({kv.key, kv.value, kv.numeric});
  Event ev{e.ts_ns, e.level, e.tid, e.file, e.line, e.message, fields};
  append_json(b, ev);
  if (b.size() && b.data()[b.size() - 1] == '\n') b.resize(b.size() - 1);
  return fmt::to_string(b);
}

}  // namespace ringkit::telemetry::ttlog
