// SPDX-License-Identifier: MIT
// The durability defects found by trying the reward pool as a new user would (issue 9, defects 1-7 but
// 5, which is a command-line check in rewardpool_crash_test.cpp), each pinned by a test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "faulty_file_io.hpp"
#include "rewardpool/service.hpp"
#include "rewardpool/wal.hpp"
#include "rewardpool_test.hpp"

using namespace rewardpool;
using namespace rewardpool::wal;
namespace fs = std::filesystem;

namespace {

using test::draw_rec;
using test::TempDir;

Catalog small_catalog() { return Catalog{{{"gold", 1000, 1.0}, {"silver", 1000, 2.0}, {"bronze", 1000, 4.0}}}; }

// Writes draws first..last (item lsn % 3) with segments of `segment_bytes`; returns the writer's stats.
WalStats write_draws(const std::string& dir, std::uint64_t seq, std::uint64_t first, std::uint64_t last,
                     std::uint64_t segment_bytes = 32 + 10 * 24, Backend backend = Backend::File) {
  WalWriter w(WalOptions{dir, backend, SyncPolicy{SyncPolicy::Kind::None, {}}, segment_bytes, nullptr}, seq, first);
  for (std::uint64_t l = first; l <= last; ++l) EXPECT_TRUE(w.append(draw_rec(l, static_cast<std::uint32_t>(l % 3))));
  EXPECT_TRUE(w.close()) << w.error();
  return w.stats();
}

std::size_t count_files(const fs::path& dir, const std::string& ext) {
  std::size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
  return n;
}

}  // namespace

// Defect 1: the mmap backend reserves a segment's space before mapping it, so a full disk is an error
// naming the problem, not SIGBUS; what was written before stays recoverable.
TEST(Durability, MmapSegmentThatCannotBeReservedIsAnErrorAndEarlierRecordsSurvive) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  test::FaultyFileIo io;
  io.fail_fallocate_at = 2;  // the second segment
  io.error = ENOSPC;
  WalWriter w(WalOptions{dir.str(), Backend::Mmap, SyncPolicy{SyncPolicy::Kind::None, {}}, 32 + 10 * 24, &io}, 1, 1);
  std::uint64_t lsn = 1;
  while (w.append(draw_rec(lsn, 0))) ++lsn;
  EXPECT_EQ(lsn, 11u) << "the first segment holds 10 draws; the 11th needs the second";
  EXPECT_NE(w.error().find("cannot reserve"), std::string::npos) << w.error();
  EXPECT_NE(w.error().find("No space left on device"), std::string::npos) << w.error();
  EXPECT_FALSE(w.close());
  EXPECT_FALSE(fs::exists(dir.path() / segment_name(2))) << "the segment that could not be reserved is removed";
  const RecoveryResult r = recover(dir.str());
  EXPECT_EQ(r.lsn, 10u);
  EXPECT_EQ(r.catalog.items[0].quantity, 990);
}

// Defect 2: --repair moves what it cuts into quarantine/, says how much, and never reuses a written LSN.
TEST(Durability, RepairQuarantinesWhatItCutsAndNeverReusesAnLsn) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 60);  // 6 segments of 10 draws
  ASSERT_TRUE(fs::exists(dir.path() / segment_name(6)));
  const fs::path seg2 = dir.path() / segment_name(2);
  {
    std::fstream f(seg2, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kSegmentHeaderSize + 3 * 24 + kRecordHeaderSize));  // record 14's payload
    f.put('\x7f');
  }
  EXPECT_THROW(recover(dir.str()), RecoveryError);
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_EQ(r.dropped_records, 40u) << "segments 3-6 held 40 readable records";
  EXPECT_EQ(r.dropped_draws, 40u);
  bool said = false;
  for (const auto& w : r.warnings) said |= w.find("repair dropped 40 readable records (40 draws") != std::string::npos;
  EXPECT_TRUE(said);
  // Nothing destroyed: the cut tail of segment 2 and segments 3..6 are in quarantine/.
  const fs::path q = dir.path() / kQuarantineDir;
  for (int s = 3; s <= 6; ++s) EXPECT_TRUE(fs::exists(q / segment_name(static_cast<std::uint64_t>(s)))) << s;
  const fs::path tail = q / (segment_name(2) + ".from-" + std::to_string(kSegmentHeaderSize + 3 * 24));
  ASSERT_TRUE(fs::exists(tail));
  EXPECT_EQ(fs::file_size(tail), 7u * 24u);
  // The next LSN is above every LSN ever written (60), so none is reused.
  EXPECT_GE(r.lsn, 60u);
  const RecoveryResult again = recover(dir.str());
  EXPECT_EQ(again.lsn, r.lsn);
  EXPECT_EQ(again.draws, 13u) << "records 1..13 survive the cut";
  EXPECT_EQ(again.catalog.items[0].quantity + again.catalog.items[1].quantity + again.catalog.items[2].quantity, 3000 - 13);
  write_draws(dir.str(), again.next_segment_seq, again.lsn + 1, again.lsn + 3, 1 << 20);
  const RecoveryResult after = recover(dir.str());
  EXPECT_EQ(after.lsn, again.lsn + 3);
  EXPECT_EQ(after.draws, 16u);
}

