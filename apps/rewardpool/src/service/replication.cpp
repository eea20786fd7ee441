// SPDX-License-Identifier: MIT
#include "service/replication.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <nats/nats.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "rewardpool/wal.hpp"

namespace rewardpool::repl {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxBatchRecords = 4096;
constexpr std::size_t kReadChunk = 1 << 20;

std::string subject_of(const NatsTarget& t) { return t.stream + ".wal"; }        // record batches
std::string snap_subject_of(const NatsTarget& t) { return t.stream + ".snap"; }  // snapshots
std::string all_subjects_of(const NatsTarget& t) { return t.stream + ".*"; }

std::string nats_error(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return std::string(natsStatus_GetText(s)) + (last && *last ? std::string(": ") + last : std::string());
}

// A connection and its JetStream context, reconnecting by itself after the first success.
struct Nats {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  Nats() = default;
  Nats(const Nats&) = delete;
  Nats& operator=(const Nats&) = delete;
  ~Nats() { reset(); }
  void reset() {
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
    js = nullptr;
    nc = nullptr;
  }
  // One attempt; on failure `err` says why.
  bool connect(const std::string& url, std::string& err) {
    reset();
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, true);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever: a restarted server is found again
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 1000);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s == NATS_OK) {
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = 2000;
      s = natsConnection_JetStream(&js, nc, &jo);
    }
    if (s != NATS_OK) {
      err = "cannot connect to " + url + ": " + nats_error(s);
      reset();
      return false;
    }
    return true;
  }
  bool ensure_stream(const NatsTarget& t, std::string& err) {
    jsStreamInfo* si = nullptr;
    jsErrCode ec = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, js, t.stream.c_str(), nullptr, &ec);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return true;
    }
    if (s != NATS_NOT_FOUND && ec != JSStreamNotFoundErr) {
      err = "stream " + t.stream + ": " + nats_error(s);
      return false;
    }
    const std::string subject = subject_of(t), snap = snap_subject_of(t);
    const char* subjects[2] = {subject.c_str(), snap.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = t.stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 2;
    cfg.Storage = js_FileStorage;
    s = js_AddStream(nullptr, js, &cfg, nullptr, &ec);
    if (s != NATS_OK) {
      err = "cannot create stream " + t.stream + ": " + nats_error(s);
      return false;
    }
    return true;
  }
  // The last LSN the stream holds (0 if empty): the larger of its last batch's and last snapshot's;
  // nullopt if it cannot be read.
  std::optional<std::uint64_t> last_lsn(const NatsTarget& t) {
    const auto a = last_lsn_on(t, subject_of(t)), b = last_lsn_on(t, snap_subject_of(t));
    if (!a || !b) return std::nullopt;
    return std::max(*a, *b);
  }
  std::optional<std::uint64_t> last_lsn_on(const NatsTarget& t, const std::string& subject) {
    natsMsg* m = nullptr;
    jsErrCode ec = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetLastMsg(&m, js, t.stream.c_str(), subject.c_str(), nullptr, &ec);
    if (s == NATS_NOT_FOUND || ec == JSNoMessageFoundErr) return 0;
    if (s != NATS_OK) return std::nullopt;
    const auto* p = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
    const auto n = static_cast<std::size_t>(natsMsg_GetDataLength(m));
    std::optional<std::uint64_t> out;
    try {
      if (n > 0 && p[0] == std::byte{'S'}) {
        out = wal::decode_snapshot(std::span<const std::byte>(p + 1, n - 1), "last message").lsn;
      } else if (n > 0 && p[0] == std::byte{'B'}) {
        wal::SegmentReader r(std::vector<std::byte>(p + 1, p + n), "last message");
        for (wal::ReadResult x = r.next(); x.kind == wal::ReadResult::Kind::Record; x = r.next()) out = x.record.lsn;
      }
    } catch (const std::exception&) {
      out.reset();
    }
    natsMsg_Destroy(m);
    return out;
  }
  bool publish(const NatsTarget& t, const std::vector<std::byte>& data, const std::string& id, std::string& err) {
    return publish_to(subject_of(t), data, id, err);
  }
  bool publish_to(const std::string& subject, const std::vector<std::byte>& data, const std::string& id, std::string& err) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = 2000;
    jsPubAck* pa = nullptr;
    jsErrCode ec = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&pa, js, subject.c_str(), data.data(), static_cast<int>(data.size()), &po, &ec);
    if (pa) jsPubAck_Destroy(pa);
    if (s != NATS_OK) {
      err = "publish " + id + ": " + nats_error(s);
      return false;
    }
    return true;
  }
};

