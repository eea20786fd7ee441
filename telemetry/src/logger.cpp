// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/logger.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <limits>
#include <stdexcept>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringkit/spill.hpp"
#include "registry.hpp"
#include "ringkit/telemetry/ttlog.hpp"

namespace ringkit::telemetry {

std::string_view to_string(DropInfo::Reason r) noexcept {
  switch (r) {
    case DropInfo::Reason::dropped_newest: return "dropped_newest";
    case DropInfo::Reason::lost: return "lost";
    case DropInfo::Reason::incomplete: return "incomplete";
    case DropInfo::Reason::spill_error: return "spill_error";
    case DropInfo::Reason::closed: return "closed";
    case DropInfo::Reason::no_thread_slot: return "no_thread_slot";
  }
  return "?";
}

namespace detail {

namespace {
std::size_t flight_mask(std::size_t records) {
  if (records == 0) return SIZE_MAX;
  if ((records & (records - 1)) != 0)
    throw std::invalid_argument("telemetry: flight_records must be a power of two (or 0), got " +
                                std::to_string(records));
  return records - 1;
}
}  // namespace

FlightRing::FlightRing(std::size_t records) : mask_(flight_mask(records)) {
  if (records) {
    records_ = std::make_unique<Words[]>(records);
    seqs_ = std::make_unique<std::atomic<std::uint64_t>[]>(records);
    for (std::size_t i = 0; i < records; ++i) seqs_[i].store(0, std::memory_order_relaxed);  // relaxed: before sharing
  }
}

bool FlightRing::read(std::uint64_t i, Record& out) const noexcept {
  if (mask_ == SIZE_MAX) return false;
  const std::atomic<std::uint64_t>& seq = seqs_[i & mask_];
  Words& words = records_[i & mask_];
  const std::uint64_t s1 = seq.load(std::memory_order_acquire);  // acquire: pairs with the release in write()
  if (s1 != 2 * i + 2) return false;
  std::uint64_t w[8];
  // relaxed: the seqlock data words; ordered by the acquire fence below (pairs with write()'s release fence).
  for (int k = 0; k < 8; ++k) w[k] = std::atomic_ref<std::uint64_t>(words.w[k]).load(std::memory_order_relaxed);
  // acquire fence: the data loads above happen before the re-check; pairs with write()'s release fence.
  detail::seqlock_acquire_fence();
  if (seq.load(std::memory_order_relaxed) != s1) return false;  // relaxed: ordered by the fence above
  std::memcpy(&out, w, sizeof w);
  return true;
}

Producer::Producer(std::uint32_t idx, std::size_t lane_bytes, std::size_t flight_records, bool huge_pages)
    : lane_ring(lane_bytes ? ByteLane(lane_bytes, flight_records, huge_pages) : ByteLane()),
      index(idx),
      lane(lane_bytes ? &lane_ring : nullptr),
      flight(lane_bytes ? 0 : flight_records) {}

namespace lane_record {
SiteEntry g_sites[kMaxSites + 1];

namespace {
std::mutex g_sites_mu;
std::uint32_t g_sites_used = 0;  // under g_sites_mu
}  // namespace

std::uint32_t register_site(const Metadata* meta, std::size_t fixed_len, bool variable,
                            std::atomic<std::uint32_t>& id) noexcept {
  std::lock_guard<std::mutex> lock(g_sites_mu);
  const std::uint32_t have = id.load(std::memory_order_relaxed);  // relaxed: its writers hold the mutex
  if (have != 0) return have;
  std::uint32_t v = kNoSiteId;
  if (g_sites_used < kMaxSites) {
    v = ++g_sites_used;
    g_sites[v].fixed_len = static_cast<std::uint16_t>(fixed_len);
    g_sites[v].variable = variable;
    // release: fixed_len and variable before the pointer; pairs with read_shape()'s acquire.
    g_sites[v].meta.store(meta, std::memory_order_release);
  }
  // release: the table entry before the id; pairs with the acquire of the id in log_lane().
  id.store(v, std::memory_order_release);
  return v;
}
}  // namespace lane_record

}  // namespace detail

// ---- the process-wide registry (thread exit, crash handler) ----------------------------------------
namespace registry {
std::atomic<Logger*> loggers[kMaxLoggers];
std::mutex mu;

namespace {
struct ThreadExit {
  std::vector<std::pair<std::uint64_t, detail::Producer*>> entries;
  ~ThreadExit() {
    std::lock_guard lock(mu);
    for (auto [id, p] : entries) {
      for (auto& slot : loggers) {
        Logger* lg = slot.load(std::memory_order_relaxed);  // relaxed: under mu, which orders registration
        if (lg != nullptr && lg->id() == id) {
          p->active.store(false, std::memory_order_release);  // release: pairs with register_thread()'s acquire
          break;
        }
      }
    }
  }
};
ThreadExit& thread_exit() {
  thread_local ThreadExit t;
  return t;
}
}  // namespace

void add(Logger* lg) {
  std::lock_guard lock(mu);
  for (auto& slot : loggers) {
    if (slot.load(std::memory_order_relaxed) == nullptr) {  // relaxed: under mu
      slot.store(lg, std::memory_order_release);            // release: the crash handler's acquire sees a built logger
      return;
    }
  }
  throw std::length_error("telemetry: more than " + std::to_string(kMaxLoggers) + " live loggers");
}
void remove(Logger* lg) {
  std::lock_guard lock(mu);
  for (auto& slot : loggers) {
    if (slot.load(std::memory_order_relaxed) == lg) slot.store(nullptr, std::memory_order_release);  // relaxed/release: under mu; pairs with the handler's acquire
  }
}
}  // namespace registry

namespace {
std::atomic<std::uint64_t> g_next_logger_id{1};
std::uint32_t current_tid() { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }
}  // namespace

// ---- the backend -------------------------------------------------------------------------------------
class Backend {
 public:
  explicit Backend(Logger& lg)
      : lg_(lg), staging_(256), lane_buf_(detail::lane_record::kMaxHeaderWords + detail::lane_record::payload_words(kMaxPayload)) {
    // Grown once here, so the backend does not allocate per message in steady state.
    out_.message.reserve(kMaxPayload * 2);
    out_.values.reserve(kMaxPayload * 2);
    last_rate_time_ = std::chrono::steady_clock::now();
    last_metrics_time_ = last_rate_time_;
    thread_ = std::thread([this] { run(); });
  }
  ~Backend() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true, std::memory_order_release);  // release: pairs with the acquire in run()
    thread_.join();
  }

  void flush() {
    const std::uint64_t ticket = flush_req_.fetch_add(1, std::memory_order_acq_rel) + 1;  // acq_rel: our earlier pushes happen-before the backend's acquire of the request
    std::uint64_t done = flush_done_.load(std::memory_order_acquire);  // acquire: pairs with the release in serve_flush()
    while (done < ticket) {
      flush_done_.wait(done, std::memory_order_acquire);  // acquire: as above
      done = flush_done_.load(std::memory_order_acquire);
    }
  }

  // Counters (written by the backend thread only; relaxed single-writer stores, read by metrics()).
  std::atomic<std::uint64_t> delivered{0}, lost{0}, incomplete{0}, truncated{0}, format_errors{0};
  std::atomic<std::uint64_t> lag_ns{0}, max_lag_ns{0}, lanes_high_water{0};
  std::atomic<std::uint64_t> eps_bits{0};

 private:
  struct Reasm {
    std::uint64_t expected = 0;  // next message number
    bool pending = false;
    std::uint32_t seq = 0;
    std::uint8_t got = 0;
    RecordHeader head{};
    std::vector<std::byte> buf;
  };

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // relaxed: single-writer counter
  }

  void run() {
    bool dirty = false;
    for (;;) {
      const bool stopping = stop_.load(std::memory_order_acquire);  // acquire: pairs with stop()
      if (flush_req_.load(std::memory_order_acquire) != flush_done_.load(std::memory_order_relaxed)) {  // acquire: pairs with flush()'s acq_rel; relaxed: our own variable
        serve_flush();
        dirty = false;
        continue;
      }
      const std::size_t n = drain_once(lg_.now_ticks());
      if (n) {
        dirty = true;
        if (++busy_rounds_ % 64 == 0) periodic();
        continue;
      }
      if (stopping) break;
      if (dirty) {
        flush_sinks();
        dirty = false;
      }
      periodic();
      std::this_thread::sleep_for(lg_.opts_.backend_idle_sleep);
    }
    // Final drain: everything queued, then account for what never arrived.
    drain_everything();
    for (std::size_t i = 0; i < reasm_.size(); ++i) {
      Reasm& st = reasm_[i];
      detail::Producer& p = *lg_.producers_[i];
      if (st.pending) {
        st.pending = false;
        count_incomplete(p);
      }
      const std::uint64_t sent = p.sent().load(std::memory_order_acquire);  // acquire: the producer's last push is done (joined)
      if (sent > st.expected) {
        count_lost(p, sent - st.expected);
        st.expected = sent;
      }
      p.accounted.store(st.expected, std::memory_order_release);  // release: pairs with register_thread()'s acquire
    }
    flush_sinks();
  }

  void serve_flush() {
    const std::uint64_t req = flush_req_.load(std::memory_order_acquire);  // acquire: pairs with flush()
    // Shared mode: a message numbered below a producer's `sent` had all its records pushed before that
    // store; once the drain below has taken every position pushed before it, whatever of those
    // messages has not arrived was evicted (DropOldest): count it now, not at the next message.
    const std::size_t np = lg_.nproducers_.load(std::memory_order_acquire);  // acquire: pairs with register_thread()
    sent_snapshot_.resize(np);
    for (std::size_t i = 0; i < np; ++i)
      sent_snapshot_[i] = lg_.producers_[i]->sent().load(std::memory_order_acquire);  // acquire: pairs with the producer's bump after its pushes
    drain_everything_before_now();
    if (lg_.mode_ == QueueMode::Shared) {
      for (std::size_t i = 0; i < np; ++i) {
        ensure_reasm(static_cast<std::uint32_t>(i));
        Reasm& st = reasm_[i];
        detail::Producer& p = *lg_.producers_[i];
        if (st.pending && st.expected - 1 < sent_snapshot_[i]) {
          st.pending = false;
          count_incomplete(p);
        }
        if (st.expected < sent_snapshot_[i]) {
          count_lost(p, sent_snapshot_[i] - st.expected);
          st.expected = sent_snapshot_[i];
        }
        p.accounted.store(st.expected - (st.pending ? 1 : 0), std::memory_order_release);  // release: pairs with register_thread()'s acquire
      }
    }
    periodic();  // the rate and the calibration are due at least at every flush, however busy the backend was
    flush_sinks();
    flush_done_.store(req, std::memory_order_release);  // release: pairs with the acquire in flush()
    flush_done_.notify_all();
  }

  // Drains until everything queued before this call is handled (producers may keep adding).
  void drain_everything_before_now() {
    if (lg_.mode_ == QueueMode::Lanes) {
      const std::uint64_t cutoff = lg_.now_ticks();  // full ticks: drain_lanes() compares expanded record times
      while (drain_lanes(cutoff) != 0) {
      }
      return;
    }
    auto& q = *lg_.queue_;
    const QueueStats s0 = q.stats();
    for (;;) {
      const std::size_t n = drain_shared();
      const QueueStats s = q.stats();
      const std::uint64_t ring_taken = s.popped - s.unspilled + s.evicted;
      if (ring_taken >= s0.pushed && (s.unspilled >= s0.spilled || q.spill_pending() == 0)) break;
      if (n == 0) std::this_thread::yield();  // a producer is between claiming and publishing a slot
    }
  }

  void drain_everything() {
    if (lg_.mode_ == QueueMode::Lanes) {
      while (drain_lanes(std::numeric_limits<std::uint64_t>::max()) != 0) {
      }
      return;
    }
    drain_everything_before_now();
    while (drain_shared() != 0) {
    }
  }

  std::size_t drain_once(std::uint64_t cutoff) {
    return lg_.mode_ == QueueMode::Lanes ? drain_lanes(cutoff) : drain_shared();
  }

  std::size_t drain_shared() {
    const std::size_t n = lg_.queue_->pop_batch(std::span<Record>(staging_));
    if (n == 0) return 0;
    now_ns_ = realtime_ns();
    calib_ = tsc_calibration();
    for (std::size_t i = 0; i < n; ++i) handle(staging_[i]);
    return n;
  }

  // Merges the lanes by timestamp: repeatedly takes the oldest front record among the lanes, up to
  // `cutoff` (records stamped later wait for the next round, so a lane that is slow to publish does not
  // let a later record overtake it). Returns messages handled.
  std::size_t drain_lanes(std::uint64_t cutoff) {
    const std::size_t np = lg_.nproducers_.load(std::memory_order_acquire);  // acquire: pairs with register_thread()
    if (np == 0) return 0;
    now_ns_ = realtime_ns();
    calib_ = tsc_calibration();
    // The reference for the records' 48-bit times (lane_record::expand_ticks): every record now in a
    // lane was stamped before this read (or, on another core's clock, at most a little after it).
    now_ticks_ = lg_.now_ticks();
    std::uint64_t hw = lanes_high_water.load(std::memory_order_relaxed);  // relaxed: our own counter
    for (std::size_t i = 0; i < np; ++i) {
      ensure_reasm(static_cast<std::uint32_t>(i));
      // acquire: pairs with the producer's release of sent (a snapshot for the statistic).
      const std::uint64_t sent = lg_.producers_[i]->sent().load(std::memory_order_acquire);
      if (sent > reasm_[i].expected) hw = std::max<std::uint64_t>(hw, sent - reasm_[i].expected);
    }
    lanes_high_water.store(hw, std::memory_order_relaxed);  // relaxed: single-writer statistic
    std::size_t handled = 0;
    for (; handled < 4096; ++handled) {
      detail::Producer* best = nullptr;
      std::uint64_t best_ticks = 0;
      for (std::size_t i = 0; i < np; ++i) {
        detail::Producer* p = lg_.producers_[i];
        const std::uint64_t* f = p->lane->front();
        if (f == nullptr) continue;
        const std::uint64_t t = detail::lane_record::expand_ticks(f[0] >> detail::lane_record::kSiteBits, now_ticks_);
        if (t <= cutoff && (best == nullptr || t < best_ticks)) {
          best = p;
          best_ticks = t;
        }
      }
      if (best == nullptr) break;
      // Copied out and freed before handling, so a slow sink does not hold the producer's lane.
      detail::lane_record::Shape shape;
      if (!detail::lane_record::read_shape([&](std::size_t k) { return best->lane->word(k); }, shape)) [[unlikely]] {
        // Cannot happen: a record's site is registered before the record is published (log_lane's acquire
        // of the id). A lane whose front makes no sense cannot be read on (records have no end marker).
        std::fprintf(stderr, "ringkit telemetry: a lane record with an unregistered call site (lane %u, header %#llx)\n",
                     static_cast<unsigned>(best->index), static_cast<unsigned long long>(best->lane->word(0)));
        std::abort();
      }
      best->lane->pop(lane_buf_.data(), shape.words());
      handle_lane(*best, lane_buf_.data(), shape, best_ticks);
    }
    return handled;
  }

  // One Lanes-mode record (lane_record layout): a whole message; lanes lose nothing, so no gaps.
  void handle_lane(detail::Producer& p, const std::uint64_t* words, const detail::lane_record::Shape& shape,
                   std::uint64_t ticks) {
    ensure_reasm(p.index);
    Reasm& st = reasm_[p.index];
    RecordHeader h{};
    h.ticks = ticks;
    h.meta = shape.meta;
    h.producer = p.index;
    h.seq = static_cast<std::uint32_t>(st.expected);
    h.len = static_cast<std::uint16_t>(shape.len);
    h.nparts = 1;
    h.flags = shape.truncated ? kTruncated : 0;
    ++st.expected;
    emit(h, reinterpret_cast<const std::byte*>(words + shape.header_words), h.len, p);
    p.accounted.store(st.expected, std::memory_order_release);  // release: pairs with register_thread()'s acquire
  }

  void ensure_reasm(std::uint32_t idx) {
    if (idx >= reasm_.size()) {
      reasm_.resize(idx + 1);
      for (Reasm& r : reasm_) r.buf.reserve(kMaxPayload);
    }
  }

  void handle(const Record& r) {
    const std::uint32_t idx = r.h.producer;
    ensure_reasm(idx);
    Reasm& st = reasm_[idx];
    detail::Producer& p = *lg_.producers_[idx];
    if (r.h.part == 0) {
      if (st.pending) {
        st.pending = false;
        count_incomplete(p);
      }
      const std::uint32_t gap = r.h.seq - static_cast<std::uint32_t>(st.expected);
      if (gap != 0) {
        count_lost(p, gap);
        st.expected += gap;
      }
      ++st.expected;
      if (r.h.nparts == 1) {
        emit(r.h, r.payload, std::min<std::size_t>(r.h.len, kPartPayload), p);
      } else {
        st.pending = true;
        st.seq = r.h.seq;
        st.got = 1;
        st.head = r.h;
        st.buf.assign(r.payload, r.payload + kPartPayload);
      }
    } else if (st.pending && st.seq == r.h.seq && st.got == r.h.part) {
      const std::size_t off = static_cast<std::size_t>(r.h.part) * kPartPayload;
      const std::size_t chunk = std::min<std::size_t>(kPartPayload, r.h.len > off ? r.h.len - off : 0);
      st.buf.insert(st.buf.end(), r.payload, r.payload + chunk);
      if (++st.got == st.head.nparts) {
        st.pending = false;
        emit(st.head, st.buf.data(), std::min<std::size_t>(st.head.len, st.buf.size()), p);
      }
    } else if (st.pending && st.seq == r.h.seq) {
      st.pending = false;  // a middle part went missing (evicted)
      count_incomplete(p);
    }
    // else: a later part of a message whose first part was evicted: that message is counted lost by
    // the sequence gap when the producer's next message arrives (or at shutdown).
    p.accounted.store(st.expected - (st.pending ? 1 : 0), std::memory_order_release);  // release: pairs with register_thread()'s acquire
  }

  void count_lost(detail::Producer& p, std::uint64_t n) {
    bump(lost, n);
    lg_.report_drop(DropInfo::Reason::lost, n, p.tid.load(std::memory_order_relaxed));  // relaxed: informational
  }
  void count_incomplete(detail::Producer& p) {
    bump(incomplete);
    lg_.report_drop(DropInfo::Reason::incomplete, 1, p.tid.load(std::memory_order_relaxed));  // relaxed: informational
  }

  void emit(const RecordHeader& h, const std::byte* payload, std::size_t len, detail::Producer& p) {
    const Metadata& m = *h.meta;
    out_.clear();
    try {
      m.decode(m, payload, len, out_);
    } catch (const std::exception& e) {
      bump(format_errors);
      out_.clear();
      out_.message.append(std::string_view("[format error: "));
      out_.message.append(std::string_view(e.what()));
      out_.message.append(std::string_view("] "));
      out_.message.append(m.format);
    }
    if (h.flags & kTruncated) {
      out_.message.append(std::string_view(" [truncated]"));
      bump(truncated);
    }
    for (std::size_t i = 0; i < out_.nfields; ++i) {
      const auto& f = out_.fields[i];
      fields_[i] = Field{f.key, out_.field_value(f), f.numeric};
    }
    Event ev;
    ev.ts_ns = lg_.tsc_ ? calib_.to_ns(h.ticks) : h.ticks;
    ev.level = m.level;
    ev.tid = p.tid.load(std::memory_order_relaxed);  // relaxed: set before this producer's first push (released by it)
    ev.file = m.file;
    ev.line = m.line;
    ev.message = std::string_view(out_.message.data(), out_.message.size());
    ev.fields = std::span<const Field>(fields_, out_.nfields);
    write_sinks(ev);
    bump(delivered);
    const std::uint64_t lag = now_ns_ > ev.ts_ns ? now_ns_ - ev.ts_ns : 0;
    lag_ns.store(lag, std::memory_order_relaxed);  // relaxed: a statistic
    if (lag > max_lag_ns.load(std::memory_order_relaxed)) max_lag_ns.store(lag, std::memory_order_relaxed);  // relaxed: single writer
  }

  void write_sinks(const Event& ev) {
    for (const auto& s : lg_.opts_.sinks) {
      try {
        s->write(ev);
      } catch (...) {
        bump(format_errors);
      }
    }
  }
  void flush_sinks() {
    for (const auto& s : lg_.opts_.sinks) {
      try {
        s->flush();
      } catch (...) {
      }
    }
  }

  void periodic() {
    const auto now = std::chrono::steady_clock::now();
    const auto since = now - last_rate_time_;
    if (since >= std::chrono::seconds(1)) {
      const std::uint64_t d = delivered.load(std::memory_order_relaxed);  // relaxed: our own counter
      const double secs = std::chrono::duration<double>(since).count();
      eps_bits.store(std::bit_cast<std::uint64_t>(static_cast<double>(d - last_delivered_) / secs),
                     std::memory_order_relaxed);  // relaxed: a statistic
      last_delivered_ = d;
      last_rate_time_ = now;
      if (lg_.tsc_) refine_tsc_calibration();
    }
    const auto interval = lg_.opts_.metrics_interval;
    if (interval.count() > 0 && now - last_metrics_time_ >= interval) {
      last_metrics_time_ = now;
      log_metrics();
    }
  }

  void log_metrics() {
    const Metrics m = lg_.metrics();
    fmt::memory_buffer vals;
    std::pair<const char*, std::uint64_t> items[] = {
        {"logged", m.logged},         {"delivered", m.delivered},       {"dropped", m.dropped},
        {"lost", m.lost},             {"incomplete", m.incomplete},     {"evicted_records", m.evicted_records},
        {"spilled_records", m.spilled_records}, {"queue_high_water", m.queue_high_water},
        {"backend_lag_ns", m.backend_lag_ns},   {"sink_errors", m.sink_errors},
        {"events_per_s", static_cast<std::uint64_t>(m.events_per_s)}};
    std::size_t offs[std::size(items) + 1];
    for (std::size_t i = 0; i < std::size(items); ++i) {
      offs[i] = vals.size();
      fmt::format_to(std::back_inserter(vals), "{}", items[i].second);
    }
    offs[std::size(items)] = vals.size();
    Field fs[std::size(items)];
    for (std::size_t i = 0; i < std::size(items); ++i)
      fs[i] = Field{items[i].first, std::string_view(vals.data() + offs[i], offs[i + 1] - offs[i]), true};
    Event ev;
    ev.ts_ns = realtime_ns();
    ev.level = Level::info;
    ev.tid = current_tid();
    ev.file = "ringkit-telemetry";
    ev.line = 0;
    ev.message = "telemetry metrics";
    ev.fields = fs;
    write_sinks(ev);
  }

  Logger& lg_;
  std::vector<Record> staging_;
  std::vector<std::uint64_t> lane_buf_;  // one Lanes-mode record
  std::vector<Reasm> reasm_;
  std::vector<std::uint64_t> sent_snapshot_;
  DecodeOut out_;
  Field fields_[DecodeOut::kMaxFields];
  std::uint64_t now_ns_ = 0;
  std::uint64_t now_ticks_ = 0;  // the logger's clock at the start of a lanes drain (expand_ticks' reference)
  TscCalibration calib_ = tsc_calibration();  // refreshed per batch
  std::uint64_t busy_rounds_ = 0;
  std::uint64_t last_delivered_ = 0;
  std::chrono::steady_clock::time_point last_rate_time_, last_metrics_time_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> flush_req_{0}, flush_done_{0};
  std::thread thread_;
};

