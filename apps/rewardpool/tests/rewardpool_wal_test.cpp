// SPDX-License-Identifier: MIT
// The rewardpool write-ahead log: format, LevelDB's reader cases (RELIABILITY rows 11 and 13),
// rotation, snapshots, recovery, fault injection.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "faulty_file_io.hpp"
#include "rewardpool/wal.hpp"
#include "rewardpool_test.hpp"

using namespace rewardpool;
using namespace rewardpool::wal;
namespace fs = std::filesystem;

namespace {

using test::draw_rec;
using test::TempDir;

Catalog small_catalog() { return Catalog{{{"gold", 15, 1.0}, {"silver", 10, 2.0}, {"bronze", 20, 4.0}}}; }

Record update_rec(std::uint64_t lsn, std::uint32_t item, std::int64_t q, double w) {
  Record r{};
  r.type = RecordType::Update;
  r.lsn = lsn;
  r.item = item;
  r.quantity = q;
  r.weight = w;
  return r;
}

// A segment in memory: header + the records; returns the offsets where each record starts.
std::vector<std::byte> make_segment(const std::vector<Record>& recs, std::vector<std::size_t>* offsets = nullptr) {
  std::vector<std::byte> out(kSegmentHeaderSize);
  encode_segment_header(1, recs.empty() ? 1 : recs.front().lsn, out.data());
  for (const Record& r : recs) {
    if (offsets) offsets->push_back(out.size());
    std::byte buf[kMaxRecordSize];
    const std::size_t n = encode_record(r, buf);
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

std::vector<Record> three_records() {
  return {draw_rec(1, 0), update_rec(2, 1, 7, 0.25), draw_rec(3, 2)};
}

// Reads until not a record: the records and the final result.
std::pair<std::vector<Record>, ReadResult> read_all(std::vector<std::byte> bytes) {
  SegmentReader reader(std::move(bytes), "seg");
  std::vector<Record> recs;
  for (;;) {
    ReadResult r = reader.next();
    if (r.kind != ReadResult::Kind::Record) return {recs, r};
    recs.push_back(r.record);
  }
}

}  // namespace

TEST(WalFormat, SyncPoliciesAndBackendsParseOnlyValidNames) {
  EXPECT_EQ(parse_sync_policy("always")->kind, SyncPolicy::Kind::Always);
  EXPECT_EQ(parse_sync_policy("none")->kind, SyncPolicy::Kind::None);
  EXPECT_EQ(parse_sync_policy("interval:25")->interval.count(), 25);
  EXPECT_FALSE(parse_sync_policy("interval:"));
  EXPECT_FALSE(parse_sync_policy("interval:0"));
  EXPECT_FALSE(parse_sync_policy("interval:5x"));
  EXPECT_FALSE(parse_sync_policy("sometimes"));
  EXPECT_EQ(parse_backend("mmap"), Backend::Mmap);
  EXPECT_EQ(parse_backend("none"), Backend::Null);
  EXPECT_FALSE(parse_backend("disk"));
}

// ---- LevelDB's reader cases -------------------------------------------------------------------------
TEST(WalReader, AnEmptySegmentAndZeroPaddingReadAsTheEnd) {
  auto [recs, end] = read_all(make_segment({}));
  EXPECT_TRUE(recs.empty());
  EXPECT_EQ(end.kind, ReadResult::Kind::End);
  auto bytes = make_segment(three_records());
  bytes.resize(bytes.size() + 4096);  // pre-sized (mmap) segment
  auto [recs2, end2] = read_all(bytes);
  EXPECT_EQ(recs2, three_records());
  EXPECT_EQ(end2.kind, ReadResult::Kind::End);
}

TEST(WalReader, ReturnsExactlyTheRecordsWritten) {
  std::vector<Record> in;
  for (std::uint64_t i = 1; i <= 100; ++i) {
    if (i % 3 == 0) in.push_back(update_rec(i, static_cast<std::uint32_t>(i), static_cast<std::int64_t>(i) * 1000, 0.5 * static_cast<double>(i)));
    else if (i % 10 == 1) {
      Record m{};
      m.type = RecordType::SnapshotMarker;
      m.lsn = i;
      m.snapshot_lsn = i - 1;
      in.push_back(m);
    } else in.push_back(draw_rec(i, static_cast<std::uint32_t>(i * 7)));
  }
  auto [recs, end] = read_all(make_segment(in));
  EXPECT_EQ(recs, in);
  EXPECT_EQ(end.kind, ReadResult::Kind::End);
}

TEST(WalReader, TruncatedTrailingRecordIsTheTailAtEveryCut) {
  std::vector<std::size_t> off;
  const auto full = make_segment(three_records(), &off);
  for (std::size_t cut = off[2] + 1; cut < full.size(); ++cut) {
    auto [recs, end] = read_all(std::vector<std::byte>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut)));
    ASSERT_EQ(recs.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(recs[1], three_records()[1]);
    ASSERT_EQ(end.kind, ReadResult::Kind::Damaged) << "cut at " << cut;
    EXPECT_TRUE(end.at_tail);
    EXPECT_EQ(end.offset, off[2]);
  }
  // Cut exactly at a record boundary: a clean end.
  auto [recs, end] = read_all(std::vector<std::byte>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(off[2])));
  EXPECT_EQ(recs.size(), 2u);
  EXPECT_EQ(end.kind, ReadResult::Kind::End);
}