// Reads the pool's WAL segments as they grow: the records from `next_lsn` on, in order.
class Tail {
 public:
  Tail(std::string dir, std::uint64_t seq, std::uint64_t next_lsn) : dir_(std::move(dir)), seq_(seq), next_lsn_(next_lsn) {}
  ~Tail() { close(); }
  [[nodiscard]] std::uint64_t next_lsn() const noexcept { return next_lsn_; }

  // Repositions at the record after `lsn` if a segment still on disk holds it (backfill after a
  // restart: records this pool wrote before but never shipped). False if none does (pruned).
  bool seek_after(std::uint64_t lsn) {
    const wal::detail::DirListing l = wal::detail::list_dir(dir_);
    std::optional<std::pair<std::uint64_t, std::uint64_t>> from;  // (seq, base lsn)
    for (const auto& [seq, name] : l.segments) {
      const wal::SegmentReader r = wal::SegmentReader::open(wal::detail::join(dir_, name));
      if (r.header_status().kind == wal::ReadResult::Kind::Damaged) continue;
      if (r.base_lsn() <= lsn + 1) from = std::make_pair(seq, r.base_lsn());
    }
    if (!from) return false;
    close();
    seq_ = from->first;
    offset_ = wal::kSegmentHeaderSize;
    next_lsn_ = from->second;
    std::vector<std::byte> discard;
    while (next_lsn_ <= lsn) {
      discard.clear();
      if (read(lsn, kMaxBatchRecords, discard) == 0) return false;
    }
    return true;
  }

  // Appends the framed records with LSN in [next_lsn, limit] (at most `max`) to `out`; returns how many.
  std::size_t read(std::uint64_t limit, std::size_t max, std::vector<std::byte>& out) {
    if (next_lsn_ > limit) return 0;
    if (const std::size_t n = read_once(limit, max, out)) return n;
    // Nothing new here: if the next segment exists, this one is complete (the writer creates the next
    // only after the last record of this one was written). Read it once more, then move on.
    if (!std::filesystem::exists(wal::detail::join(dir_, wal::segment_name(seq_ + 1)))) return 0;
    if (const std::size_t n = read_once(limit, max, out)) return n;
    close();
    ++seq_;
    offset_ = wal::kSegmentHeaderSize;
    return read_once(limit, max, out);
  }

 private:
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::size_t read_once(std::uint64_t limit, std::size_t max, std::vector<std::byte>& out) {
    if (fd_ < 0) {
      fd_ = ::open(wal::detail::join(dir_, wal::segment_name(seq_)).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) return 0;  // not created yet
    }
    chunk_.resize(wal::kSegmentHeaderSize + kReadChunk);
    const ssize_t got = ::pread(fd_, chunk_.data() + wal::kSegmentHeaderSize, kReadChunk, static_cast<off_t>(offset_));
    if (got <= 0) return 0;
    chunk_.resize(wal::kSegmentHeaderSize + static_cast<std::size_t>(got));
    wal::encode_segment_header(seq_, next_lsn_, chunk_.data());
    const std::vector<std::byte> copy = chunk_;
    wal::SegmentReader reader(copy, "tail");
    std::size_t n = 0;
    while (n < max) {
      const wal::ReadResult r = reader.next();
      // End, or a record not completely written yet (it fails its CRC): stop here for now.
      if (r.kind != wal::ReadResult::Kind::Record) break;
      if (r.record.lsn != next_lsn_ || r.record.lsn > limit) break;
      const std::size_t size = wal::kRecordHeaderSize + wal::payload_size(r.record.type);
      out.insert(out.end(), chunk_.begin() + static_cast<std::ptrdiff_t>(r.offset),
                 chunk_.begin() + static_cast<std::ptrdiff_t>(r.offset + size));
      offset_ += size;
      ++next_lsn_;
      ++n;
    }
    return n;
  }