// ---- Logger ------------------------------------------------------------------------------------------
namespace {
LoggerOptions validated(LoggerOptions o) {
  if (o.capacity == 0 || (o.capacity & (o.capacity - 1)) != 0)
    throw std::invalid_argument("telemetry: capacity must be a non-zero power of two, got " + std::to_string(o.capacity));
  if (o.mode == QueueMode::Lanes && o.overflow != Overflow::Block && o.overflow != Overflow::DropNewest)
    throw std::invalid_argument(std::string("telemetry: QueueMode::Lanes supports Overflow::Block and DropNewest, not ") +
                                std::string(ringkit::to_string(o.overflow)) + " (use QueueMode::Shared)");
  if (o.overflow == Overflow::SpillToDisk && o.spill_directory.empty())
    throw std::invalid_argument("telemetry: Overflow::SpillToDisk needs LoggerOptions::spill_directory");
  if ((o.flight_records & (o.flight_records - 1)) != 0)
    throw std::invalid_argument("telemetry: flight_records must be a power of two (or 0), got " +
                                std::to_string(o.flight_records));
  if (o.mode == QueueMode::Lanes && o.flight_records > detail::ByteLane::kMaxFlight)
    throw std::invalid_argument("telemetry: QueueMode::Lanes keeps at most 2^23 flight_records per thread, got " +
                                std::to_string(o.flight_records));
  if (o.mode == QueueMode::Lanes && o.capacity < 2)
    throw std::invalid_argument("telemetry: QueueMode::Lanes needs a capacity of at least 2 (64-byte lanes)");
  if (o.max_threads == 0) throw std::invalid_argument("telemetry: max_threads must be at least 1");
  if (o.timestamps == TimestampSource::Tsc && !tsc_is_invariant())
    throw std::invalid_argument("telemetry: TimestampSource::Tsc needs an invariant TSC; this CPU has none (use Realtime)");
  for (const auto& s : o.sinks)
    if (!s) throw std::invalid_argument("telemetry: a sink is null");
  return o;
}
}  // namespace

