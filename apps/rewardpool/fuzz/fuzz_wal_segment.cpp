// libFuzzer: the WAL segment reader on arbitrary bytes. Never crashes, always terminates, never returns
// a record whose bytes it did not check (the CRC), offsets only move forward, and after Damaged it stays
// Damaged. The first byte chooses whether a valid header is put in front, so the record parser is reached.
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
    const auto* at = reinterpret_cast<const std::byte*>(data + 1) + (r.offset - ((data[0] & 1) ? kSegmentHeaderSize : 0));
    if ((data[0] & 1) && std::memcmp(buf, at, len) != 0) std::abort();
    last_offset = r.offset + 1;
  }
  return 0;
}