  std::string dir_;
  std::uint64_t seq_;
  std::uint64_t offset_ = wal::kSegmentHeaderSize;
  std::uint64_t next_lsn_;
  int fd_ = -1;
  std::vector<std::byte> chunk_;
};

std::vector<std::byte> batch_message(std::uint64_t first_lsn, const std::vector<std::byte>& records) {
  std::vector<std::byte> m(1 + wal::kSegmentHeaderSize);
  m[0] = std::byte{'B'};
  wal::encode_segment_header(1, first_lsn, m.data() + 1);
  m.insert(m.end(), records.begin(), records.end());
  return m;
}

}  // namespace

// ---- the shipper ------------------------------------------------------------------------------------
struct Shipper::Impl {
  Impl(Service& s, const ServiceState& start, std::string dir, NatsTarget t, std::uint64_t snap_every)
      : svc(s), target(std::move(t)), tail(std::move(dir), start.next_segment_seq, start.lsn + 1),
        snapshot_every(snap_every), shadow(start.catalog), shadow_lsn(start.lsn), shadow_draws(start.draws),
        shadow_next_request_id(start.next_request_id), last_snapshot_lsn(start.lsn) {
    snapshot = wal::Snapshot{start.catalog, start.lsn, start.draws, start.next_request_id};
    replicated.store(0, std::memory_order_relaxed);  // relaxed: before the thread starts; set once the stream covers it
    epoch = std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32);
    thread = std::thread([this] { loop(); });
  }

  void loop();
  // Publishes until acknowledged, retrying (same bytes, same id) until `give_up` says so.
  template <class GiveUp>
  bool publish_until_acked(const std::string& subject, const std::vector<std::byte>& data, const std::string& id,
                           GiveUp give_up);
  // Applies a shipped batch to the shadow state (records at or below it are skipped: a backfill).
  void apply_to_shadow(const std::vector<std::byte>& batch);
  std::vector<std::byte> snapshot_message(const wal::Snapshot& s) const {
    std::vector<std::byte> m{std::byte{'S'}};
    const std::vector<std::byte> sn = wal::encode_snapshot(s);
    m.insert(m.end(), sn.begin(), sn.end());
    return m;
  }
  bool wait_or_stop(std::chrono::milliseconds d) {
    std::unique_lock l(mu);
    return cv.wait_for(l, d, [&] { return stop_requested; });
  }

  Service& svc;
  NatsTarget target;
  Tail tail;
  wal::Snapshot snapshot;  // the state the pool started from
  // The state as of the last record shipped (from the start snapshot plus the records shipped), so a
  // snapshot can be published every `snapshot_every` records exactly at a batch boundary: a replica
  // can then start from the latest snapshot message and the batches after it.
  std::uint64_t snapshot_every;
  Pool shadow;
  std::uint64_t shadow_lsn, shadow_draws, shadow_next_request_id, last_snapshot_lsn;
  std::uint64_t epoch = 0;
  Nats nats;
  std::atomic<std::uint64_t> replicated{0};
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;              // guarded by mu
  Clock::time_point stop_deadline{};        // guarded by mu
  ShipperStats stats;                       // guarded by mu (replicated_lsn filled on read)
  std::thread thread;
};

template <class GiveUp>
bool Shipper::Impl::publish_until_acked(const std::string& subject, const std::vector<std::byte>& data,
                                        const std::string& id, GiveUp give_up) {
  for (;;) {
    std::string err;
    if (!nats.nc) {
      if (nats.connect(target.url, err) && nats.ensure_stream(target, err)) {
        std::lock_guard l(mu);
        stats.connected = true;
      } else {
        nats.reset();
      }
    }
    if (nats.nc && nats.publish_to(subject, data, id, err)) {
      std::lock_guard l(mu);
      stats.connected = true;
      return true;
    }
    {
      std::lock_guard l(mu);
      stats.last_error = err;
      stats.connected = nats.nc && natsConnection_Status(nats.nc) == NATS_CONN_STATUS_CONNECTED;
      ++stats.retries;
    }
    if (give_up()) return false;
    if (wait_or_stop(std::chrono::milliseconds(100)) && give_up()) return false;
  }
}