TEST(WalReader, TornWriteIntoZeroPaddingIsTheTail) {
  std::vector<std::size_t> off;
  auto full = make_segment(three_records(), &off);
  full.resize(full.size() + 512);
  // The last record half written into a pre-sized segment: the rest of its bytes are still zero.
  for (std::size_t i = off[2] + 10; i < off[2] + 24; ++i) full[i] = std::byte{0};
  auto [recs, end] = read_all(full);
  EXPECT_EQ(recs.size(), 2u);
  ASSERT_EQ(end.kind, ReadResult::Kind::Damaged);
  EXPECT_TRUE(end.at_tail);
  EXPECT_EQ(end.offset, off[2]);
}

TEST(WalReader, BadLengthIsCorruptionWithOffset) {
  std::vector<std::size_t> off;
  auto bytes = make_segment(three_records(), &off);
  put_u32(bytes.data() + off[1] + 4, 9999);
  auto [recs, end] = read_all(bytes);
  EXPECT_EQ(recs.size(), 1u);  // nothing after the damage
  ASSERT_EQ(end.kind, ReadResult::Kind::Damaged);
  EXPECT_FALSE(end.at_tail);
  EXPECT_EQ(end.offset, off[1]);
  EXPECT_NE(end.reason.find("bad record length 9999"), std::string::npos) << end.reason;
}

TEST(WalReader, ChecksumMismatchIsCorruptionUnlessOnlyZerosFollow) {
  std::vector<std::size_t> off;
  auto bytes = make_segment(three_records(), &off);
  auto middle = bytes;
  middle[off[1] + kRecordHeaderSize + 2] ^= std::byte{0x01};
  auto [recs, end] = read_all(middle);
  EXPECT_EQ(recs.size(), 1u);
  ASSERT_EQ(end.kind, ReadResult::Kind::Damaged);
  EXPECT_FALSE(end.at_tail);
  EXPECT_EQ(end.offset, off[1]);
  EXPECT_EQ(end.reason, "checksum mismatch");
  // The same damage in the last record, with nothing after it, is a torn tail.
  auto last = bytes;
  last[off[2] + kRecordHeaderSize] ^= std::byte{0x40};
  auto [recs2, end2] = read_all(last);
  EXPECT_EQ(recs2.size(), 2u);
  ASSERT_EQ(end2.kind, ReadResult::Kind::Damaged);
  EXPECT_TRUE(end2.at_tail);
  // A flipped LSN is caught too (the CRC covers the header).
  auto lsn = bytes;
  lsn[off[0] + 12] ^= std::byte{0x02};
  EXPECT_EQ(read_all(lsn).first.size(), 0u);
}

TEST(WalReader, UnknownRecordTypeIsCorruptionWithOffset) {
  std::vector<std::size_t> off;
  auto bytes = make_segment(three_records(), &off);
  bytes[off[1] + 8] = std::byte{9};
  auto [recs, end] = read_all(bytes);
  EXPECT_EQ(recs.size(), 1u);
  ASSERT_EQ(end.kind, ReadResult::Kind::Damaged);
  EXPECT_NE(end.reason.find("bad record type 9"), std::string::npos);
  EXPECT_EQ(end.offset, off[1]);
}

