// SPDX-License-Identifier: MIT
// libFuzzer: the snapshot, MANIFEST and durable-mark decoders on arbitrary bytes. Either a WalError naming the problem
// or a valid catalog; a snapshot that decodes re-encodes to the same bytes (version 2). The first byte's
// bit 0 says whether to fix up the trailing CRC (so the fuzzer reaches what lies behind it); the rest is
// the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <span>
#include <string>

#include "rewardpool/snapshot.hpp"
#include "rewardpool/wal_format.hpp"

using namespace rewardpool;
using namespace rewardpool::wal;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> file(reinterpret_cast<const std::byte*>(data + 1), reinterpret_cast<const std::byte*>(data + size));
  if ((data[0] & 1) && file.size() >= 4) {
    put_u32(file.data() + file.size() - 4, checksum(file.data(), file.size() - 4));
  }
  const std::span<const std::byte> bytes(file);
  size = file.size();
  data = reinterpret_cast<const std::uint8_t*>(file.data());
  try {
    const Snapshot s = decode_snapshot(bytes, "fuzz");
    validate_catalog(s.catalog, "fuzz");  // what decoded must be a usable catalog
    if (size > 9 && data[8] == kFormatVersion) {
      const std::vector<std::byte> again = encode_snapshot(s);
      if (again.size() != size || !std::equal(again.begin(), again.end(), bytes.begin())) std::abort();
    }
  } catch (const WalError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  try {
    const Manifest m = decode_manifest(bytes, "fuzz");
    if (encode_manifest(m).size() != size) std::abort();
  } catch (const WalError&) {
  }
  // The durable mark never throws: a mark, or none with a reason; a mark is one of the slots, re-encoded.
  std::string error;
  if (const auto mark = decode_durable_mark(bytes, error)) {
    std::byte slot[kDurableSlotSize];
    encode_durable_slot(*mark, slot);
    bool found = false;
    for (std::size_t off = 0; off + kDurableSlotSize <= size && off < 2 * kDurableSlotSize; off += kDurableSlotSize) {
      found |= std::equal(slot, slot + kDurableSlotSize, bytes.begin() + static_cast<std::ptrdiff_t>(off));
    }
    if (!found) std::abort();
  } else if (size != 0 && error.empty()) {
    std::abort();  // no mark in a non-empty file must say why
  }
  return 0;
}