Logger::Logger(LoggerOptions options)
    : opts_(validated(std::move(options))),
      mode_(opts_.mode),
      tsc_(opts_.timestamps == TimestampSource::Tsc),
      id_(g_next_logger_id.fetch_add(1, std::memory_order_relaxed)),  // relaxed: a unique number, orders nothing
      // the most header words a record has (a wide record with its length word) and the payload fill the lane
      lane_max_payload_(std::min<std::size_t>(kMaxPayload, opts_.capacity * 24 - detail::lane_record::kMaxHeaderWords * 8)),
      level_(opts_.level),
      producers_(std::make_unique<detail::Producer*[]>(opts_.max_threads)) {
  if (tsc_) (void)tsc_calibration();  // calibrate now, not on the backend's first event
  if (mode_ == QueueMode::Shared) {
    if (opts_.overflow == Overflow::SpillToDisk)
      queue_ = std::make_unique<SpillingMpscQueue<Record>>(opts_.capacity, SpillOptions{.directory = opts_.spill_directory});
    else
      queue_ = std::make_unique<SpillingMpscQueue<Record>>(opts_.capacity, opts_.overflow);
  }
  registry::add(this);
  backend_ = std::make_unique<Backend>(*this);
}

Logger::~Logger() {
  backend_->stop();
  registry::remove(this);
}