TEST(WalReader, AnErrorNeverJoinsTwoRecords) {
  // Splice: record 2's header followed by record 3's bytes (record 2's payload lost). The lengths
  // happen to line up for two draw records, so only the CRC can tell; the reader must not return a
  // record built from two.
  const std::vector<Record> in{draw_rec(1, 1), draw_rec(2, 2), draw_rec(3, 3), draw_rec(4, 4)};
  std::vector<std::size_t> off;
  const auto bytes = make_segment(in, &off);
  std::vector<std::byte> spliced(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(off[1] + kRecordHeaderSize));
  spliced.insert(spliced.end(), bytes.begin() + static_cast<std::ptrdiff_t>(off[2] + kRecordHeaderSize), bytes.end());
  auto [recs, end] = read_all(spliced);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0], in[0]);
  EXPECT_EQ(end.kind, ReadResult::Kind::Damaged);
  EXPECT_EQ(end.offset, off[1]);
  // And the reader stays stuck there.
  SegmentReader reader(spliced, "seg");
  (void)reader.next();
  EXPECT_EQ(reader.next().kind, ReadResult::Kind::Damaged);
  EXPECT_EQ(reader.next().kind, ReadResult::Kind::Damaged);
}

TEST(WalReader, DamagedSegmentHeaderStopsTheReader) {
  auto bytes = make_segment(three_records());
  bytes[3] = std::byte{'X'};
  SegmentReader r(bytes, "seg");
  EXPECT_EQ(r.header_status().kind, ReadResult::Kind::Damaged);
  EXPECT_EQ(r.next().kind, ReadResult::Kind::Damaged);
  SegmentReader shortfile(std::vector<std::byte>(10), "seg");
  EXPECT_TRUE(shortfile.header_status().at_tail);
}

// ---- writer, rotation, snapshots, recovery ---------------------------------------------------------
class WalBackend : public ::testing::TestWithParam<Backend> {};

TEST_P(WalBackend, RoundTripWithRotationAndSnapshot) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  std::vector<Record> written;
  {
    WalOptions o{dir.str(), GetParam(), SyncPolicy{SyncPolicy::Kind::None, {}}, 512, nullptr};
    WalWriter w(o, 1, 1);
    std::uint64_t lsn = 1;
    for (int i = 0; i < 30; ++i) {  // 30 x 24 bytes: several 512-byte segments
      written.push_back(draw_rec(lsn++, static_cast<std::uint32_t>(i % 3)));
      ASSERT_TRUE(w.append(written.back()));
      if (i % 4 == 0) {
        ASSERT_TRUE((w.write() && w.sync_by_policy()));
      }
    }
    written.push_back(update_rec(lsn++, 0, 50, 3.0));
    ASSERT_TRUE(w.append(written.back()));
    ASSERT_TRUE((w.write() && w.sync_by_policy())) << w.error();
    EXPECT_GE(w.stats().segments, 2u);
    ASSERT_TRUE(w.close()) << w.error();
  }
  const RecoveryResult r = recover(dir.str(), {.collect_records = true});
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_FALSE(r.damaged);
  EXPECT_EQ(r.records, written);
  EXPECT_EQ(r.lsn, 31u);
  EXPECT_EQ(r.draws, 30u);
  EXPECT_EQ(r.catalog.items[0].quantity, 50);
  EXPECT_EQ(r.catalog.items[0].weight, 3.0);
  EXPECT_EQ(r.catalog.items[1].quantity, 10 - 10);
  EXPECT_EQ(r.catalog.items[2].quantity, 20 - 10);
  EXPECT_GE(r.segments.size(), 2u);

  // Continue after a snapshot: recovery = snapshot + the records after it; records at or below it are skipped.
  Catalog c = r.catalog;
  c.items[2].quantity -= 1;
  {
    WalOptions o{dir.str(), GetParam(), SyncPolicy{SyncPolicy::Kind::Always, {}}, 512, nullptr};
    WalWriter w(o, r.next_segment_seq, r.lsn + 1);
    ASSERT_TRUE(w.append(draw_rec(32, 2)));
    ASSERT_TRUE(w.write() && w.sync());
    write_snapshot_file(posix_io(), dir.str(), Snapshot{c, 32, 31, 100});
    ASSERT_TRUE(w.append(draw_rec(33, 2)));
    ASSERT_TRUE(w.close());
  }
  const RecoveryResult r2 = recover(dir.str(), {.collect_records = true});
  EXPECT_EQ(r2.snapshot_lsn, 32u);
  EXPECT_EQ(r2.draws, 32u);
  EXPECT_EQ(r2.next_request_id, 100u);
  EXPECT_EQ(r2.catalog.items[2].quantity, 8);
  ASSERT_EQ(r2.records.size(), 1u) << "records at or below the snapshot are skipped";
  EXPECT_EQ(r2.records[0].lsn, 33u);
  // Out of order poisons the writer.
  WalWriter w(WalOptions{dir.str(), GetParam(), SyncPolicy{}, 512, nullptr}, r2.next_segment_seq, 34);
  EXPECT_FALSE(w.append(draw_rec(35, 2)));
  EXPECT_TRUE(w.poisoned());
  EXPECT_NE(w.error().find("out of order"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, WalBackend, ::testing::Values(Backend::File, Backend::Mmap),
                         [](const ::testing::TestParamInfo<Backend>& p) { return std::string(to_string(p.param)); });

namespace {
// Writes `n` draws (item i % 3) to a fresh directory with the file backend; returns the segment path.
std::string write_log(const TempDir& dir, int n) {
  initialize_data_dir(dir.str(), small_catalog());
  WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::None, {}}, 1 << 20, nullptr}, 1, 1);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(w.append(draw_rec(static_cast<std::uint64_t>(i) + 1, static_cast<std::uint32_t>(i % 3))));
  EXPECT_TRUE(w.close());
  return (dir.path() / segment_name(1)).string();
}
}  // namespace

