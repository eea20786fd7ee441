// SPDX-License-Identifier: MIT
#include "rewardpool/snapshot.hpp"

#include <sys/stat.h>

#include <bit>
#include <cstring>

#include "rewardpool/wal_format.hpp"

namespace rewardpool::wal {

namespace {
constexpr std::size_t kSnapshotHeaderV1 = 32;
constexpr std::size_t kSnapshotHeaderV2 = 40;
constexpr std::array<char, 8> kManifestMagic{'R', 'P', 'M', 'A', 'N', 'I', 'F', '1'};
constexpr std::size_t kManifestSize = 8 + 2 + 2 + 4 + 8 + 8 + 8 + 4;
}  // namespace

std::vector<std::byte> encode_snapshot(const Snapshot& s) {
  std::size_t size = kSnapshotHeaderV2 + 4;
  for (const Item& it : s.catalog.items) size += 2 + it.id.size() + 16;
  std::vector<std::byte> out(size);
  std::byte* p = out.data();
  std::memcpy(p, kSnapshotMagic.data(), 8);
  put_u16(p + 8, kFormatVersion);
  put_u16(p + 10, 0);
  put_u32(p + 12, static_cast<std::uint32_t>(s.catalog.items.size()));
  put_u64(p + 16, s.lsn);
  put_u64(p + 24, s.draws);
  put_u64(p + 32, s.next_request_id);
  p += kSnapshotHeaderV2;
  for (const Item& it : s.catalog.items) {
    put_u16(p, static_cast<std::uint16_t>(it.id.size()));
    std::memcpy(p + 2, it.id.data(), it.id.size());
    p += 2 + it.id.size();
    put_u64(p, static_cast<std::uint64_t>(it.quantity));
    put_u64(p + 8, std::bit_cast<std::uint64_t>(it.weight));
    p += 16;
  }
  put_u32(p, checksum(out.data(), size - 4));
  return out;
}

Snapshot decode_snapshot(std::span<const std::byte> b, const std::string& path) {
  if (b.size() < kSnapshotHeaderV1 + 4) throw WalError(path + ": snapshot truncated (" + std::to_string(b.size()) + " bytes)");
  if (std::memcmp(b.data(), kSnapshotMagic.data(), 8) != 0) throw WalError(path + ": not a snapshot (bad magic)");
  const std::uint32_t stored = get_u32(b.data() + b.size() - 4);
  if (stored != checksum(b.data(), b.size() - 4)) throw WalError(path + ": snapshot checksum mismatch");
  const std::uint16_t version = get_u16(b.data() + 8);
  if (version < kOldestReadableVersion || version > kFormatVersion) {
    throw WalError(path + ": snapshot format version " + std::to_string(version) + " is not supported");
  }
  if (get_u16(b.data() + 10) != 0) throw WalError(path + ": snapshot has non-zero reserved bytes");
  const std::size_t header = version == 1 ? kSnapshotHeaderV1 : kSnapshotHeaderV2;
  if (b.size() < header + 4) throw WalError(path + ": snapshot truncated (" + std::to_string(b.size()) + " bytes)");
  Snapshot s;
  const std::uint32_t count = get_u32(b.data() + 12);
  s.lsn = get_u64(b.data() + 16);
  s.draws = get_u64(b.data() + 24);
  s.next_request_id = version == 1 ? s.lsn + 1 : get_u64(b.data() + 32);
  std::size_t off = header;
  const std::size_t end = b.size() - 4;
  if (count > kMaxItems || count > (end - off) / 18) {
    throw WalError(path + ": snapshot claims " + std::to_string(count) + " items, more than its " +
                   std::to_string(end - off) + " bytes can hold");
  }
  s.catalog.items.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (end - off < 2) throw WalError(path + ": snapshot item " + std::to_string(i) + " runs past the end");
    const std::uint16_t len = get_u16(b.data() + off);
    if (end - off < 2u + len + 16u) throw WalError(path + ": snapshot item " + std::to_string(i) + " runs past the end");
    Item it;
    it.id.assign(reinterpret_cast<const char*>(b.data() + off + 2), len);
    off += 2 + len;
    it.quantity = static_cast<std::int64_t>(get_u64(b.data() + off));
    it.weight = std::bit_cast<double>(get_u64(b.data() + off + 8));
    off += 16;
    s.catalog.items.push_back(std::move(it));
  }
  if (off != end) throw WalError(path + ": " + std::to_string(end - off) + " unexpected bytes after the snapshot items");
  try {
    validate_catalog(s.catalog, path);
  } catch (const CatalogError& e) {
    throw WalError(std::string("invalid snapshot contents: ") + e.what());
  }
  return s;
}

