// SPDX-License-Identifier: MIT
// Property tests for the WAL decoders (RELIABILITY rows 11 and 14, as a randomized stand-in for a
// fuzzer): whatever is done to a segment's bytes (a flipped byte, a truncation, a cut-out range, inserted
// garbage), the reader never crashes, never invents a record and never joins two records: everything it
// returns is one of the written records, in the written order. A damaged snapshot is always an error.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "rewardpool/wal.hpp"

using namespace rewardpool;
using namespace rewardpool::wal;

namespace {

std::vector<Record> gen_records() {
  const auto n = *rc::gen::inRange<std::size_t>(1, 40);
  std::vector<Record> out;
  for (std::size_t i = 0; i < n; ++i) {
    Record r{};
    r.lsn = 1000 + i;
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        r.type = RecordType::Draw;
        r.item = *rc::gen::arbitrary<std::uint32_t>();
        break;
      case 1:
        r.type = RecordType::Update;
        r.item = *rc::gen::arbitrary<std::uint32_t>();
        r.quantity = *rc::gen::arbitrary<std::int64_t>();
        r.weight = static_cast<double>(*rc::gen::inRange(1, 1'000'000)) / 7.0;
        break;
      default:
        r.type = RecordType::SnapshotMarker;
        r.snapshot_lsn = r.lsn - 1;
        break;
    }
    out.push_back(r);
  }
  return out;
}

std::vector<std::byte> encode(const std::vector<Record>& recs) {
  std::vector<std::byte> out(kSegmentHeaderSize);
  encode_segment_header(1, recs.front().lsn, out.data());
  for (const Record& r : recs) {
    std::byte buf[kMaxRecordSize];
    out.insert(out.end(), buf, buf + encode_record(r, buf));
  }
  return out;
}

// True if `got` is a subsequence of `written` (each element equal to a written record, in order).
bool subsequence(const std::vector<Record>& got, const std::vector<Record>& written) {
  std::size_t j = 0;
  for (const Record& g : got) {
    while (j < written.size() && !(written[j] == g)) ++j;
    if (j == written.size()) return false;
    ++j;
  }
  return true;
}

}  // namespace

RC_GTEST_PROP(WalReaderProperty, DamagedSegmentsYieldOnlyWrittenRecordsInOrder, ()) {
  const std::vector<Record> written = gen_records();
  std::vector<std::byte> bytes = encode(written);
  const int mutation = *rc::gen::inRange(0, 4);
  const auto pos = *rc::gen::inRange<std::size_t>(kSegmentHeaderSize, bytes.size());
  bool prefix_only = true;  // flips, truncations and appended garbage leave a prefix
  switch (mutation) {
    case 0:
      bytes[pos] ^= static_cast<std::byte>(*rc::gen::inRange(1, 256));
      break;
    case 1:
      bytes.resize(pos);
      break;
    case 2: {
      const auto len = *rc::gen::inRange<std::size_t>(1, 60);
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                  bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), pos + len)));
      prefix_only = false;  // cutting out exactly whole records leaves a subsequence
      break;
    }
    default: {
      const auto junk = *rc::gen::container<std::vector<std::uint8_t>>(*rc::gen::inRange<std::size_t>(1, 40), rc::gen::arbitrary<std::uint8_t>());
      std::vector<std::byte> b(junk.size());
      for (std::size_t i = 0; i < junk.size(); ++i) b[i] = static_cast<std::byte>(junk[i]);
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pos), b.begin(), b.end());
      prefix_only = false;
      break;
    }
  }
  SegmentReader reader(bytes, "seg");
  std::vector<Record> got;
  ReadResult last;
  for (int guard = 0; guard < 1000; ++guard) {
    last = reader.next();
    if (last.kind != ReadResult::Kind::Record) break;
    got.push_back(last.record);
  }
  RC_ASSERT(last.kind != ReadResult::Kind::Record);  // terminates
  RC_ASSERT(subsequence(got, written));
  if (prefix_only) {
    RC_ASSERT(std::equal(got.begin(), got.end(), written.begin()));
  }
  if (last.kind == ReadResult::Kind::Damaged) {
    RC_ASSERT(last.offset >= kSegmentHeaderSize);
    RC_ASSERT(last.offset < bytes.size());
    RC_ASSERT(!last.reason.empty());
    RC_ASSERT(reader.next().kind == ReadResult::Kind::Damaged);  // stays stuck
  }
}

RC_GTEST_PROP(WalReaderProperty, ArbitraryBytesNeverCrashTheReader, ()) {
  // A valid header (so the record parser is reached) followed by arbitrary bytes.
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(*rc::gen::inRange<std::size_t>(0, 300), rc::gen::arbitrary<std::uint8_t>());
  std::vector<std::byte> bytes(kSegmentHeaderSize + raw.size());
  encode_segment_header(1, 1, bytes.data());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[kSegmentHeaderSize + i] = static_cast<std::byte>(raw[i]);
  SegmentReader reader(bytes, "seg");
  for (int guard = 0; guard < 1000; ++guard) {
    if (reader.next().kind != ReadResult::Kind::Record) return;
  }
  RC_FAIL("reader did not terminate");
}

RC_GTEST_PROP(SnapshotProperty, AnyDamageIsAnError, ()) {
  Snapshot s;
  s.lsn = *rc::gen::arbitrary<std::uint64_t>();
  s.draws = *rc::gen::arbitrary<std::uint64_t>();
  const auto n = *rc::gen::inRange(1, 10);
  for (int i = 0; i < n; ++i) {
    s.catalog.items.push_back({"item" + std::to_string(i), *rc::gen::inRange<std::int64_t>(0, 1'000'000),
                               static_cast<double>(*rc::gen::inRange(1, 1000)) / 4.0});
  }
  std::vector<std::byte> bytes = encode_snapshot(s);
  const Snapshot back = decode_snapshot(bytes, "snap");
  RC_ASSERT(back.catalog == s.catalog);
  RC_ASSERT(back.lsn == s.lsn);
  RC_ASSERT(back.draws == s.draws);
  const auto pos = *rc::gen::inRange<std::size_t>(0, bytes.size());
  if (*rc::gen::arbitrary<bool>()) {
    bytes[pos] ^= static_cast<std::byte>(*rc::gen::inRange(1, 256));
  } else {
    bytes.resize(pos);
  }
  RC_ASSERT_THROWS_AS(decode_snapshot(bytes, "snap"), WalError);
}