TEST(WalRecovery, TornTailIsTruncatedWithAWarning) {
  TempDir dir;
  const std::string seg = write_log(dir, 6);
  const auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 5);
  {
    // A torn write only happens to a record no sync covered yet: the durable mark says 5, not 6.
    std::byte slots[2 * kDurableSlotSize];
    encode_durable_slot(5, slots);
    encode_durable_slot(5, slots + kDurableSlotSize);
    std::ofstream(dir.path() / kDurableMarkName, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(slots), sizeof slots);
  }
  // inspect (read-only) reports it and changes nothing
  const RecoveryResult ro = recover(dir.str(), {.read_only = true});
  EXPECT_TRUE(ro.damaged);
  EXPECT_EQ(fs::file_size(seg), size - 5);
  const RecoveryResult r = recover(dir.str());
  EXPECT_EQ(r.lsn, 5u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("torn record at segment " + seg + " offset " + std::to_string(size - 24)), std::string::npos)
      << r.warnings[0];
  EXPECT_EQ(fs::file_size(seg), size - 24);
  const RecoveryResult again = recover(dir.str());
  EXPECT_TRUE(again.warnings.empty());
  EXPECT_EQ(again.lsn, 5u);
}

TEST(WalRecovery, CorruptionBeforeTheTailStopsStartupUnlessRepair) {
  TempDir dir;
  const std::string seg = write_log(dir, 6);
  const auto size = fs::file_size(seg);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kSegmentHeaderSize + 2 * 24 + kRecordHeaderSize));  // record 3's payload
    f.put('\x7f');
  }
  try {
    recover(dir.str());
    FAIL() << "no error";
  } catch (const RecoveryError& e) {
    EXPECT_NE(std::string(e.what()).find("segment " + seg + " offset " + std::to_string(kSegmentHeaderSize + 48) +
                                         ": checksum mismatch"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--repair"), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(seg), size) << "a failed start-up changes nothing";
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_GE(r.lsn, 6u) << "a repair continues above every LSN that was written";
  EXPECT_EQ(r.draws, 2u);
  EXPECT_EQ(fs::file_size(seg), kSegmentHeaderSize + 48);
  EXPECT_TRUE(fs::exists(dir.path() / kQuarantineDir / (segment_name(1) + ".from-" + std::to_string(kSegmentHeaderSize + 48))));
  EXPECT_NO_THROW(recover(dir.str()));
}

TEST(WalRecovery, MissingSnapshotAndBadSnapshotAreErrors) {
  TempDir dir;
  EXPECT_THROW(recover(dir.str()), RecoveryError);
  initialize_data_dir(dir.str(), small_catalog());
  EXPECT_THROW(initialize_data_dir(dir.str(), small_catalog()), WalError);
  const auto snap = dir.path() / snapshot_name(0);
  fs::resize_file(snap, fs::file_size(snap) - 1);
  try {
    recover(dir.str());
    FAIL();
  } catch (const RecoveryError& e) {
    EXPECT_NE(std::string(e.what()).find(snap.string()), std::string::npos) << e.what();
  }
}

TEST(WalSnapshot, NonZeroReservedBytesAreDamage) {
  // Found by fuzz_snapshot: the decoder ignored the reserved field, so a damaged header that kept the CRC
  // valid (or a file of some future layout) decoded as if it were version 2.
  std::vector<std::byte> bytes = encode_snapshot(Snapshot{small_catalog(), 4, 4, 9});
  bytes[11] = std::byte{0x3f};
  put_u32(bytes.data() + bytes.size() - 4, checksum(bytes.data(), bytes.size() - 4));
  try {
    decode_snapshot(bytes, "snap");
    FAIL() << "accepted";
  } catch (const WalError& e) {
    EXPECT_NE(std::string(e.what()).find("snap: snapshot has non-zero reserved bytes"), std::string::npos) << e.what();
  }
  std::vector<std::byte> m = encode_manifest(Manifest{3, 5, 8192});
  m[13] = std::byte{1};
  put_u32(m.data() + 40, checksum(m.data(), 40));
  EXPECT_THROW(decode_manifest(m, "MANIFEST"), WalError);
  EXPECT_EQ(decode_manifest(encode_manifest(Manifest{3, 5, 8192}), "MANIFEST"), (Manifest{3, 5, 8192}));
}

TEST(WalRecovery, ReplayRefusesToOversell) {
  TempDir dir;
  initialize_data_dir(dir.str(), Catalog{{{"one", 1, 1.0}}});
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::None, {}}, 1 << 20, nullptr}, 1, 1);
    ASSERT_TRUE(w.append(draw_rec(1, 0)));
    ASSERT_TRUE(w.append(draw_rec(2, 0)));
    ASSERT_TRUE(w.close());
  }
  EXPECT_THROW(recover(dir.str()), RecoveryError);
}