// Defect 3: a damaged newest snapshot falls back to the previous one, whose segments are still there.
TEST(Durability, DamagedNewestSnapshotFallsBackToThePreviousOne) {
  TempDir dir;
  const Catalog initial = small_catalog();
  std::vector<std::string> warnings;
  ServiceOptions o;
  o.wal.dir = dir.str();
  o.wal.backend = Backend::File;
  o.wal.segment_bytes = 32 + 20 * 24;
  o.default_ack = Ack::Durable;
  o.snapshot_every = 50;
  std::uint64_t drawn = 0;
  {
    auto svc = make_service(MailboxKind::Ring, BufferKind::Ring, open_data_dir(dir.str(), &initial, false, warnings), o);
    auto client = svc->client();
    for (int i = 0; i < 400; ++i) drawn += client.draw().status == Status::Ok;
    svc->stop();
    ASSERT_GE(svc->stats().snapshots, 2u);
  }
  const wal::detail::DirListing l = wal::detail::list_dir(dir.str());
  ASSERT_GE(l.snapshots.size(), 2u) << "the previous snapshot is kept";
  const fs::path newest = dir.path() / l.snapshots.rbegin()->second;
  fs::resize_file(newest, fs::file_size(newest) - 3);
  const RecoveryResult r = recover(dir.str());
  EXPECT_TRUE(r.damaged);
  EXPECT_LT(r.snapshot_lsn, l.snapshots.rbegin()->first);
  EXPECT_EQ(r.draws, drawn) << "the previous snapshot plus the kept segments give the same state";
  EXPECT_TRUE(fs::exists(dir.path() / kQuarantineDir / l.snapshots.rbegin()->second)) << "moved aside, not deleted";
}

// Defect 4: a lost newest segment is detected through the MANIFEST; start-up refuses without --repair,
// and a repair continues above any LSN the lost segment could have held.
TEST(Durability, LostNewestSegmentIsDetectedAndRepairNeverReusesItsLsns) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 25);  // segments 1..3
  fs::remove(dir.path() / segment_name(3));
  try {
    recover(dir.str());
    FAIL() << "a lost newest segment went unnoticed";
  } catch (const RecoveryError& e) {
    EXPECT_NE(std::string(e.what()).find(segment_name(3) + " (the newest"), std::string::npos) << e.what();
  }
  const RecoveryResult ro = recover(dir.str(), {.read_only = true, .repair = true});
  EXPECT_TRUE(ro.damaged);
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_GE(r.lsn, 30u) << "segment 3 (base 21, 10 records of room) may have held up to lsn 30";
  EXPECT_EQ(r.draws, 20u);
  EXPECT_GT(r.next_segment_seq, 3u);
  EXPECT_NO_THROW(recover(dir.str()));
}