void Shipper::Impl::loop() {
  const auto stopping = [&] {
    std::lock_guard l(mu);
    return stop_requested && Clock::now() >= stop_deadline;
  };
  // Where the stream stands: a primary restarted on its directory may have written records it never
  // shipped (killed while NATS was down or behind): ship those first, from the segments still on disk,
  // so the stream stays continuous. Otherwise (a new stream, or nothing missing) publish the snapshot
  // of the state the pool starts from.
  std::optional<std::uint64_t> last;
  for (;;) {
    std::string err;
    if (!nats.nc && !(nats.connect(target.url, err) && nats.ensure_stream(target, err))) nats.reset();
    if (nats.nc) last = nats.last_lsn(target);
    if (last) break;
    {
      std::lock_guard l(mu);
      stats.last_error = err.empty() ? "cannot read the stream's last message" : err;
      ++stats.retries;
    }
    if (wait_or_stop(std::chrono::milliseconds(100)) && stopping()) return;
  }
  {
    std::lock_guard l(mu);
    stats.connected = true;
  }
  bool publish_snapshot = true;
  if (*last > snapshot.lsn) {
    std::lock_guard l(mu);
    stats.last_error = "stream " + target.stream + " already holds lsn " + std::to_string(*last) + ", past this pool's " +
                       std::to_string(snapshot.lsn) + " (another primary, or a log that lost its tail?): not shipping";
    std::fprintf(stderr, "rewardpool serve: replication: %s\n", stats.last_error.c_str());
    return;
  }
  if (*last > 0 && *last < snapshot.lsn) {
    if (tail.seek_after(*last)) {
      publish_snapshot = false;
      std::fprintf(stderr, "rewardpool serve: replication: shipping lsn %llu..%llu written before the restart\n",
                   static_cast<unsigned long long>(*last + 1), static_cast<unsigned long long>(snapshot.lsn));
    } else {
      std::fprintf(stderr, "rewardpool serve: replication: lsn %llu.. are no longer on disk; publishing a snapshot at %llu "
                   "(replicas behind it must be rebuilt)\n", static_cast<unsigned long long>(*last + 1),
                   static_cast<unsigned long long>(snapshot.lsn));
    }
  }
  if (*last == snapshot.lsn && *last > 0) publish_snapshot = false;  // the stream is exactly where we start
  if (!publish_snapshot && *last == snapshot.lsn) replicated.store(*last, std::memory_order_release);  // release: as below
  if (publish_snapshot && !publish_until_acked(snap_subject_of(target), snapshot_message(snapshot),
                                                "snap-" + std::to_string(epoch) + "-" + std::to_string(snapshot.lsn), stopping)) {
    return;
  }
  if (publish_snapshot) replicated.store(snapshot.lsn, std::memory_order_release);  // release: as below
  std::vector<std::byte> records;
  for (;;) {
    // The written LSN (capped by the applied one: --wal none publishes "everything" as written).
    const std::uint64_t limit = std::min(svc.published_lsn(Ack::Written), svc.published_lsn(Ack::Applied));
    records.clear();
    const std::uint64_t first = tail.next_lsn();
    const std::size_t n = tail.read(limit, kMaxBatchRecords, records);
    if (n == 0) {
      bool done;
      {
        std::lock_guard l(mu);
        done = stop_requested && (first > limit || Clock::now() >= stop_deadline);
      }
      if (done) return;
      (void)wait_or_stop(std::chrono::milliseconds(1));  // idle: poll the written LSN every ms
      continue;
    }
    const std::uint64_t batch_last = first + n - 1;
    const std::string id = std::to_string(epoch) + "-" + std::to_string(first) + "-" + std::to_string(batch_last);
    const std::vector<std::byte> batch = batch_message(first, records);
    if (!publish_until_acked(subject_of(target), batch, id, stopping)) return;
    replicated.store(batch_last, std::memory_order_release);  // release: pairs with replicated_lsn()'s acquire
    {
      std::lock_guard l(mu);
      ++stats.batches;
      stats.records += n;
    }
    apply_to_shadow(batch);
    if (snapshot_every != 0 && shadow_lsn >= last_snapshot_lsn + snapshot_every) {
      const wal::Snapshot sn{shadow.catalog(), shadow_lsn, shadow_draws, shadow_next_request_id};
      if (!publish_until_acked(snap_subject_of(target), snapshot_message(sn),
                               "snap-" + std::to_string(epoch) + "-" + std::to_string(sn.lsn), stopping)) {
        return;
      }
      last_snapshot_lsn = shadow_lsn;
    }
  }
}

