// SPDX-License-Identifier: MIT
#include "rewardpool/recovery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

#include "rewardpool/segment_reader.hpp"
#include "rewardpool/snapshot.hpp"

namespace rewardpool::wal {

namespace {

using detail::errno_text;
using detail::join;

void truncate_file(const std::string& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw RecoveryError("cannot open " + path + " to truncate it: " + errno_text(errno));
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw RecoveryError("cannot truncate " + path + " to " + std::to_string(size) + " bytes: " + errno_text(err));
  }
  if (::close(fd) != 0) throw RecoveryError("close(" + path + ") failed: " + errno_text(errno));
}

std::string quarantine_dir(const std::string& dir) {
  const std::string q = join(dir, kQuarantineDir);
  if (::mkdir(q.c_str(), 0755) != 0 && errno != EEXIST) {
    throw RecoveryError("cannot create " + q + ": " + errno_text(errno));
  }
  return q;
}

// A name in dir/quarantine/ that is not taken: `name`, else name.1, name.2, ... Quarantine never
// overwrites what an earlier repair put there.
std::string free_name(const std::string& q, const std::string& name) {
  std::string candidate = name;
  for (unsigned k = 1; ::access(join(q, candidate).c_str(), F_OK) == 0; ++k) candidate = name + "." + std::to_string(k);
  return candidate;
}

// The highest segment number in dir/quarantine/ (wal-<seq>.log, and copies and renames of it), 0 if none:
// a new segment must be numbered above it so its name never collides with a quarantined one.
std::uint64_t max_quarantined_seq(const std::string& dir) {
  std::uint64_t max = 0;
  DIR* d = ::opendir(join(dir, kQuarantineDir).c_str());
  if (!d) return 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n.size() < 4 + 16 || n.substr(0, 4) != "wal-") continue;
    std::uint64_t v = 0;
    bool digits = true;
    for (char ch : n.substr(4, 16)) {
      if (ch < '0' || ch > '9') digits = false;
      else v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    if (digits) max = std::max(max, v);
  }
  ::closedir(d);
  return max;
}

// Moves dir/name into dir/quarantine/ (same file system: a rename), then fsyncs both directories.
void quarantine_file(const std::string& dir, const std::string& name) {
  const std::string q = quarantine_dir(dir);
  const std::string from = join(dir, name), to = join(q, free_name(q, name));
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw RecoveryError("cannot move " + from + " to " + to + ": " + errno_text(errno));
  }
  try {
    sync_directory(posix_io(), q);
    sync_directory(posix_io(), dir);
  } catch (const WalError& e) {
    throw RecoveryError(e.what());
  }
}

// Copies bytes [offset, end) of dir/name into dir/quarantine/<name>.from-<offset> (synced), so that the
// caller may truncate the segment at `offset` without destroying them.
std::string quarantine_tail(const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes,
                            std::uint64_t offset) {
  const std::string q = quarantine_dir(dir);
  const std::string copy = free_name(q, name + ".from-" + std::to_string(offset));
  try {
    detail::write_file_atomically(posix_io(), q, copy,
                                  std::vector<std::byte>(bytes.begin() + static_cast<std::ptrdiff_t>(offset), bytes.end()));
  } catch (const WalError& e) {
    throw RecoveryError(e.what());
  }
  return join(q, copy);
}

// Counts the readable records (and draws) of a segment about to be quarantined; its highest LSN.
struct Tally {
  std::uint64_t records = 0, draws = 0, max_lsn = 0, max_request_ids = 0;
};
Tally tally(SegmentReader& reader) {
  Tally t;
  for (;;) {
    const ReadResult r = reader.next();
    if (r.kind != ReadResult::Kind::Record) return t;
    ++t.records;
    t.draws += r.record.type == RecordType::Draw;
    t.max_lsn = std::max(t.max_lsn, r.record.lsn);
    if (r.record.type == RecordType::RequestIds) t.max_request_ids = std::max(t.max_request_ids, r.record.snapshot_lsn);
  }
}

}  // namespace