// Defect 7: leftovers and empty restarts.
TEST(Durability, LeftoverTemporariesAreRemovedAndARestartWithNothingToWriteAddsNoSegment) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  std::ofstream(dir.path() / (snapshot_name(7) + ".tmp")) << "half a snapshot";
  const RecoveryResult r = recover(dir.str());
  EXPECT_FALSE(fs::exists(dir.path() / (snapshot_name(7) + ".tmp")));
  EXPECT_EQ(r.warnings.size(), 1u);
  for (int restart = 0; restart < 3; ++restart) {
    WalWriter w(WalOptions{dir.str(), Backend::Mmap, SyncPolicy{}, 1 << 20, nullptr}, 1, 1);
    EXPECT_TRUE(w.close());
  }
  EXPECT_EQ(count_files(dir.path(), ".log"), 0u) << "a writer that never appended created segments";
}

TEST(Durability, ACrashedMmapSegmentIsTrimmedToItsRecords) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  {
    // A crash: the segment stays at its reserved size (no close, no trim).
    WalWriter w(WalOptions{dir.str(), Backend::Mmap, SyncPolicy{}, 1 << 20, nullptr}, 1, 1);
    for (std::uint64_t l = 1; l <= 5; ++l) ASSERT_TRUE(w.append(draw_rec(l, 0)));
    ASSERT_TRUE(w.write() && w.sync());
    const fs::path seg = dir.path() / segment_name(1);
    ASSERT_EQ(fs::file_size(seg), 1u << 20);
    fs::copy_file(seg, dir.path() / "crashed.copy");
  }
  fs::remove(dir.path() / segment_name(1));
  fs::rename(dir.path() / "crashed.copy", dir.path() / segment_name(1));
  ASSERT_EQ(fs::file_size(dir.path() / segment_name(1)), 1u << 20);
  const RecoveryResult r = recover(dir.str());
  EXPECT_EQ(r.lsn, 5u);
  EXPECT_EQ(fs::file_size(dir.path() / segment_name(1)), kSegmentHeaderSize + 5 * 24);
}

TEST(Durability, EmptyCatalogIsRefusedClearly) {
  TempDir dir;
  try {
    initialize_data_dir(dir.str(), Catalog{});
    FAIL() << "an empty catalog was accepted";
  } catch (const CatalogError& e) {
    EXPECT_NE(std::string(e.what()).find("no items"), std::string::npos) << e.what();
  }
}

// ---- review findings (rpfix): each test failed on the code before its fix --------------------------
namespace {

std::vector<std::byte> file_bytes(const fs::path& p) { return wal::detail::read_file(p.string()); }

void flip_byte(const fs::path& p, std::uint64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  const int c = f.get();
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
}

// The state after draws 1..lsn of write_draws() (item lsn % 3), as a snapshot at `lsn`.
Snapshot snapshot_after(std::uint64_t lsn) {
  Snapshot s{small_catalog(), lsn, lsn, 1};
  for (std::uint64_t l = 1; l <= lsn; ++l) --s.catalog.items[l % 3].quantity;
  return s;
}

}  // namespace

// Bug 3: damage in a segment whose records the snapshot already has cost every later segment (the cut
// quarantined segments 3-6, with records above the snapshot: acknowledged draws lost). Only the damaged
// part may go; every record above the snapshot stays.
TEST(Durability, RepairOfDamageTheSnapshotCoversKeepsEveryRecordAboveTheSnapshot) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 60);  // 6 segments of 10 draws
  write_snapshot_file(posix_io(), dir.str(), snapshot_after(35));
  flip_byte(dir.path() / segment_name(2), kSegmentHeaderSize + 3 * 24 + kRecordHeaderSize);  // record 14
  try {
    recover(dir.str());
    FAIL() << "damage went unreported";
  } catch (const RecoveryError& e) {
    EXPECT_NE(std::string(e.what()).find("--repair"), std::string::npos) << e.what();
  }
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_EQ(r.draws, 60u) << "draws 36..60 are above the snapshot and intact";
  EXPECT_EQ(r.lsn, 60u);
  EXPECT_EQ(r.dropped_draws, 0u);
  for (int s = 3; s <= 6; ++s) EXPECT_TRUE(fs::exists(dir.path() / segment_name(static_cast<std::uint64_t>(s)))) << s;
  EXPECT_TRUE(fs::exists(dir.path() / kQuarantineDir / (segment_name(2) + ".from-" + std::to_string(kSegmentHeaderSize + 3 * 24))));
  const RecoveryResult again = recover(dir.str());
  EXPECT_EQ(again.draws, 60u);
  EXPECT_EQ(again.catalog.items[0].quantity + again.catalog.items[1].quantity + again.catalog.items[2].quantity, 3000 - 60);
}