void Logger::flush() { backend_->flush(); }

void Logger::count_no_slot() noexcept {
  dropped_unregistered_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
  report_drop(DropInfo::Reason::no_thread_slot, 1, 0);
}

void Logger::count_too_large(detail::Producer& p) noexcept {
  p.bump(p.dropped);
  report_drop(DropInfo::Reason::dropped_newest, 1, p.tid.load(std::memory_order_relaxed));  // relaxed: our own thread's id
}

void Logger::submit_lane_slow(detail::Producer& p, const std::uint64_t* words, std::size_t n) noexcept {
  if (n * 8 > p.lane->capacity_bytes()) {  // never fits (only a fixed-size message larger than the lane)
    count_too_large(p);
    return;
  }
  for (;;) {
    if (p.lane->try_write(words, n, p.sent().load(std::memory_order_relaxed))) break;  // relaxed: sent is ours
    if (opts_.overflow == Overflow::DropNewest) {
      p.bump(p.dropped);
      report_drop(DropInfo::Reason::dropped_newest, 1, p.tid.load(std::memory_order_relaxed));  // relaxed: our own id
      return;
    }
    std::this_thread::yield();  // Block: wait for the backend to make room
  }
  p.bump_release(p.sent());
}

void Logger::report_drop(DropInfo::Reason r, std::uint64_t count, std::uint32_t tid) noexcept {
  if (!opts_.on_drop) return;
  try {
    opts_.on_drop(DropInfo{r, count, tid});
  } catch (...) {
  }
}