void Shipper::Impl::apply_to_shadow(const std::vector<std::byte>& batch) {
  wal::SegmentReader r(std::vector<std::byte>(batch.begin() + 1, batch.end()), "shadow");
  for (wal::ReadResult x = r.next(); x.kind == wal::ReadResult::Kind::Record; x = r.next()) {
    const wal::Record& rec = x.record;
    if (rec.lsn <= shadow_lsn) continue;  // backfill: already in the start state
    if (rec.type == wal::RecordType::Draw) {
      (void)shadow.apply_draw(rec.item);
      ++shadow_draws;
    } else if (rec.type == wal::RecordType::Update) {
      (void)shadow.update(rec.item, rec.quantity, rec.weight);
    } else if (rec.type == wal::RecordType::RequestIds) {
      shadow_next_request_id = std::max(shadow_next_request_id, rec.snapshot_lsn);
    }
    shadow_lsn = rec.lsn;
  }
}

Shipper::Shipper(Service& svc, const ServiceState& start, std::string data_dir, NatsTarget target,
                 std::uint64_t snapshot_every)
    : impl_(std::make_unique<Impl>(svc, start, std::move(data_dir), std::move(target), snapshot_every)) {}

Shipper::~Shipper() { stop(std::chrono::milliseconds(0)); }

std::uint64_t Shipper::replicated_lsn() const noexcept {
  return impl_->replicated.load(std::memory_order_acquire);  // acquire: pairs with the shipper's release
}

ShipperStats Shipper::stats() const {
  std::lock_guard l(impl_->mu);
  ShipperStats s = impl_->stats;
  s.replicated_lsn = replicated_lsn();
  return s;
}

void Shipper::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard l(impl_->mu);
    if (!impl_->stop_requested) {
      impl_->stop_requested = true;
      impl_->stop_deadline = Clock::now() + timeout;
    }
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

// ---- the replica ------------------------------------------------------------------------------------
namespace {

class Replica {
 public:
  explicit Replica(std::string dir) : dir_(std::move(dir)) {
    if (wal::has_data(dir_)) {
      wal::RecoveryResult r = wal::recover(dir_);
      for (const auto& w : r.warnings) std::fprintf(stderr, "replica: warning: %s\n", w.c_str());
      adopt(r.catalog, r.lsn, r.draws, r.next_request_id, r.next_segment_seq);
      std::fprintf(stderr, "replica: %s holds lsn %llu; following from there\n", dir_.c_str(),
                   static_cast<unsigned long long>(lsn_));
    }
  }
  ~Replica() { close(); }
  [[nodiscard]] std::uint64_t lsn() const noexcept { return lsn_; }
  [[nodiscard]] std::uint64_t draws() const noexcept { return draws_; }
  [[nodiscard]] bool initialized() const noexcept { return writer_ != nullptr; }

