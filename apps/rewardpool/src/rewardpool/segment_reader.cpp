// SPDX-License-Identifier: MIT
#include "rewardpool/segment_reader.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "rewardpool/file_io.hpp"

namespace rewardpool::wal {

SegmentReader::SegmentReader(std::vector<std::byte> bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name)) {
  header_.kind = ReadResult::Kind::End;
  if (bytes_.size() < kSegmentHeaderSize) {
    header_ = damaged(0, "truncated segment header (" + std::to_string(bytes_.size()) + " of 32 bytes)", true);
    return;
  }
  const std::byte* p = bytes_.data();
  std::byte copy[kSegmentHeaderSize];
  std::memcpy(copy, p, kSegmentHeaderSize);
  put_u32(copy + 12, 0);
  if (std::memcmp(p, kSegmentMagic.data(), 8) != 0) {
    header_ = damaged(0, "bad segment magic", zeros_from(0));
  } else if (get_u16(p + 8) < kOldestReadableVersion || get_u16(p + 8) > kFormatVersion) {
    header_ = damaged(0, "unsupported segment format version " + std::to_string(get_u16(p + 8)), false);
  } else if (get_u16(p + 10) != kSegmentHeaderSize || get_u32(p + 12) != checksum(copy, kSegmentHeaderSize)) {
    header_ = damaged(0, "segment header checksum mismatch", false);
  } else {
    seq_ = get_u64(p + 16);
    base_lsn_ = get_u64(p + 24);
  }
}

SegmentReader SegmentReader::open(const std::string& path) { return SegmentReader(detail::read_file(path), path); }

bool SegmentReader::zeros_from(std::size_t offset) const noexcept {
  return std::all_of(bytes_.begin() + static_cast<std::ptrdiff_t>(std::min(offset, bytes_.size())), bytes_.end(),
                     [](std::byte b) { return b == std::byte{0}; });
}

ReadResult SegmentReader::damaged(std::uint64_t offset, std::string reason, bool at_tail) {
  ReadResult r;
  r.kind = ReadResult::Kind::Damaged;
  r.offset = offset;
  r.reason = std::move(reason);
  r.at_tail = at_tail;
  stuck_ = r;
  return r;
}

ReadResult SegmentReader::next() {
  if (stuck_) return *stuck_;
  const std::size_t off = offset_;
  const std::size_t size = bytes_.size();
  ReadResult end;
  end.kind = ReadResult::Kind::End;
  end.offset = off;
  if (off == size) return end;
  const std::size_t left = size - off;
  if (left < kRecordHeaderSize) {
    if (zeros_from(off)) return end;
    return damaged(off, "truncated record header (" + std::to_string(left) + " bytes left)", true);
  }
  const std::byte* h = bytes_.data() + off;
  const std::uint32_t crc = get_u32(h);
  const std::uint32_t len = get_u32(h + 4);
  const auto type_byte = std::to_integer<unsigned>(h[8]);
  if (zeros_from(off)) return end;  // zero padding of a pre-sized segment
  if (std::all_of(h, h + kRecordHeaderSize, [](std::byte b) { return b == std::byte{0}; })) {
    return damaged(off, "zero record header followed by data", false);
  }
  const bool rest_zero = zeros_from(off + kRecordHeaderSize);
  if (type_byte < 1 || type_byte > kMaxRecordType) {
    return damaged(off, "bad record type " + std::to_string(type_byte), rest_zero);
  }
  const auto type = static_cast<RecordType>(type_byte);
  if (len != payload_size(type)) {
    return damaged(off, "bad record length " + std::to_string(len) + " for a " + std::string(to_string(type)) +
                            " record (expected " + std::to_string(payload_size(type)) + ")",
                   rest_zero);
  }
  if (left < kRecordHeaderSize + len) {
    return damaged(off, "truncated record (needs " + std::to_string(kRecordHeaderSize + len) + " bytes, " +
                            std::to_string(left) + " left)",
                   true);
  }
  if (crc != checksum(h + 4, kRecordHeaderSize - 4 + len)) {
    return damaged(off, "checksum mismatch", zeros_from(off + kRecordHeaderSize + len));
  }
  if (h[9] != std::byte{0} || h[10] != std::byte{0} || h[11] != std::byte{0}) {
    return damaged(off, "non-zero reserved bytes", false);
  }
  ReadResult r;
  r.kind = ReadResult::Kind::Record;
  r.offset = off;
  r.record.type = type;
  r.record.lsn = get_u64(h + 12);
  const std::byte* p = h + kRecordHeaderSize;
  switch (type) {
    case RecordType::Draw: r.record.item = get_u32(p); break;
    case RecordType::Update:
      r.record.item = get_u32(p);
      r.record.quantity = static_cast<std::int64_t>(get_u64(p + 4));
      r.record.weight = std::bit_cast<double>(get_u64(p + 12));
      break;
    case RecordType::SnapshotMarker:
    case RecordType::RequestIds: r.record.snapshot_lsn = get_u64(p); break;
    case RecordType::Zero: break;
  }
  offset_ = off + kRecordHeaderSize + len;
  return r;
}

}  // namespace rewardpool::wal