void write_snapshot_file(FileIo& io, const std::string& dir, const Snapshot& s) {
  const std::vector<std::byte> bytes = encode_snapshot(s);
  const std::string name = snapshot_name(s.lsn);
  detail::write_file_atomically(io, dir, name, bytes);
  const std::string path = detail::join(dir, name);
  if (detail::read_file(path) != bytes) throw WalError(path + ": the snapshot read back differs from what was written");
}

std::uint64_t Manifest::max_records() const noexcept {
  return segment_bytes > kSegmentHeaderSize ? (segment_bytes - kSegmentHeaderSize) / (kRecordHeaderSize + 4) + 1 : 1;
}

std::vector<std::byte> encode_manifest(const Manifest& m) {
  std::vector<std::byte> out(kManifestSize);
  std::byte* p = out.data();
  std::memcpy(p, kManifestMagic.data(), 8);
  put_u16(p + 8, kFormatVersion);
  put_u16(p + 10, 0);
  put_u32(p + 12, 0);
  put_u64(p + 16, m.segment_seq);
  put_u64(p + 24, m.base_lsn);
  put_u64(p + 32, m.segment_bytes);
  put_u32(p + 40, checksum(p, 40));
  return out;
}

Manifest decode_manifest(std::span<const std::byte> b, const std::string& path) {
  if (b.size() != kManifestSize) throw WalError(path + ": manifest has " + std::to_string(b.size()) + " bytes, expected 44");
  if (std::memcmp(b.data(), kManifestMagic.data(), 8) != 0) throw WalError(path + ": not a manifest (bad magic)");
  if (get_u32(b.data() + 40) != checksum(b.data(), 40)) throw WalError(path + ": manifest checksum mismatch");
  if (get_u16(b.data() + 8) != kFormatVersion) {
    throw WalError(path + ": manifest format version " + std::to_string(get_u16(b.data() + 8)) + " is not supported");
  }
  if (get_u16(b.data() + 10) != 0 || get_u32(b.data() + 12) != 0) throw WalError(path + ": manifest has non-zero reserved bytes");
  return Manifest{get_u64(b.data() + 16), get_u64(b.data() + 24), get_u64(b.data() + 32)};
}

void write_manifest(FileIo& io, const std::string& dir, const Manifest& m) {
  detail::write_file_atomically(io, dir, kManifestName, encode_manifest(m));
}

namespace {
constexpr std::array<char, 8> kDurableMagic{'R', 'P', 'D', 'U', 'R', 'A', 'B', '1'};
}

void encode_durable_slot(std::uint64_t lsn, std::byte* p) noexcept {
  std::memcpy(p, kDurableMagic.data(), 8);
  put_u64(p + 8, lsn);
  put_u64(p + 16, 0);
  put_u32(p + 24, 0);
  put_u32(p + 28, checksum(p, 28));
}

std::optional<std::uint64_t> decode_durable_mark(std::span<const std::byte> b, std::string& error) {
  std::optional<std::uint64_t> mark;
  if (b.empty()) return mark;  // created, never written (a crash right after the open): no mark, no damage
  if (b.size() != kDurableSlotSize && b.size() != 2 * kDurableSlotSize) {
    error = "durable mark has " + std::to_string(b.size()) + " bytes, expected 32 or 64";
  }
  for (std::size_t off = 0; off + kDurableSlotSize <= b.size() && off < 2 * kDurableSlotSize; off += kDurableSlotSize) {
    const std::byte* p = b.data() + off;
    if (std::memcmp(p, kDurableMagic.data(), 8) != 0 || get_u32(p + 28) != checksum(p, 28) || get_u64(p + 16) != 0 ||
        get_u32(p + 24) != 0) {
      if (error.empty()) error = "durable mark slot at offset " + std::to_string(off) + " is damaged (checksum mismatch or bad magic)";
      continue;
    }
    mark = std::max(mark.value_or(0), get_u64(p + 8));
  }
  return mark;
}

bool has_data(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  const detail::DirListing l = detail::list_dir(dir);
  return !l.segments.empty() || !l.snapshots.empty();
}

void initialize_data_dir(const std::string& dir, const Catalog& catalog) {
  validate_catalog(catalog, "catalog");
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw WalError("cannot create data directory " + dir + ": " + detail::errno_text(errno));
  }
  if (has_data(dir)) throw WalError(dir + " already holds a rewardpool log");
  write_snapshot_file(posix_io(), dir, Snapshot{catalog, 0, 0, 1});
}

}  // namespace rewardpool::wal