  // Returns "" or the reason to stop.
  std::string on_message(const std::byte* data, std::size_t n, std::uint64_t seq) {
    const std::string where = "stream message " + std::to_string(seq);
    if (n < 1) return where + ": empty";
    if (data[0] == std::byte{'S'}) {
      const wal::Snapshot s = wal::decode_snapshot(std::span<const std::byte>(data + 1, n - 1), where);
      if (!writer_) {
        std::filesystem::create_directories(dir_);
        if (s.lsn == 0) {
          wal::initialize_data_dir(dir_, s.catalog);
        } else {
          wal::write_snapshot_file(wal::posix_io(), dir_, s);
        }
        adopt(s.catalog, s.lsn, s.draws, s.next_request_id, 1);
        return "";
      }
      if (s.lsn <= lsn_) return "";  // history we already hold
      return where + ": a snapshot at lsn " + std::to_string(s.lsn) + " but this replica holds only up to lsn " +
             std::to_string(lsn_) + " (records in between were never published: the primary restarted after "
             "losing its connection?); rebuild the replica in an empty directory";
    }
    if (data[0] != std::byte{'B'}) return where + ": unknown message kind";
    if (!writer_) return where + ": a batch before any snapshot (the stream does not start with one)";
    wal::SegmentReader reader(std::vector<std::byte>(data + 1, data + n), where);
    if (reader.header_status().kind == wal::ReadResult::Kind::Damaged) return where + ": " + reader.header_status().reason;
    // Check the whole batch before applying any of it: consecutive, CRC-checked, no gap.
    std::vector<wal::Record> recs;
    for (;;) {
      const wal::ReadResult r = reader.next();
      if (r.kind == wal::ReadResult::Kind::End) break;
      if (r.kind == wal::ReadResult::Kind::Damaged) return where + ": damaged at offset " + std::to_string(r.offset) + ": " + r.reason;
      if (!recs.empty() && r.record.lsn != recs.back().lsn + 1) {
        return where + ": records out of order (lsn " + std::to_string(recs.back().lsn) + " then " + std::to_string(r.record.lsn) + ")";
      }
      recs.push_back(r.record);
    }
    if (recs.empty() || recs.back().lsn <= lsn_) {
      ++skipped_;
      return "";  // a redelivery or an older batch: already held
    }
    if (recs.front().lsn > lsn_ + 1) {
      return where + ": gap: the next lsn is " + std::to_string(lsn_ + 1) + " but this batch starts at " +
             std::to_string(recs.front().lsn) + " (not applied)";
    }
    for (const wal::Record& r : recs) {
      if (r.lsn <= lsn_) continue;
      Status st = Status::Ok;
      if (r.type == wal::RecordType::Draw) {
        st = pool_->apply_draw(r.item);
        ++draws_;
      } else if (r.type == wal::RecordType::Update) {
        st = pool_->update(r.item, r.quantity, r.weight);
      }
      if (st != Status::Ok) {
        return where + ": record lsn " + std::to_string(r.lsn) + " does not apply (" + std::string(to_string(st)) + "): diverged";
      }
      if (!writer_->append(r)) return "writing " + dir_ + ": " + writer_->error();
      lsn_ = r.lsn;
    }
    if (!writer_->write() || !writer_->sync()) return "writing " + dir_ + ": " + writer_->error();
    return "";
  }

  void close() {
    if (writer_) (void)writer_->close();
  }
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

 private:
  void adopt(const Catalog& c, std::uint64_t lsn, std::uint64_t draws, std::uint64_t /*next_request_id*/, std::uint64_t seq) {
    pool_ = std::make_unique<Pool>(c);
    lsn_ = lsn;
    draws_ = draws;
    wal::WalOptions o;
    o.dir = dir_;
    o.backend = wal::Backend::File;
    writer_ = std::make_unique<wal::WalWriter>(o, seq, lsn + 1);
  }

  std::string dir_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<wal::WalWriter> writer_;
  std::uint64_t lsn_ = 0, draws_ = 0, skipped_ = 0;
};

bool stop_signal_pending() {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1;
}

}  // namespace