detail::Producer* Logger::register_thread() {
  const std::uint32_t tid = current_tid();
  detail::Producer* p = nullptr;
  bool known = false;  // this thread's producer already, only evicted from its TLS slot by another logger
  {
    std::lock_guard lock(register_mu_);
    const std::size_t n = nproducers_.load(std::memory_order_relaxed);  // relaxed: written under register_mu_
    for (std::size_t i = 0; i < n && p == nullptr; ++i) {
      // acquire: pairs with ThreadExit's release (the old thread is done with it).
      if (producers_[i]->active.load(std::memory_order_acquire) && producers_[i]->tid.load(std::memory_order_relaxed) == tid)
        p = producers_[i];  // this thread's, evicted from the small TLS cache
    }
    known = p != nullptr;
    // Only when every slot is taken is an exited thread's slot reused: until then its flight
    // recorder keeps that thread's last records for a dump.
    if (p == nullptr && n >= opts_.max_threads) {
      for (std::size_t i = 0; i < n && p == nullptr; ++i) {
        detail::Producer* q = producers_[i];
        // Reuse the slot of an exited thread once every message it sent is accounted for (so no
        // record of the old thread is decoded with the new thread's id). acquire: pairs with the
        // backend's release of accounted.
        if (!q->active.load(std::memory_order_acquire) &&
            // relaxed (sent): the exited owner's last store, ordered by the acquire of active above.
            q->accounted.load(std::memory_order_acquire) == q->sent().load(std::memory_order_relaxed) &&
            (!q->lane || q->lane->empty())) {
          q->tid.store(tid, std::memory_order_relaxed);      // relaxed: published by the queue pushes that follow
          q->active.store(true, std::memory_order_relaxed);  // relaxed: under register_mu_
          p = q;
        }
      }
      if (p == nullptr) return nullptr;
    }
    if (p == nullptr) {
      owned_.push_back(std::make_unique<detail::Producer>(static_cast<std::uint32_t>(n),
                                                          mode_ == QueueMode::Lanes ? opts_.capacity * 24 : 0,
                                                          opts_.flight_records, opts_.lane_huge_pages));
      p = owned_.back().get();
      p->tid.store(tid, std::memory_order_relaxed);  // relaxed: published by the release below
      producers_[n] = p;
      nproducers_.store(n + 1, std::memory_order_release);  // release: the backend's acquire sees the built producer
    }
  }
  if (!known) {  // a known producer has its exit entry already: one entry per (thread, logger)
    std::lock_guard lock(registry::mu);
    registry::thread_exit().entries.emplace_back(id_, p);
  }
  detail::tls_producers[id_ & 3] = detail::TlsSlot{id_, p};
  return p;
}