// Bug 4: after a repair the next segment got the number of a quarantined one, and a second repair moved
// it over the first repair's file in quarantine/ (destroying it).
TEST(Durability, RepairNeverReusesASegmentNumberAndQuarantineNeverOverwrites) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 60);
  flip_byte(dir.path() / segment_name(2), kSegmentHeaderSize + 3 * 24 + kRecordHeaderSize);
  const RecoveryResult first = recover(dir.str(), {.repair = true});
  const fs::path q = dir.path() / kQuarantineDir;
  std::map<std::string, std::vector<std::byte>> kept;
  for (const auto& e : fs::directory_iterator(q)) kept[e.path().filename().string()] = file_bytes(e.path());
  ASSERT_EQ(kept.size(), 5u) << "segments 3..6 and the cut tail of 2";
  const RecoveryResult again = recover(dir.str());
  EXPECT_GT(again.next_segment_seq, 6u) << "segments 3..6 are in quarantine/: their numbers are taken";
  // A second life, a second damage, a second repair.
  write_draws(dir.str(), again.next_segment_seq, again.lsn + 1, again.lsn + 25);
  flip_byte(dir.path() / segment_name(again.next_segment_seq), kSegmentHeaderSize + 2 * 24 + kRecordHeaderSize);
  const RecoveryResult second = recover(dir.str(), {.repair = true});
  EXPECT_GE(second.lsn, again.lsn + 25);
  for (const auto& [name, bytes] : kept) {
    ASSERT_TRUE(fs::exists(q / name)) << name;
    EXPECT_TRUE(file_bytes(q / name) == bytes) << name << " was overwritten";
  }
  EXPECT_EQ(static_cast<std::size_t>(std::distance(fs::directory_iterator(q), fs::directory_iterator())), kept.size() + 3)
      << "the second repair's tail and two segments join the first repair's files";
  EXPECT_NO_THROW(recover(dir.str()));
}

// Bug 5 (second half): a repair resumed request ids at the highest ceiling it could read, although the
// lost part of the log may have reserved more; ids handed out from that reservation came again.
TEST(Durability, RepairNeverReusesARequestIdTheLostPartOfTheLogReserved) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{}, 32 + 10 * 24, nullptr}, 1, 1);
    Record ids{};
    ids.type = RecordType::RequestIds;
    for (std::uint64_t l = 1; l <= 25; ++l) {
      if (l == 1 || l == 21) {
        ids.lsn = l;
        ids.snapshot_lsn = 1 + (l == 1 ? 1 : 2) * kRequestIdBlock;  // segment 3 reserves the second block
        ASSERT_TRUE(w.append(ids));
      } else {
        ASSERT_TRUE(w.append(draw_rec(l, 0)));
      }
    }
    ASSERT_TRUE(w.close());
  }
  ASSERT_TRUE(fs::exists(dir.path() / segment_name(3)));
  EXPECT_EQ(recover(dir.str(), {.read_only = true}).next_request_id, 1 + 2 * kRequestIdBlock);
  fs::remove(dir.path() / segment_name(3));
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_GE(r.next_request_id, 1 + 2 * kRequestIdBlock) << "ids up to the lost segment's ceiling may have been handed out";
  EXPECT_GE(recover(dir.str()).next_request_id, 1 + 2 * kRequestIdBlock) << "and the repaired snapshot keeps that";
}