int run_replica(const ReplicaOptions& o) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Replica replica(o.data_dir);
  Nats nats;
  std::string err;
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (!nats.connect(o.source.url, err)) {
    if (Clock::now() > give_up || stop_signal_pending()) {
      std::fprintf(stderr, "replica: %s\n", err.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!nats.ensure_stream(o.source, err)) {
    std::fprintf(stderr, "replica: %s\n", err.c_str());
    return 1;
  }
  std::uint64_t last_at_start = 0;
  {
    jsStreamInfo* si = nullptr;
    jsErrCode ec = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&si, nats.js, o.source.stream.c_str(), nullptr, &ec) == NATS_OK) {
      last_at_start = si->State.LastSeq;
      jsStreamInfo_Destroy(si);
    }
  }
  if (o.once && last_at_start == 0) {
    std::fprintf(stderr, "replica: stream %s is empty\n", o.source.stream.c_str());
    return 0;
  }
  // An empty directory starts from the latest snapshot message and reads on from the one after it. A
  // directory that already holds the snapshot's LSN resumes after it too (the batches after a snapshot
  // message start at its LSN + 1); otherwise it reads from the first message, skipping what it holds.
  std::uint64_t start_seq = 1;
  if (replica.initialized()) {
    natsMsg* m = nullptr;
    if (js_GetLastMsg(&m, nats.js, o.source.stream.c_str(), snap_subject_of(o.source).c_str(), nullptr, nullptr) == NATS_OK) {
      try {
        const auto* p = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
        const auto n = static_cast<std::size_t>(natsMsg_GetDataLength(m));
        if (n > 1 && p[0] == std::byte{'S'}) {
          const std::uint64_t snap_lsn = wal::decode_snapshot(std::span<const std::byte>(p + 1, n - 1), "snapshot").lsn;
          if (snap_lsn <= replica.lsn()) {
            start_seq = natsMsg_GetSequence(m) + 1;
            std::fprintf(stderr, "replica: resuming after the snapshot at lsn %llu (stream message %llu)\n",
                         static_cast<unsigned long long>(snap_lsn), static_cast<unsigned long long>(start_seq - 1));
          }
        }
      } catch (const std::exception&) {
        // a damaged snapshot message: read from the first message instead
      }
      natsMsg_Destroy(m);
    }
  } else {
    natsMsg* m = nullptr;
    if (js_GetLastMsg(&m, nats.js, o.source.stream.c_str(), snap_subject_of(o.source).c_str(), nullptr, nullptr) == NATS_OK) {
      const std::uint64_t q = natsMsg_GetSequence(m);
      std::string problem;
      try {
        problem = replica.on_message(reinterpret_cast<const std::byte*>(natsMsg_GetData(m)),
                                     static_cast<std::size_t>(natsMsg_GetDataLength(m)), q);
      } catch (const std::exception& e) {
        problem = e.what();
      }
      natsMsg_Destroy(m);
      if (!problem.empty()) {
        std::fprintf(stderr, "replica: stopped: %s\n", problem.c_str());
        return 1;
      }
      start_seq = q + 1;
      std::fprintf(stderr, "replica: starting from the snapshot at lsn %llu (stream message %llu)\n",
                   static_cast<unsigned long long>(replica.lsn()), static_cast<unsigned long long>(q));
    }
  }
  if (o.once && start_seq > last_at_start) {
    replica.close();
    std::printf("replica lsn %llu draws %llu\n", static_cast<unsigned long long>(replica.lsn()),
                static_cast<unsigned long long>(replica.draws()));
    return 0;
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.source.stream.c_str();
  so.Ordered = true;  // the library re-creates the consumer on a gap in delivery: stream order, no loss
  if (start_seq > 1) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
  }
  natsSubscription* sub = nullptr;
  jsErrCode ec = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, nats.js, all_subjects_of(o.source).c_str(), nullptr, &so, &ec);
  if (s != NATS_OK) {
    std::fprintf(stderr, "replica: subscribe: %s\n", nats_error(s).c_str());
    return 1;
  }
  int rc = 0;
  std::uint64_t seq = 0;
  std::uint64_t reported = ~std::uint64_t{0};
  for (;;) {
    if (stop_signal_pending()) break;
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, 200);
    if (s == NATS_TIMEOUT) {
      // Idle: say where we stand, once per position (stdout, for operators and tests).
      if (replica.lsn() != reported) {
        reported = replica.lsn();
        std::printf("caught up at lsn %llu\n", static_cast<unsigned long long>(reported));
        std::fflush(stdout);
      }
      continue;
    }
    if (s != NATS_OK) {
      std::fprintf(stderr, "replica: %s\n", nats_error(s).c_str());
      rc = 1;
      break;
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
      seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    std::string problem;
    try {
      problem = replica.on_message(reinterpret_cast<const std::byte*>(natsMsg_GetData(m)),
                                   static_cast<std::size_t>(natsMsg_GetDataLength(m)), seq);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    natsMsg_Destroy(m);
    if (!problem.empty()) {
      std::fprintf(stderr, "replica: stopped: %s\n", problem.c_str());
      rc = 1;
      break;
    }
    if (o.once && seq >= last_at_start) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  replica.close();
  std::fprintf(stderr, "replica: %s at lsn %llu, %llu draws (stream message %llu; %llu batches already held skipped)\n",
               o.data_dir.c_str(), static_cast<unsigned long long>(replica.lsn()), static_cast<unsigned long long>(replica.draws()),
               static_cast<unsigned long long>(seq), static_cast<unsigned long long>(replica.skipped()));
  std::printf("replica lsn %llu draws %llu\n", static_cast<unsigned long long>(replica.lsn()),
              static_cast<unsigned long long>(replica.draws()));
  return rc;
}

}  // namespace rewardpool::repl