// ---- fault injection (RELIABILITY row 13) -----------------------------------------------------------
TEST(WalFault, FailedWritePoisons) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  test::FaultyFileIo io;
  WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::Always, {}}, 1 << 20, &io}, 1, 1);
  ASSERT_TRUE(w.append(draw_rec(1, 0)));  // creates the segment
  ASSERT_TRUE((w.write() && w.sync_by_policy()));
  io.fail_write_at = io.writes.load() + 1;
  ASSERT_TRUE(w.append(draw_rec(2, 0)));
  EXPECT_FALSE((w.write() && w.sync_by_policy()));
  EXPECT_TRUE(w.poisoned());
  EXPECT_NE(w.error().find("Input/output error"), std::string::npos) << w.error();
  EXPECT_EQ(w.written_lsn(), 1u);
  const long writes = io.writes.load(), syncs = io.syncs.load();
  EXPECT_FALSE(w.append(draw_rec(3, 0)));
  EXPECT_FALSE((w.write() && w.sync()));
  EXPECT_EQ(io.writes.load(), writes);
  EXPECT_EQ(io.syncs.load(), syncs);
  EXPECT_FALSE(w.close());
  EXPECT_EQ(recover(dir.str()).lsn, 1u);
}

TEST(WalFault, FailedSyncPoisonsAndIsNeverRetried) {
  for (Backend b : {Backend::File, Backend::Mmap}) {
    TempDir dir;
    initialize_data_dir(dir.str(), small_catalog());
    test::FaultyFileIo io;
    WalWriter w(WalOptions{dir.str(), b, SyncPolicy{SyncPolicy::Kind::Always, {}}, 1 << 20, &io}, 1, 1);
    ASSERT_TRUE(w.append(draw_rec(1, 0)));  // creates the segment
    ASSERT_TRUE((w.write() && w.sync()));
    io.fail_sync_at = io.syncs.load() + 1;
    ASSERT_TRUE(w.append(draw_rec(2, 0)));
    EXPECT_FALSE((w.write() && w.sync_by_policy())) << to_string(b);
    EXPECT_EQ(w.durable_lsn(), 1u);
    const long syncs = io.syncs.load();
    EXPECT_FALSE((w.write() && w.sync()));
    EXPECT_FALSE(w.close());
    EXPECT_EQ(io.syncs.load(), syncs) << "fsync retried after a failure";
  }
}

TEST(WalFault, FailedCloseIsReported) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  test::FaultyFileIo io;
  WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::Always, {}}, 1 << 20, &io}, 1, 1);
  ASSERT_TRUE(w.append(draw_rec(1, 0)));  // creates the segment (closing the directory's fd)
  io.fail_close_at = io.closes.load() + 1;
  EXPECT_FALSE(w.close());
  EXPECT_NE(w.error().find("close("), std::string::npos) << w.error();
}

