// SPDX-License-Identifier: MIT
#include "rewardpool/wal_format.hpp"

#include <bit>


namespace rewardpool::wal {

std::string_view to_string(RecordType t) noexcept {
  switch (t) {
    case RecordType::Zero: return "zero";
    case RecordType::Draw: return "draw";
    case RecordType::Update: return "update";
    case RecordType::SnapshotMarker: return "snapshot-marker";
    case RecordType::RequestIds: return "request-ids";
  }
  return "?";
}

std::size_t encode_record(const Record& r, std::byte* out) noexcept {
  const std::uint32_t len = payload_size(r.type);
  put_u32(out + 4, len);
  out[8] = static_cast<std::byte>(r.type);
  out[9] = out[10] = out[11] = std::byte{0};
  put_u64(out + 12, r.lsn);
  std::byte* p = out + kRecordHeaderSize;
  switch (r.type) {
    case RecordType::Draw: put_u32(p, r.item); break;
    case RecordType::Update:
      put_u32(p, r.item);
      put_u64(p + 4, static_cast<std::uint64_t>(r.quantity));
      put_u64(p + 12, std::bit_cast<std::uint64_t>(r.weight));
      break;
    case RecordType::SnapshotMarker:
    case RecordType::RequestIds: put_u64(p, r.snapshot_lsn); break;
    case RecordType::Zero: break;
  }
  put_u32(out, checksum(out + 4, kRecordHeaderSize - 4 + len));
  return kRecordHeaderSize + len;
}

void encode_segment_header(std::uint64_t segment_seq, std::uint64_t base_lsn, std::byte* out) noexcept {
  std::memcpy(out, kSegmentMagic.data(), 8);
  put_u16(out + 8, kFormatVersion);
  put_u16(out + 10, static_cast<std::uint16_t>(kSegmentHeaderSize));
  put_u32(out + 12, 0);
  put_u64(out + 16, segment_seq);
  put_u64(out + 24, base_lsn);
  put_u32(out + 12, checksum(out, kSegmentHeaderSize));
}

}  // namespace rewardpool::wal