void Logger::submit_slow(detail::Producer& p, const Record* records, std::size_t n) noexcept {
  const std::uint32_t tid = p.tid.load(std::memory_order_relaxed);  // relaxed: our own thread's id
  bool head_queued = false;
  for (std::size_t i = 0; i < n; ++i) {
    const PushResult r = queue_->push(records[i]);
    if (r == PushResult::Pushed || r == PushResult::Spilled) {
      head_queued = true;
      continue;
    }
    if (i == 0) {
      p.bump(p.dropped);
      report_drop(r == PushResult::Dropped ? DropInfo::Reason::dropped_newest
                  : r == PushResult::Closed ? DropInfo::Reason::closed
                                            : DropInfo::Reason::spill_error,
                  1, tid);
      return;
    }
    break;  // a later part failed: the backend counts the message incomplete
  }
  if (head_queued) p.bump(p.sent());
}

Metrics Logger::metrics() const {
  Metrics m;
  const Backend& b = *backend_;
  // relaxed (all): statistics; backend counters first so in_flight is rarely understated.
  m.delivered = b.delivered.load(std::memory_order_relaxed);
  m.lost = b.lost.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.incomplete = b.incomplete.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.truncated = b.truncated.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.format_errors = b.format_errors.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.backend_lag_ns = b.lag_ns.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.max_backend_lag_ns = b.max_lag_ns.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.events_per_s = std::bit_cast<double>(b.eps_bits.load(std::memory_order_relaxed));  // relaxed: a statistic
  for_each_producer([&](const detail::Producer& p) {
    const std::uint64_t d = p.dropped.load(std::memory_order_relaxed);  // relaxed: a statistic
    m.logged += p.sent().load(std::memory_order_relaxed) + d;             // relaxed: a statistic
    m.dropped += d;
  });
  const std::uint64_t unreg = dropped_unregistered_.load(std::memory_order_relaxed);  // relaxed: a statistic
  m.logged += unreg;
  m.dropped += unreg;
  if (queue_) {
    const QueueStats s = queue_->stats();
    m.evicted_records = s.evicted;
    m.spilled_records = s.spilled;
    m.queue_high_water = s.high_water;
  } else {
    m.queue_high_water = b.lanes_high_water.load(std::memory_order_relaxed);  // relaxed: a statistic
  }
  for (const auto& s : opts_.sinks) {
    const SinkStats ss = s->stats();
    m.sink_errors += ss.errors;
    m.sink_bytes_dropped += ss.bytes_dropped;
  }
  const std::uint64_t accounted = m.delivered + m.dropped + m.lost + m.incomplete;
  m.in_flight = m.logged > accounted ? m.logged - accounted : 0;
  return m;
}

