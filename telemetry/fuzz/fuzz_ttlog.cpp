// SPDX-License-Identifier: MIT
// libFuzzer: the ttlog reader (ttlog::parse, as ttlog-cat uses it) on arbitrary bytes. It must never
// crash or read out of bounds, always terminate, consume everything when final, report entries in
// non-decreasing block offsets, and render every entry as text and JSON without throwing.
// The first byte chooses the shape: bit 0 puts a valid file header in front; bit 1 wraps the rest in a
// block with a correct CRC, so the record decoder behind the CRC is reached too; bit 2 parses in
// follow mode (final = false) first and then the remainder with final = true, as ttlog-cat -f does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ringkit/crc32c.hpp"
#include "ringkit/telemetry/ttlog.hpp"

using namespace ringkit::telemetry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0];
  std::vector<std::byte> bytes;
  if (mode & 1) {
    bytes.resize(ttlog::kFileHeaderSize);
    ttlog::write_file_header(bytes.data());
  }
  const auto* p = reinterpret_cast<const std::byte*>(data + 1);
  if (mode & 2) {
    const auto len = static_cast<std::uint32_t>(size - 1);
    const std::uint32_t count = len == 0 ? 0 : 1 + (static_cast<std::uint32_t>(data[size - 1]) % 8);
    std::byte h[ttlog::kBlockHeaderSize];
    std::memcpy(h, &ttlog::kBlockMagic, 4);
    std::memcpy(h + 4, &len, 4);
    std::memcpy(h + 8, &count, 4);
    std::uint32_t crc = ringkit::crc32c_extend(0, std::span<const std::byte>(h + 4, 8));
    crc = ringkit::crc32c_extend(crc, std::span<const std::byte>(p, size - 1));
    std::memcpy(h + 12, &crc, 4);
    bytes.insert(bytes.end(), h, h + sizeof h);
  }
  bytes.insert(bytes.end(), p, p + size - 1);

  std::uint64_t last_offset = 0;
  auto on_entry = [&](const ttlog::Entry& e) {
    if (e.offset < last_offset) std::abort();
    last_offset = e.offset;
    (void)ttlog::to_text(e);
    (void)ttlog::to_json(e);
  };
  auto on_damage = [&](const ttlog::Damage& d) {
    if (d.offset > bytes.size() || d.length > bytes.size() - d.offset) std::abort();
  };
  if (mode & 4) {
    const ttlog::ParseResult r = ttlog::parse(bytes, 0, false, on_entry, on_damage);
    if (r.consumed > bytes.size()) std::abort();
    std::span<const std::byte> rest(bytes.data() + r.consumed, bytes.size() - r.consumed);
    const ttlog::ParseResult r2 = ttlog::parse(rest, r.consumed, true, on_entry, on_damage);
    if (r2.consumed != rest.size()) std::abort();
  } else {
    const ttlog::ParseResult r = ttlog::parse(bytes, 0, true, on_entry, on_damage);
    if (r.consumed != bytes.size()) std::abort();
  }
  return 0;
}
