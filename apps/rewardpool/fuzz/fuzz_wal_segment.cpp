// SPDX-License-Identifier: MIT
// libFuzzer: the WAL segment reader on arbitrary bytes. Never crashes, always terminates, never returns
// a record whose bytes it did not check (the CRC), offsets only move forward, and after Damaged it stays
// Damaged. The first byte chooses whether a valid header is put in front (bit 0), so the record parser is
// reached, and whether the records' CRCs are fixed up (bit 1), so what lies behind the CRC is reached too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "rewardpool/segment_reader.hpp"

using namespace rewardpool::wal;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> bytes;
  if (data[0] & 1) {
    bytes.resize(kSegmentHeaderSize);
    encode_segment_header(1, 1, bytes.data());
  }
  const auto* p = reinterpret_cast<const std::byte*>(data + 1);
  bytes.insert(bytes.end(), p, p + size - 1);
  if ((data[0] & 3) == 3) {
    // Fix up the CRC of every well-formed record from the start, as a writer would have written it.
    std::size_t off = kSegmentHeaderSize;
    while (bytes.size() - off >= kRecordHeaderSize) {
      const auto type = static_cast<RecordType>(std::to_integer<unsigned>(bytes[off + 8]));
      const std::uint32_t len = get_u32(bytes.data() + off + 4);
      if (std::to_integer<unsigned>(bytes[off + 8]) > kMaxRecordType || len != payload_size(type) || len == 0 ||
          bytes.size() - off < kRecordHeaderSize + len) {
        break;
      }
      put_u32(bytes.data() + off, checksum(bytes.data() + off + 4, kRecordHeaderSize - 4 + len));
      off += kRecordHeaderSize + len;
    }
  }
  std::vector<std::byte> original = bytes;
  const std::size_t total = bytes.size();
  SegmentReader reader(std::move(bytes), "fuzz");
  std::uint64_t last_offset = 0;
  const std::size_t max_records = total / kRecordHeaderSize + 1;
  for (std::size_t n = 0;; ++n) {
    const ReadResult r = reader.next();
    if (r.kind == ReadResult::Kind::End) break;
    if (r.kind == ReadResult::Kind::Damaged) {
      if (r.reason.empty() || r.offset > total) std::abort();
      const ReadResult again = reader.next();
      if (again.kind != ReadResult::Kind::Damaged || again.offset != r.offset) std::abort();  // stays stuck
      break;
    }
    if (n > max_records || r.offset < last_offset || r.offset + kRecordHeaderSize + payload_size(r.record.type) > total) {
      std::abort();
    }
    // Re-encoding the record gives back exactly the bytes it was read from.
    std::byte buf[kMaxRecordSize];
    const std::size_t len = encode_record(r.record, buf);
    if (std::memcmp(buf, original.data() + r.offset, len) != 0) std::abort();
    last_offset = r.offset + 1;
  }
  return 0;
}