// ---- flight recorder dump (async-signal-safe) --------------------------------------------------------
namespace {
bool write_all(int fd, const std::byte* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
}  // namespace

namespace flight {

DumpWriter::DumpWriter(int fd, std::byte* buf, std::size_t cap) noexcept : fd_(fd), builder_(buf, cap) {}

bool DumpWriter::header() noexcept {
  std::byte h[ttlog::kFileHeaderSize];
  ttlog::write_file_header(h);
  return ok_ = ok_ && write_all(fd_, h, sizeof h);
}

bool DumpWriter::flush() noexcept {
  if (builder_.empty()) return ok_;
  const auto bytes = builder_.finish();
  ok_ = ok_ && write_all(fd_, bytes.data(), bytes.size());
  builder_.reset();
  return ok_;
}

void DumpWriter::note(std::uint64_t ts_ns, std::string_view text) noexcept {
  if (!builder_.add_note(ts_ns, text) && flush()) (void)builder_.add_note(ts_ns, text);
}

void DumpWriter::raw(std::uint64_t ts_ns, Level level, std::uint32_t tid, const Metadata& m, const std::byte* payload,
                     std::size_t len, std::uint8_t flags) noexcept {
  if (builder_.add_raw(ts_ns, level, tid, m, payload, len, flags)) {
    ++events_;
    return;
  }
  if (flush() && builder_.add_raw(ts_ns, level, tid, m, payload, len, flags)) ++events_;
}

}  // namespace flight

namespace {
// Writes one thread's readable flight records, oldest first, reassembling multi-record messages.
void dump_producer(const detail::Producer& p, TimestampSource src, flight::DumpWriter& out, std::byte* scratch,
                   std::size_t scratch_cap) noexcept {
  const std::uint32_t ltid = p.tid.load(std::memory_order_relaxed);  // relaxed: informational
  if (p.lane) {  // Lanes: the flight recorder is the lane; copy the last messages out of it
    const std::uint64_t fcap = p.lane->flight_capacity();
    if (fcap == 0) return;
    // acquire: pairs with the producer's release of sent: each message below it is in the lane and indexed.
    const std::uint64_t sent = p.sent().load(std::memory_order_acquire);
    // Skip the oldest index entry, as below: the one the owner's next message overwrites.
    const std::uint64_t first = sent > fcap - 1 ? sent - (fcap - 1) : 0;
    auto* words = reinterpret_cast<std::uint64_t*>(scratch);
    // The reference for the records' 48-bit times (lane_record::expand_ticks): every record was stamped before.
    const std::uint64_t now = src == TimestampSource::Tsc ? read_tsc() : realtime_ns();
    namespace lr = detail::lane_record;
    for (std::uint64_t k = first; k < sent; ++k) {
      lr::Shape shape;
      const std::size_t n = p.lane->read_flight(k, words, scratch_cap / 8, [&](const auto& word) -> std::size_t {
        return lr::read_shape(word, shape) ? shape.words() : 0;
      });
      if (n == 0) continue;
      // The words are validated now: read the header again from the copy (the shape was read from the ring).
      if (!lr::read_shape([&](std::size_t i) { return words[i]; }, shape) || shape.words() != n) continue;
      const Metadata& m = *shape.meta;
      out.raw(ticks_to_ns(src, lr::expand_ticks(shape.ticks48, now)), m.level, ltid, m,
              reinterpret_cast<const std::byte*>(words + shape.header_words), shape.len,
              shape.truncated ? kTruncated : 0);
    }
    return;
  }
  const std::uint64_t head = p.flight.head();
  const std::uint64_t cap = p.flight.capacity();
  if (cap == 0 || head == 0) return;
  // Skip the oldest slot: it is the one the owner's next write overwrites.
  const std::uint64_t from = head > cap - 1 ? head - (cap - 1) : 0;
  const std::uint32_t tid = p.tid.load(std::memory_order_relaxed);  // relaxed: informational
  std::size_t have = 0;
  bool gathering = false;
  std::uint32_t seq = 0;
  std::uint8_t next_part = 0;
  RecordHeader head_rec{};
  for (std::uint64_t k = from; k < head; ++k) {
    Record r;
    if (!p.flight.read(k, r)) {
      gathering = false;
      continue;
    }
    if (r.h.meta == nullptr) continue;
    const std::uint64_t ts = ticks_to_ns(src, r.h.ticks);
    if (r.h.nparts == 1) {
      gathering = false;
      out.raw(ts, r.h.meta->level, tid, *r.h.meta, r.payload, std::min<std::size_t>(r.h.len, kPartPayload), r.h.flags);
      continue;
    }
    if (r.h.part == 0) {
      gathering = true;
      seq = r.h.seq;
      have = 0;
      next_part = 0;
      head_rec = r.h;
    }
    if (!gathering || r.h.seq != seq || r.h.part != next_part) {
      gathering = false;
      continue;
    }
    const std::size_t chunk = std::min<std::size_t>(kPartPayload, scratch_cap - have);
    std::memcpy(scratch + have, r.payload, chunk);
    have += chunk;
    if (++next_part == head_rec.nparts) {
      gathering = false;
      out.raw(ts, head_rec.meta->level, tid, *head_rec.meta, scratch, std::min<std::size_t>(head_rec.len, have),
              head_rec.flags);
    }
  }
}
}  // namespace

long Logger::append_flight_records(flight::DumpWriter& out, std::byte* scratch, std::size_t scratch_cap,
                                   std::uint32_t last_tid) const noexcept {
  const long before = out.events();
  const std::size_t n = nproducers_.load(std::memory_order_acquire);  // acquire: pairs with register_thread()
  // Grouped by thread; the thread `last_tid` (the one that crashed, or asked for the dump) comes last.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < n; ++i) {
      const detail::Producer& p = *producers_[i];
      const bool is_last = p.tid.load(std::memory_order_relaxed) == last_tid;  // relaxed: informational
      if (is_last == (pass == 1)) dump_producer(p, opts_.timestamps, out, scratch, scratch_cap);
    }
  }
  return out.events() - before;
}

long Logger::dump_flight_recorder_fd(int fd) const noexcept {
  // Static buffers (no allocation, small stack): one dump at a time per process.
  static std::atomic<bool> busy{false};
  static std::byte block[64 * 1024];
  alignas(8) static std::byte scratch[kMaxPayload + 64];  // a payload, or a whole Lanes-mode record
  if (busy.exchange(true, std::memory_order_acquire)) return -1;  // acquire: pairs with the release below
  flight::DumpWriter out(fd, block, sizeof block);
  out.header();
  out.note(realtime_ns(), "flight recorder dump (on demand)");
  append_flight_records(out, scratch, sizeof scratch, current_tid());
  const bool ok = out.flush();
  busy.store(false, std::memory_order_release);  // release: our buffer use happens-before the next dump's
  return ok ? out.events() : -1;
}

long Logger::dump_flight_recorder(const std::filesystem::path& file) const {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const long n = dump_flight_recorder_fd(fd);
  if (::close(fd) != 0) return -1;
  return n;
}

}  // namespace ringkit::telemetry