TEST(WalFault, FailedSegmentCreationPoisonsTheFirstAppend) {
  TempDir dir;
  test::FaultyFileIo io;
  io.fail_sync_at = 1;
  WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::Always, {}}, 1 << 20, &io}, 1, 1);
  EXPECT_FALSE(w.append(draw_rec(1, 0)));
  EXPECT_NE(w.error().find("fdatasync("), std::string::npos) << w.error();
}

// ---- sync policies ---------------------------------------------------------------------------------
TEST(WalSyncPolicy, AlwaysSyncsPerWriteIntervalWhenDueNoneNever) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  auto run = [&](SyncPolicy policy, std::uint64_t seq) {
    test::FaultyFileIo io;  // never fails; counts
    WalWriter w(WalOptions{dir.str(), Backend::File, policy, 1 << 20, &io}, seq, 1);
    EXPECT_TRUE(w.append(draw_rec(1, 0)));  // creates the segment (its own syncs)
    EXPECT_TRUE(w.write() && w.sync());
    // Data syncs (the writer's own count): the durable mark's fdatasync (at most every 100 ms) is not one.
    const auto syncs = [&] { return static_cast<long>(w.stats().syncs); };
    const long base = syncs();
    for (std::uint64_t i = 2; i <= 6; ++i) {
      EXPECT_TRUE(w.append(draw_rec(i, 0)));
      EXPECT_TRUE(w.write() && w.sync_by_policy());
      EXPECT_EQ(w.written_lsn(), i);
    }
    const long after_writes = syncs() - base;
    if (policy.kind == SyncPolicy::Kind::Interval) {
      std::this_thread::sleep_for(policy.interval + std::chrono::milliseconds(5));
      EXPECT_TRUE(w.sync_due_in() && *w.sync_due_in() == std::chrono::steady_clock::duration::zero());
      EXPECT_TRUE(w.sync_by_policy());
      EXPECT_FALSE(w.sync_due_in());
      EXPECT_EQ(w.durable_lsn(), 6u);
    }
    const long after_due = syncs() - base;
    EXPECT_TRUE(w.close());  // close always syncs what is left
    EXPECT_EQ(w.durable_lsn(), 6u);
    return std::pair{after_writes, after_due};
  };
  EXPECT_EQ(run(SyncPolicy{SyncPolicy::Kind::Always, {}}, 1).first, 5);
  const auto interval = run(SyncPolicy{SyncPolicy::Kind::Interval, std::chrono::milliseconds(200)}, 2);
  EXPECT_LE(interval.first, 1);  // at most one of five writes found the interval due
  EXPECT_EQ(interval.second, interval.first + 1);
  EXPECT_EQ(run(SyncPolicy{SyncPolicy::Kind::None, {}}, 3).first, 0);
}

TEST(WalRecovery, AHoleBelowTheSnapshotIsHarmlessAGapAboveItIsCorruption) {
  // Found by the crash test: killed after writing snapshot 8 but before rotating, then the first record
  // of the last segment was damaged and --repair truncated it: records 6..8 are gone from the log, but
  // the snapshot holds them.
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::None, {}}, 1 << 20, nullptr}, 1, 1);
    for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(w.append(draw_rec(i, 2)));
    ASSERT_TRUE(w.close());
  }
  Catalog c = small_catalog();
  c.items[2].quantity -= 8;
  write_snapshot_file(posix_io(), dir.str(), Snapshot{c, 8, 8});
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::None, {}}, 1 << 20, nullptr}, 2, 9);
    ASSERT_TRUE(w.append(draw_rec(9, 2)));
    ASSERT_TRUE(w.close());
  }
  const RecoveryResult r = recover(dir.str());
  EXPECT_EQ(r.lsn, 9u);
  EXPECT_EQ(r.draws, 9u);
  EXPECT_EQ(r.catalog.items[2].quantity, 20 - 9);
  // Now a real gap above the snapshot: segment 3 starts at 11 (10 is missing).
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{SyncPolicy::Kind::None, {}}, 1 << 20, nullptr}, 3, 11);
    ASSERT_TRUE(w.append(draw_rec(11, 2)));
    ASSERT_TRUE(w.close());
  }
  try {
    recover(dir.str());
    FAIL() << "no error";
  } catch (const RecoveryError& e) {
    EXPECT_NE(std::string(e.what()).find("lsn gap: expected 10, found 11"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(segment_name(3) + " offset 32"), std::string::npos) << e.what();
  }
}