// Bug 7: one flipped bit in the MANIFEST made the directory unstartable even with --repair.
TEST(Durability, FlippedBitInTheManifestIsReportedAndRepairRebuildsItFromTheSegments) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 25);
  const fs::path m = dir.path() / kManifestName;
  const std::vector<std::byte> damaged_copy = [&] {
    flip_byte(m, 20);
    return file_bytes(m);
  }();
  try {
    recover(dir.str());
    FAIL() << "a damaged MANIFEST went unnoticed";
  } catch (const RecoveryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("MANIFEST"), std::string::npos) << what;
    EXPECT_NE(what.find("checksum"), std::string::npos) << what;
    EXPECT_NE(what.find("--repair"), std::string::npos) << what;
  }
  const RecoveryResult ro = recover(dir.str(), {.read_only = true, .repair = true});
  EXPECT_TRUE(ro.damaged);
  EXPECT_TRUE(file_bytes(m) == damaged_copy) << "read-only changes nothing";
  const RecoveryResult r = recover(dir.str(), {.repair = true});
  EXPECT_EQ(r.draws, 25u);
  EXPECT_GE(r.lsn, 25u);
  EXPECT_TRUE(file_bytes(dir.path() / kQuarantineDir / kManifestName) == damaged_copy) << "kept, not destroyed";
  const RecoveryResult after = recover(dir.str());
  EXPECT_EQ(after.draws, 25u);
  EXPECT_GT(after.next_segment_seq, 3u);
}

// Bug 8: the newest segment cut below its header (its header was synced before the MANIFEST named it)
// was taken for a torn creation and deleted: its records were lost with a warning and exit 0.
TEST(Durability, TruncatedNewestSegmentIsDetectedAndRepairKeepsItAndNeverReusesItsLsns) {
  for (const std::uint64_t size : {0ull, 17ull}) {
    TempDir dir;
    initialize_data_dir(dir.str(), small_catalog());
    write_draws(dir.str(), 1, 1, 25);  // segment 3 holds 21..25
    const fs::path seg3 = dir.path() / segment_name(3);
    fs::resize_file(seg3, size);
    try {
      recover(dir.str());
      FAIL() << "a newest segment truncated to " << size << " bytes went unnoticed";
    } catch (const RecoveryError& e) {
      EXPECT_NE(std::string(e.what()).find(segment_name(3)), std::string::npos) << e.what();
    }
    const RecoveryResult r = recover(dir.str(), {.repair = true});
    EXPECT_EQ(r.draws, 20u);
    EXPECT_GE(r.lsn, 30u) << "segment 3 (base 21, room for 10 records) may have held up to lsn 30";
    EXPECT_TRUE(fs::exists(dir.path() / kQuarantineDir / segment_name(3))) << "moved, not deleted";
    EXPECT_GT(r.next_segment_seq, 3u);
    EXPECT_NO_THROW(recover(dir.str()));
  }
}

// Bug 8 (the rest): the newest segment cut at a record boundary, or inside a record (which reads as a torn
// write), lost durable records without a word: no high-water mark covered what had been synced. The
// writer now keeps a durable mark (DIR/DURABLE, written after data syncs and on close).
TEST(Durability, NewestSegmentCutBelowTheDurableMarkIsDetectedAndRepairNeverReusesItsLsns) {
  for (const std::uint64_t cut : {kSegmentHeaderSize + 2 * 24, kSegmentHeaderSize + 2 * 24 + 10}) {
    TempDir dir;
    initialize_data_dir(dir.str(), small_catalog());
    write_draws(dir.str(), 1, 1, 25);  // closed: durable up to 25, segment 3 holds 21..25
    ASSERT_TRUE(fs::exists(dir.path() / kDurableMarkName));
    fs::resize_file(dir.path() / segment_name(3), cut);  // keeps 21, 22 (and 10 bytes of 23)
    try {
      recover(dir.str());
      FAIL() << "durable records 23..25 were lost without a word (cut at " << cut << ")";
    } catch (const RecoveryError& e) {
      EXPECT_NE(std::string(e.what()).find("durable up to lsn 25"), std::string::npos) << e.what();
    }
    const RecoveryResult r = recover(dir.str(), {.repair = true});
    EXPECT_EQ(r.draws, 22u);
    EXPECT_GE(r.lsn, 25u) << "LSNs up to the mark were written: never reused";
    EXPECT_NO_THROW(recover(dir.str()));
  }
}