RecoveryResult recover(const std::string& dir, const RecoveryOptions& options) {
  RecoveryResult out;
  detail::DirListing listing;
  std::optional<Manifest> manifest;
  try {
    listing = detail::list_dir(dir);
  } catch (const WalError& e) {
    throw RecoveryError(e.what());
  }
  bool repaired = false;  // the log was cut (or its high-water mark lost): continue above every LSN it held
  if (listing.has_manifest) {
    const std::string path = join(dir, kManifestName);
    try {
      manifest = decode_manifest(detail::read_file(path), path);
    } catch (const WalError& e) {
      // A damaged high-water mark: never guess at it. Without --repair, refuse; with it, move it aside and
      // rebuild it from the segments (a newest segment lost at the same time cannot be detected then).
      out.damaged = true;
      if (!options.repair) {
        throw RecoveryError(std::string("damaged MANIFEST (the log's high-water mark): ") + e.what() +
                            " (run with --repair to rebuild it from the segments; the damaged one is kept in " +
                            join(dir, kQuarantineDir) + ")");
      }
      repaired = true;
      out.warnings.push_back(std::string("repair: damaged MANIFEST: ") + e.what() +
                             (options.read_only ? "; would move it to quarantine/" : "; moved to quarantine/") +
                             " and rebuilt from the segments (a lost newest segment cannot be detected this once)");
      if (!options.read_only) quarantine_file(dir, kManifestName);
    }
  }
  // The durable mark: records up to it were synced, so a log that ends below it lost durable records.
  std::optional<std::uint64_t> durable_mark;
  if (const std::string path = join(dir, kDurableMarkName); ::access(path.c_str(), F_OK) == 0) {
    std::string error;
    try {
      durable_mark = decode_durable_mark(detail::read_file(path), error);
    } catch (const WalError& e) {
      throw RecoveryError(e.what());
    }
    if (!durable_mark && !error.empty()) {
      // A crash while writing the first slot tears it; a damaged mark costs only the detection below (the
      // writer rewrites both slots), so it is reported, not a reason to refuse.
      out.warnings.push_back(path + ": " + error + "; ignored (a lost end of the log cannot be detected this time)");
    }
  }
  // Leftovers of a crash while writing a snapshot or the manifest: never renamed into place, so unused.
  for (const std::string& tmp : listing.temporaries) {
    if (!options.read_only && ::unlink(join(dir, tmp).c_str()) != 0) {
      throw RecoveryError("cannot delete " + join(dir, tmp) + ": " + errno_text(errno));
    }
    out.warnings.push_back("removed " + join(dir, tmp) + " (an unfinished file left by a crash)");
  }
  if (listing.snapshots.empty()) {
    throw RecoveryError("no snapshot in " + dir + " (not a rewardpool data directory, or it was never initialized)");
  }

  // The newest snapshot that decodes; a damaged one is reported and (unless read-only) quarantined, and
  // the previous one is used: the writer keeps it, and the segments it needs, until a newer one verified.
  Snapshot snap;
  bool have_snapshot = false;
  std::string first_error;
  for (auto it = listing.snapshots.rbegin(); it != listing.snapshots.rend() && !have_snapshot; ++it) {
    const std::string path = join(dir, it->second);
    try {
      snap = decode_snapshot(detail::read_file(path), path);
      if (snap.lsn != it->first) {
        throw WalError(path + ": holds lsn " + std::to_string(snap.lsn) + ", its name says " + std::to_string(it->first));
      }
      have_snapshot = true;
      out.snapshot_file = it->second;
    } catch (const WalError& e) {
      if (first_error.empty()) first_error = e.what();
      out.damaged = true;
      out.warnings.push_back(std::string("damaged snapshot ") + e.what() + (options.read_only ? "" : "; moved to quarantine/") +
                             "; trying the previous snapshot");
      if (!options.read_only) quarantine_file(dir, it->second);
    }
  }
  if (!have_snapshot) throw RecoveryError("cannot load any snapshot: " + first_error);
  out.snapshot_lsn = snap.lsn;
  out.draws = snap.draws;
  out.lsn = snap.lsn;
  out.next_request_id = snap.next_request_id;
  Pool pool(snap.catalog, SelectorKind::PrefixSum, 0);

  // Highest LSN the log may ever have held: a repair resumes above it.
  std::uint64_t high_water = snap.lsn;
  if (manifest) high_water = std::max(high_water, manifest->base_lsn + manifest->max_records() - 1);
  const std::uint64_t last_seq = listing.segments.empty() ? 0 : listing.segments.rbegin()->first;
  std::uint64_t max_seq = std::max({last_seq, manifest ? manifest->segment_seq : 0, max_quarantined_seq(dir)});
  out.next_segment_seq = max_seq + 1;
  std::uint64_t max_ceiling = 0;     // the highest RequestIds ceiling read (kept or quarantined)
  std::uint64_t quarantined_readable = 0;  // readable records in quarantined segments (their LSNs are known)

  std::optional<std::uint64_t> last_lsn;  // of the previous record read, any segment
  std::optional<std::string> cut;         // after a repair: later segments are quarantined
  std::uint64_t last_kept = 0;            // the newest segment still in the directory
  for (const auto& [seq, name] : listing.segments) {
    const std::string path = join(dir, name);
    SegmentReader reader = [&] {
      try {
        return SegmentReader::open(path);
      } catch (const WalError& e) {
        throw RecoveryError(e.what());
      }
    }();
    if (cut) {
      Tally t = tally(reader);
      out.dropped_records += t.records;
      out.dropped_draws += t.draws;
      high_water = std::max(high_water, t.max_lsn);
      max_ceiling = std::max(max_ceiling, t.max_request_ids);
      quarantined_readable += t.records;
      if (!options.read_only) quarantine_file(dir, name);
      out.warnings.push_back("repair: moved " + path + " to quarantine/ (after the cut at " + *cut + "; " +
                             std::to_string(t.records) + " readable records, " + std::to_string(t.draws) + " draws)");
      continue;
    }
    SegmentSummary summary;
    summary.name = name;
    summary.seq = seq;
    summary.file_size = reader.file_size();
    const bool is_last = seq == last_seq;
    // The segment's header was synced before the MANIFEST named it (WalWriter::open_segment): if the
    // MANIFEST names it (or a later one), a damaged or missing header is lost data, not a torn creation.
    const bool header_was_synced = manifest && manifest->segment_seq >= seq;
    // Damage in this segment is harmless if the next segment starts at or below snap.lsn + 1: every
    // record it can hold from the damage on is in the snapshot. Then only the damaged part is moved
    // aside; every record above the snapshot is kept.
    auto covered_by_snapshot = [&]() -> bool {
      const auto next = listing.segments.upper_bound(seq);
      if (next == listing.segments.end()) return false;
      try {
        const SegmentReader n = SegmentReader::open(join(dir, next->second));
        return n.header_status().kind != ReadResult::Kind::Damaged && n.segment_seq() == next->first &&
               n.base_lsn() <= snap.lsn + 1;
      } catch (const WalError&) {
        return false;
      }
    };
    auto corruption = [&](std::uint64_t offset, const std::string& reason, bool at_tail) {
      const std::string where = "segment " + path + " offset " + std::to_string(offset) + ": " + reason;
      summary.damage = where;
      out.damaged = true;
      std::vector<std::byte> bytes;
      if (is_last && at_tail && !(offset < kSegmentHeaderSize && header_was_synced)) {
        out.warnings.push_back("torn record at " + where + "; dropped (" + std::to_string(reader.file_size() - offset) +
                               " bytes)");
      } else if (covered_by_snapshot()) {
        if (!options.repair) {
          throw RecoveryError("corrupt WAL: " + where + " (every record from there on is in snapshot " +
                              snapshot_name(snap.lsn) + ": run with --repair to move the damaged part to " +
                              join(dir, kQuarantineDir) + "; no record above the snapshot is dropped)");
        }
        if (!options.read_only) {
          if (offset >= kSegmentHeaderSize) {
            bytes = detail::read_file(path);
            const std::string q = quarantine_tail(dir, name, bytes, offset);
            out.warnings.push_back("repair: moved the damaged part of " + path + " from offset " + std::to_string(offset) +
                                   " (" + reason + ") to " + q + "; it holds only records at or below lsn " +
                                   std::to_string(snap.lsn) + ", which the snapshot has");
          } else {
            out.warnings.push_back("repair: moved " + path + " (" + reason + ") to quarantine/; it holds only records "
                                   "at or below lsn " + std::to_string(snap.lsn) + ", which the snapshot has");
          }
        } else {
          out.warnings.push_back("repair would move the damaged part of " + path + " from offset " + std::to_string(offset) +
                                 " to quarantine/ (only records the snapshot has)");
        }
      } else if (options.repair) {
        cut = where;
        repaired = true;
        // What follows the cut in this segment: unreadable past the damage, but its size bounds its LSNs.
        const std::uint64_t base = reader.base_lsn() ? reader.base_lsn() : out.lsn + 1;
        high_water = std::max(high_water, base + (reader.file_size() > kSegmentHeaderSize ? (reader.file_size() - kSegmentHeaderSize) / (kRecordHeaderSize + 4) : 0));
        if (!options.read_only && offset >= kSegmentHeaderSize) {
          bytes = detail::read_file(path);
          const std::string q = quarantine_tail(dir, name, bytes, offset);
          out.warnings.push_back("repair: cut the log at " + where + "; the " + std::to_string(bytes.size() - offset) +
                                 " bytes from there are in " + q);
        } else if (!options.read_only) {
          out.warnings.push_back("repair: cut the log at " + where + "; the whole segment (" +
                                 std::to_string(reader.file_size()) + " bytes) is moved to " + join(dir, kQuarantineDir));
        } else {
          out.warnings.push_back("repair would cut the log at " + where);
        }
      } else {
        throw RecoveryError("corrupt WAL: " + where + " (run with --repair to cut the log there; what is cut is kept in " +
                            join(dir, kQuarantineDir) + ")");
      }
      if (!options.read_only) {
        if (offset < kSegmentHeaderSize) {
          if (cut || covered_by_snapshot()) {
            quarantine_file(dir, name);  // the whole file: moved, never deleted
          } else if (::unlink(path.c_str()) != 0) {  // a torn creation: an unsynced header, no record
            throw RecoveryError("cannot delete " + path + ": " + errno_text(errno));
          }
        } else {
          truncate_file(path, offset);  // what is cut is in quarantine/ (or a torn record)
        }
      }
    };
    const ReadResult& h = reader.header_status();
    if (h.kind == ReadResult::Kind::Damaged) {
      corruption(0, h.reason, h.at_tail);
      out.segments.push_back(summary);
      continue;
    }
    if (reader.segment_seq() != seq) {
      corruption(0, "header says segment " + std::to_string(reader.segment_seq()), false);
      out.segments.push_back(summary);
      continue;
    }
    summary.valid_bytes = kSegmentHeaderSize;
    bool first = true;
    for (;;) {
      const ReadResult r = reader.next();
      if (r.kind == ReadResult::Kind::End) {
        // A crashed mmap segment keeps its reserved size: give the zero tail back.
        if (is_last && !options.read_only && reader.file_size() > summary.valid_bytes && !repaired) {
          truncate_file(path, summary.valid_bytes);
        }
        break;
      }
      if (r.kind == ReadResult::Kind::Damaged) {
        corruption(r.offset, r.reason, r.at_tail);
        break;
      }
      const Record& rec = r.record;
      if (first && rec.lsn != reader.base_lsn()) {
        corruption(r.offset, "first record has lsn " + std::to_string(rec.lsn) + ", the segment header says " +
                                 std::to_string(reader.base_lsn()),
                   false);
        break;
      }
      if (last_lsn && rec.lsn <= *last_lsn) {
        corruption(r.offset, "lsn goes backwards: " + std::to_string(rec.lsn) + " after " + std::to_string(*last_lsn), false);
        break;
      }
      // Records at or below the snapshot's LSN are in it: a hole among them is harmless. Above it, every
      // LSN must be present.
      if (rec.lsn > snap.lsn) {
        const std::uint64_t expect = std::max(last_lsn.value_or(0), snap.lsn) + 1;
        if (rec.lsn != expect) {
          corruption(r.offset, "lsn gap: expected " + std::to_string(expect) + ", found " + std::to_string(rec.lsn) +
                                   " (records " + std::to_string(expect) + ".." + std::to_string(rec.lsn - 1) + " are missing)",
                     false);
          break;
        }
        Status st = Status::Ok;
        if (rec.type == RecordType::Draw) {
          st = pool.apply_draw(rec.item);
          if (st == Status::Ok) ++out.draws;
        } else if (rec.type == RecordType::Update) {
          st = pool.update(rec.item, rec.quantity, rec.weight);
        } else if (rec.type == RecordType::RequestIds) {
          out.next_request_id = std::max(out.next_request_id, rec.snapshot_lsn);
          max_ceiling = std::max(max_ceiling, rec.snapshot_lsn);
        } else if (rec.snapshot_lsn >= rec.lsn) {
          st = Status::InvalidArgument;
        }
        if (st != Status::Ok) {
          corruption(r.offset, std::string(to_string(rec.type)) + " record lsn " + std::to_string(rec.lsn) +
                                   " cannot be applied (item " + std::to_string(rec.item) + ": " + std::string(to_string(st)) + ")",
                     false);
          break;
        }
        out.lsn = rec.lsn;
        if (options.collect_records) out.records.push_back(rec);
      }
      last_lsn = rec.lsn;
      first = false;
      if (!summary.records++) summary.first_lsn = rec.lsn;
      summary.last_lsn = rec.lsn;
      summary.valid_bytes = r.offset + kRecordHeaderSize + payload_size(rec.type);
    }
    high_water = std::max(high_water, summary.last_lsn);
    out.segments.push_back(summary);
    if (::access(path.c_str(), F_OK) == 0) last_kept = seq;
  }

  // The newest segment the MANIFEST names must be there (or its successor, created after it).
  if (manifest && !repaired && manifest->segment_seq > last_seq) {
    const std::string what = "segment " + segment_name(manifest->segment_seq) + " (the newest, per " +
                             join(dir, kManifestName) + ") is missing: the end of the log is lost";
    out.damaged = true;
    if (!options.repair) {
      throw RecoveryError(what + " (run with --repair to continue after it; LSNs up to " + std::to_string(high_water) +
                          " are never reused)");
    }
    repaired = true;
    out.warnings.push_back("repair: " + what + "; continuing after lsn " + std::to_string(high_water));
  }
  // A crashed run may have left the newest segment's last records in the page cache only (the writer
  // syncs a segment before rotating, so only the newest can hold unsynced records). Sync it before the next
  // run writes anything: a later segment must never be durable behind a hole in an earlier one (a power
  // loss would then cut the log at the hole and take durable acknowledgements after it with it).
  if (!options.read_only && last_kept != 0) {
    FileIo& io = options.io ? *options.io : posix_io();
    const std::string path = join(dir, listing.segments.at(last_kept));
    const int fd = io.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) throw RecoveryError("cannot open " + path + " to sync it: " + errno_text(errno));
    if (io.fdatasync(fd) != 0) {
      const int err = errno;
      io.close(fd);
      throw RecoveryError("fdatasync(" + path + ") failed: " + errno_text(err));
    }
    try {
      detail::check_close(io, fd, path);
    } catch (const WalError& e) {
      throw RecoveryError(e.what());
    }
  }
  // The log must reach the durable mark: below it, records that were synced are gone (a newest segment
  // truncated at a record boundary, or inside a record, which reads as a torn write).
  if (durable_mark) {
    const std::uint64_t end = std::max(last_lsn.value_or(0), snap.lsn);
    if (*durable_mark > end && !repaired) {
      const std::string what = "the log ends at lsn " + std::to_string(end) + " but was durable up to lsn " +
                               std::to_string(*durable_mark) + " (per " + join(dir, kDurableMarkName) +
                               "): durable records at the end of the log are lost (a truncated segment?)";
      out.damaged = true;
      if (!options.repair) {
        throw RecoveryError(what + " (run with --repair to continue after lsn " +
                            std::to_string(std::max(high_water, *durable_mark)) + "; no LSN is reused)");
      }
      repaired = true;
      out.warnings.push_back("repair: " + what + "; continuing after lsn " + std::to_string(std::max(high_water, *durable_mark)));
    }
    high_water = std::max(high_water, *durable_mark);
  }
  if (repaired) {
    if (out.dropped_records) {
      out.warnings.push_back("repair dropped " + std::to_string(out.dropped_records) + " readable records (" +
                             std::to_string(out.dropped_draws) +
                             " draws, any of which may have been acknowledged) and the unreadable bytes after the cut; "
                             "all of it is kept in " + join(dir, kQuarantineDir));
    }
    // Request ids: every id handed out lies below a RequestIds ceiling that was logged first. Each LSN the
    // repair could not read may have been one more reservation of kRequestIdBlock ids above the highest
    // ceiling read, so skip that far: no id that was handed out is handed out again.
    const std::uint64_t unread = high_water > out.lsn + quarantined_readable ? high_water - out.lsn - quarantined_readable : 0;
    out.next_request_id = std::max(out.next_request_id, max_ceiling) + kRequestIdBlock * unread;
    // Continue above every LSN the log may have held: a snapshot of the repaired state at high_water
    // makes the skipped LSNs void, so no written LSN is ever reused.
    out.lsn = high_water;
    out.snapshot_lsn = high_water;
    out.next_request_id = std::max(out.next_request_id, high_water + 1);
    if (!options.read_only) {
      try {
        write_snapshot_file(posix_io(), dir, Snapshot{pool.catalog(), high_water, out.draws, out.next_request_id});
        // The MANIFEST now names the newest segment left (the rest is in quarantine/) and bounds the LSNs
        // at the snapshot's; the next segment gets a number above every quarantined one.
        write_manifest(posix_io(), dir, Manifest{last_kept, high_water + 1, 0});
      } catch (const WalError& e) {
        throw RecoveryError(std::string("repair: cannot write the repaired snapshot: ") + e.what());
      }
      out.snapshot_file = snapshot_name(high_water);
    }
  }
  out.catalog = pool.catalog();
  return out;
}

}  // namespace rewardpool::wal