// The durable mark is only ever a lower bound of what is in the log: records written after the last mark
// (a crash before the next one) are no damage, and a torn mark is reported and ignored, never a refusal.
TEST(Durability, DurableMarkBelowTheLogOrTornIsNoDamage) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{}, 1 << 20, nullptr}, 1, 1);
    for (std::uint64_t l = 1; l <= 5; ++l) ASSERT_TRUE(w.append(draw_rec(l, 0)));
    ASSERT_TRUE(w.write() && w.sync());  // mark 5
    for (std::uint64_t l = 6; l <= 9; ++l) ASSERT_TRUE(w.append(draw_rec(l, 0)));
    ASSERT_TRUE(w.write());  // written, not synced: a crash here keeps them (page cache)
    const fs::path copy = dir.path() / "crashed";
    fs::copy_file(dir.path() / segment_name(1), copy);
    fs::copy_file(dir.path() / kDurableMarkName, dir.path() / "crashed-mark");
  }
  fs::rename(dir.path() / "crashed", dir.path() / segment_name(1));
  fs::rename(dir.path() / "crashed-mark", dir.path() / kDurableMarkName);
  RecoveryResult r = recover(dir.str());
  EXPECT_EQ(r.lsn, 9u);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  flip_byte(dir.path() / kDurableMarkName, 9);  // slot 0 (the only one) torn
  r = recover(dir.str());
  EXPECT_EQ(r.lsn, 9u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("ignored"), std::string::npos) << r.warnings[0];
}

// The durable mark covers only records a writer synced itself: a restart that writes nothing leaves it
// alone (the previous run's unsynced tail may still be only in the page cache).
TEST(Durability, AWriterThatAppendsNothingLeavesTheDurableMarkAlone) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{}, 1 << 20, nullptr}, 1, 1);
    for (std::uint64_t l = 1; l <= 5; ++l) ASSERT_TRUE(w.append(draw_rec(l, 0)));
    ASSERT_TRUE(w.write());  // written, never synced (the process is killed before any sync)
    fs::copy_file(dir.path() / segment_name(1), dir.path() / "crashed");
  }
  fs::remove(dir.path() / kDurableMarkName);
  fs::rename(dir.path() / "crashed", dir.path() / segment_name(1));
  const RecoveryResult r = recover(dir.str());
  ASSERT_EQ(r.lsn, 5u);
  {
    WalWriter w(WalOptions{dir.str(), Backend::File, SyncPolicy{}, 1 << 20, nullptr}, r.next_segment_seq, r.lsn + 1);
    EXPECT_TRUE(w.close());
    EXPECT_EQ(w.written_lsn(), r.lsn) << "a write() with nothing appended moved the written LSN back";
    EXPECT_EQ(w.durable_lsn(), r.lsn);
  }
  EXPECT_FALSE(fs::exists(dir.path() / kDurableMarkName)) << "a mark for records this writer never synced";
}

// Found in review: after a crash the newest segment's last records may be in the page cache only, and the
// next run wrote (and synced) a new segment behind them; a power loss then left a durable segment behind a
// hole, so the next start-up cut the log at the hole, durable acknowledgements included. Recovery now
// syncs the newest segment before anything new is written (the old code made no sync at all).
TEST(Durability, RecoverySyncsTheNewestSegmentBeforeTheNextRunWrites) {
  TempDir dir;
  initialize_data_dir(dir.str(), small_catalog());
  write_draws(dir.str(), 1, 1, 25);  // segments 1..3
  test::FaultyFileIo io;
  RecoveryOptions o;
  o.io = &io;
  const RecoveryResult r = recover(dir.str(), o);
  EXPECT_EQ(r.lsn, 25u);
  EXPECT_EQ(io.syncs.load(), 1) << "the newest segment (3) is synced once";
  o.read_only = true;
  (void)recover(dir.str(), o);
  EXPECT_EQ(io.syncs.load(), 1) << "inspect changes nothing and syncs nothing";
  io.fail_sync_at = io.syncs.load() + 1;
  o.read_only = false;
  EXPECT_THROW(recover(dir.str(), o), RecoveryError) << "a failed sync is an error, never ignored";
}
