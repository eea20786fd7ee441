// SPDX-License-Identifier: MIT
#pragma once
// ringkit::telemetry::Logger: an asynchronous structured logger on ringkit's queues.
//
//   using namespace ringkit::telemetry;
//   Logger log({.mode = QueueMode::Lanes, .sinks = {std::make_shared<FileSink>(FileSinkOptions{.path = "app.log"})}});
//   RK_LOG_INFO(log, "order {} filled at {:.2f}", id, px, kv<"venue">(venue));
//   using namespace ringkit::telemetry::literals;  RK_LOG_WARN(log, "slow", "latency_us"_kv = us);
//
// The caller's thread checks the level, reads the clock, copies the arguments' bytes into a record
// (Lanes: an 8-byte header + the payload rounded up to 8, into its own byte lane; Shared: 64-byte
// records into the MpscQueue; strings by length) and pushes it: no formatting, no allocation, no lock,
// no syscall (except when a Block-policy queue is full and it must wait). A backend thread decodes, formats and hands
// events to the sinks. docs/telemetry.md has the design, the policies and the measurements.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/spilling_queue.hpp"
#include "ringkit/policy.hpp"
#include "ringkit/telemetry/byte_lane.hpp"
#include "ringkit/telemetry/clock.hpp"
#include "ringkit/telemetry/lane_record.hpp"
#include "ringkit/telemetry/record.hpp"
#include "ringkit/telemetry/seqlock_fence.hpp"
#include "ringkit/telemetry/sink.hpp"

// Calls below this level compile to nothing (their arguments are not evaluated). 0 = trace .. 6 = off.
#ifndef RINGKIT_TELEMETRY_ACTIVE_LEVEL
#define RINGKIT_TELEMETRY_ACTIVE_LEVEL 0
#endif

namespace ringkit::telemetry {

enum class QueueMode : std::uint8_t {
  Shared,  // one MpscQueue: a total order across threads, bounded memory however many threads log
  Lanes,   // one byte lane (SPSC) per thread, merged by timestamp in the backend: no shared cache line
};

// A loss, reported to LoggerOptions::on_drop. Called on the logging thread for DropNewest / spill_error
// / closed / no_thread_slot, on the backend thread for lost / incomplete.
struct DropInfo {
  enum class Reason : std::uint8_t {
    dropped_newest,  // DropNewest: the queue was full; the message was not queued
    lost,            // messages that never reached the backend (DropOldest evictions)
    incomplete,      // a multi-record message of which a part was dropped or evicted
    spill_error,     // SpillToDisk could not write the spill file
    closed,          // logged during shutdown
    no_thread_slot,  // more live threads than LoggerOptions::max_threads
  };
  Reason reason;
  std::uint64_t count;
  std::uint32_t tid;  // the logging thread (0 if unknown)
};
std::string_view to_string(DropInfo::Reason r) noexcept;

struct LoggerOptions {
  QueueMode mode = QueueMode::Shared;
  // Shared: the ring's capacity in 64-byte records (a message of up to 32 argument bytes takes one).
  // Lanes: each thread's lane is capacity * 24 bytes (a message with up to 16 argument bytes takes 24,
  // so `capacity` of those fit; longer ones take 8 bytes more per 8). A power of two.
  std::size_t capacity = std::size_t{1} << 16;
  // Block, DropNewest, DropOldest (Shared only), SpillToDisk (Shared only; needs spill_directory).
  Overflow overflow = Overflow::Block;
  std::filesystem::path spill_directory;
  Level level = Level::info;  // run-time minimum level (set_level() changes it)
  TimestampSource timestamps = tsc_is_invariant() ? TimestampSource::Tsc : TimestampSource::Realtime;
  // Flight recorder: the last records kept per thread (a power of two; 0 = off). Shared: a copy of each
  // record in a per-thread ring. Lanes: an index of the last messages in the thread's own lane (no copy;
  // the records stay readable until the lane wraps over them, so at most what the lane holds).
  std::size_t flight_records = 64;
  // Lanes: put each thread's lane (ring and flight index) on transparent huge pages when it takes at
  // least 1 MiB (the default capacity's lane is 1.5 MiB), so the first calls of a burst miss one page
  // translation instead of two. Off by default: measured 1-16 % off the per-call p50 of bursts on the
  // reference VM, at the cost of rounding each lane up to a multiple of 2 MiB (docs/telemetry.md,
  // "Huge pages"). Linux; where the kernel has no THP the lane stays on 4 KiB pages.
  bool lane_huge_pages = false;
  std::size_t max_threads = 1024;    // thread slots (reused after a thread exits and its records are out)
  std::chrono::microseconds backend_idle_sleep{200};
  std::chrono::milliseconds metrics_interval{0};  // > 0: the backend logs its metrics this often
  std::function<void(const DropInfo&)> on_drop;
  std::vector<std::shared_ptr<Sink>> sinks;
};

struct Metrics {
  std::uint64_t logged = 0;            // log calls that passed the level filters
  std::uint64_t delivered = 0;         // messages handed to the sinks
  std::uint64_t dropped = 0;           // DropNewest rejections + spill errors + closed + no thread slot
  std::uint64_t lost = 0;              // never arrived (DropOldest evictions), counted by sequence gaps
  std::uint64_t incomplete = 0;        // multi-record messages missing a part (discarded)
  std::uint64_t in_flight = 0;         // logged - delivered - dropped - lost - incomplete (a snapshot)
  std::uint64_t truncated = 0;         // delivered with a string cut to fit kMaxPayload
  std::uint64_t evicted_records = 0;   // records evicted by DropOldest (the queue's count)
  std::uint64_t spilled_records = 0;   // records written to the spill file (SpillToDisk)
  std::uint64_t queue_high_water = 0;  // most records seen queued (shared: the queue's; lanes: backend's view)
  std::uint64_t backend_lag_ns = 0;    // now - timestamp of the last message the backend handled
  std::uint64_t max_backend_lag_ns = 0;
  double events_per_s = 0;             // delivered per second over the last ~1 s window
  std::uint64_t format_errors = 0;     // messages whose formatting threw (written with the raw format)
  std::uint64_t sink_errors = 0;       // failed sink writes (summed over the sinks)
  std::uint64_t sink_bytes_dropped = 0;
};

namespace detail {

// The flight recorder of one thread: the last N records it logged, each slot under a seqlock so a
// reader (dump on demand, or the crash handler) never takes a torn record for a good one.
class FlightRing {
 public:
  explicit FlightRing(std::size_t records);
  void write(const Record& r) noexcept {
    if (mask_ == SIZE_MAX) return;
    const std::uint64_t i = head_.load(std::memory_order_relaxed);  // relaxed: only this thread writes head_
    std::atomic<std::uint64_t>& seq = seqs_[i & mask_];
    Words& words = records_[i & mask_];
    seq.store(2 * i + 1, std::memory_order_relaxed);  // relaxed: the fence below orders it before the data
    // release fence: the odd seq above is visible before any data word; pairs with the acquire fence in read().
    detail::seqlock_release_fence();
    std::uint64_t w[8];
    std::memcpy(w, &r, sizeof w);
    // relaxed: the seqlock data words, ordered by the fence above and the release store below.
    for (int k = 0; k < 8; ++k) std::atomic_ref<std::uint64_t>(words.w[k]).store(w[k], std::memory_order_relaxed);
    seq.store(2 * i + 2, std::memory_order_release);  // release: data before the even seq; pairs with read()'s acquire
    head_.store(i + 1, std::memory_order_release);    // release: pairs with the acquire in head()
  }
  // Records ever written (the next index).
  [[nodiscard]] std::uint64_t head() const noexcept {
    return head_.load(std::memory_order_acquire);  // acquire: pairs with the release in write()
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ == SIZE_MAX ? 0 : mask_ + 1; }
  // Copies record `i` if it is still there and was not being rewritten; async-signal-safe.
  bool read(std::uint64_t i, Record& out) const noexcept;

 private:
  // A record per cache line, the seqlock words apart (8 to a line): a write touches one record line.
  struct alignas(64) Words {
    std::uint64_t w[8];
  };
  std::unique_ptr<Words[]> records_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> seqs_;
  std::size_t mask_;
  std::atomic<std::uint64_t> head_{0};
};

// One logging thread's state in one logger.
struct alignas(64) Producer {
  Producer(std::uint32_t idx, std::size_t lane_bytes, std::size_t flight, bool huge_pages = false);
  // -- written by the owning thread only (read by the backend and metrics readers) --
  ByteLane lane_ring;  // Lanes mode (its flight index is the flight recorder), in the slot itself
  // Messages whose first record was queued (= the next seq). It lives in lane_ring's write-index line
  // (ByteLane::count()), in both modes: the backend polls that line, and the fields below (which it
  // reads on every round) are written once, so a burst of calls after an idle spell takes one
  // coherence miss for the count and the write index together instead of one more for this struct.
  std::atomic<std::uint64_t>& sent() noexcept { return lane_ring.count(); }
  const std::atomic<std::uint64_t>& sent() const noexcept { return lane_ring.count(); }
  std::atomic<std::uint64_t> dropped{0};  // messages not queued
  std::uint32_t index;
  std::atomic<std::uint32_t> tid{0};
  std::atomic<bool> active{true};  // false once the thread has exited
  ByteLane* lane = nullptr;        // &lane_ring in Lanes mode, else null
  FlightRing flight;               // Shared mode
  // -- written by the backend only --
  alignas(64) std::atomic<std::uint64_t> accounted{0};  // messages delivered or counted lost/incomplete

  void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // relaxed: single writer counter
  }
  void bump_release(std::atomic<std::uint64_t>& c) noexcept {
    // release: the record (and its flight index entry) before the count; pairs with the flight reader's acquire.
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
};

struct TlsSlot {
  std::uint64_t logger_id = 0;
  Producer* producer = nullptr;
};
inline thread_local TlsSlot tls_producers[4];

}  // namespace detail

class Backend;
namespace flight {
class DumpWriter;
}

class Logger {
 public:
  explicit Logger(LoggerOptions options = {});
  ~Logger();  // stops the backend after it has delivered everything queued, then flushes the sinks
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  [[nodiscard]] bool should_log(Level l) const noexcept {
    return l >= level_.load(std::memory_order_relaxed);  // relaxed: a filter setting, orders nothing
  }
  void set_level(Level l) noexcept { level_.store(l, std::memory_order_relaxed); }  // relaxed: as above
  [[nodiscard]] Level level() const noexcept { return level_.load(std::memory_order_relaxed); }

  // Blocks until everything logged (by any thread) before the call has been handed to the sinks (or
  // counted lost) and the sinks have flushed.
  void flush();
  [[nodiscard]] Metrics metrics() const;
  [[nodiscard]] const LoggerOptions& options() const noexcept { return opts_; }

  // Flight recorder: writes the last records of every thread in ttlog format; returns the number of
  // messages written, or -1 on an I/O error. The fd form is async-signal-safe.
  long dump_flight_recorder(const std::filesystem::path& file) const;
  long dump_flight_recorder_fd(int fd) const noexcept;
  // Internal (the crash handler): appends this logger's flight records to a dump in progress, grouped
  // by thread, the thread `last_tid` last.
  long append_flight_records(flight::DumpWriter& out, std::byte* scratch, std::size_t scratch_cap,
                             std::uint32_t last_tid) const noexcept;

  // ---- the hot path (used by the RK_LOG macros) ----
  [[nodiscard]] detail::Producer* producer() noexcept {
    detail::TlsSlot& s = detail::tls_producers[id_ & 3];
    if (s.logger_id == id_) [[likely]] return s.producer;
    return register_thread();
  }
  [[nodiscard]] std::uint64_t now_ticks() const noexcept { return tsc_ ? read_tsc() : realtime_ns(); }
  // Shared mode: n 64-byte records into the MpscQueue (and copies into the thread's flight ring).
  void submit(detail::Producer& p, const Record* records, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) p.flight.write(records[i]);
    if (n == 1) [[likely]] {
      if (queue_->try_push(records[0])) [[likely]] {
        p.bump(p.sent());
        return;
      }
    }
    submit_slow(p, records, n);
  }
  // Lanes mode: one record of n words (lane_record layout) into the caller's lane; Count is std::size_t
  // or a std::integral_constant (a record length known at compile time: unrolled stores).
  template <class Count>
  void submit_lane(detail::Producer& p, const std::uint64_t* words, Count n) noexcept {
    std::atomic<std::uint64_t>& sent = p.sent();
    const std::uint64_t msg = sent.load(std::memory_order_relaxed);  // relaxed: sent is written by this thread only
    if (p.lane_ring.try_write(words, n, msg)) [[likely]] {
      // release: the record (and its flight index entry) before the count; pairs with the flight reader's acquire.
      sent.store(msg + 1, std::memory_order_release);
      return;
    }
    submit_lane_slow(p, words, n);
  }
  [[nodiscard]] bool lanes() const noexcept { return mode_ == QueueMode::Lanes; }
  // Lanes mode: the most argument bytes one message may carry (strings are cut to fit).
  [[nodiscard]] std::size_t lane_max_payload() const noexcept { return lane_max_payload_; }
  void count_no_slot() noexcept;
  void count_too_large(detail::Producer& p) noexcept;

  // For tests and the crash handler.
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  template <class F>
  void for_each_producer(F&& f) const {
    const std::size_t n = nproducers_.load(std::memory_order_acquire);  // acquire: pairs with register_thread()
    for (std::size_t i = 0; i < n; ++i) f(*producers_[i]);
  }

 private:
  friend class Backend;
  detail::Producer* register_thread();
  void submit_slow(detail::Producer& p, const Record* records, std::size_t n) noexcept;
  void submit_lane_slow(detail::Producer& p, const std::uint64_t* words, std::size_t n) noexcept;
  template <std::size_t N>
  void submit_lane_slow(detail::Producer& p, const std::uint64_t* words, std::integral_constant<std::size_t, N>) noexcept {
    submit_lane_slow(p, words, N);
  }
  void report_drop(DropInfo::Reason r, std::uint64_t count, std::uint32_t tid) noexcept;

  LoggerOptions opts_;
  const QueueMode mode_;
  const bool tsc_;
  const std::uint64_t id_;
  const std::size_t lane_max_payload_;
  std::atomic<Level> level_;
  std::unique_ptr<SpillingMpscQueue<Record>> queue_;  // Shared mode (spill-capable: the policy is chosen at run time)
  std::unique_ptr<detail::Producer*[]> producers_;
  std::atomic<std::size_t> nproducers_{0};
  std::mutex register_mu_;
  std::atomic<std::uint64_t> dropped_unregistered_{0};
  std::unique_ptr<Backend> backend_;
  std::vector<std::unique_ptr<detail::Producer>> owned_;
};

namespace detail {

// Encodes the arguments into `n` records and submits them. Out of line from the macro so the
// single-record case stays small; the multi-record case is its own (cold) function.
template <class... A>
[[gnu::noinline, gnu::cold]] void log_multi(Logger& lg, Producer& p, const Metadata* meta, std::uint64_t ticks,
                                            std::size_t total, [[maybe_unused]] std::size_t string_budget, std::uint8_t flags,
                                            const A&... args) noexcept {
  std::byte buf[kMaxPayload];
  [[maybe_unused]] std::byte* w = buf;
  ((w = encode_one(w, args, string_budget)), ...);
  const std::size_t len = static_cast<std::size_t>(w - buf);
  (void)total;
  const std::size_t nparts = (len + kPartPayload - 1) / kPartPayload;
  Record recs[kMaxParts];
  for (std::size_t i = 0; i < nparts; ++i) {
    RecordHeader& h = recs[i].h;
    // relaxed: sent is written only by this thread.
    h = RecordHeader{ticks, meta, p.index, static_cast<std::uint32_t>(p.sent().load(std::memory_order_relaxed)),
                     static_cast<std::uint16_t>(len), static_cast<std::uint8_t>(i),
                     static_cast<std::uint8_t>(nparts), flags, {}};
    const std::size_t off = i * kPartPayload;
    const std::size_t chunk = len - off < kPartPayload ? len - off : kPartPayload;
    std::memcpy(recs[i].payload, buf + off, chunk);
  }
  lg.submit(p, recs, nparts);
}

// ---- Lanes mode: the message as one variable-size record in the caller's byte lane ----
// (lane_record.hpp has the layout: an 8-byte header word, a length word for sites with strings.)
inline constexpr std::size_t kInlineLanePayload = 240;  // larger messages take the cold path below

inline std::uint64_t lane_header(std::uint64_t ticks, std::uint32_t site) noexcept {
  return (ticks << lane_record::kSiteBits) | site;
}

// Every case the inline path leaves out: a site's first call (registration), a site without an id (the
// table is full: the wide form), a message over kInlineLanePayload bytes, one over the lane's limit.
template <class Site, class... A>
[[gnu::noinline, gnu::cold]] void log_lane_cold(Logger& lg, Producer& p, const Metadata* meta, std::uint64_t ticks,
                                                const A&... args) noexcept {
  constexpr std::size_t fixed = (std::size_t{0} + ... + fixed_size<A>());
  constexpr bool variable = has_strings_v<A...>;
  std::atomic<std::uint32_t>& idv = lane_record::SiteId<Site, A...>::id;
  std::uint32_t id = idv.load(std::memory_order_acquire);  // acquire: pairs with register_site()'s release
  if (id == 0) id = lane_record::register_site(meta, fixed, variable, idv);
  const std::size_t max = lg.lane_max_payload();
  if (fixed > max) {
    lg.count_too_large(p);
    return;
  }
  std::size_t total = fixed;
  std::size_t budget = ~std::size_t{0};
  std::uint8_t flags = 0;
  if constexpr (variable) {
    total += (std::size_t{0} + ... + var_size(args));
    if (total > max) {
      budget = max - fixed;  // strings share what the fixed-size values leave
      total = max;
      flags = kTruncated;
    }
  }
  std::uint64_t buf[lane_record::kMaxHeaderWords + lane_record::payload_words(kMaxPayload)];
  std::size_t h = 0;
  const bool wide = id == lane_record::kNoSiteId;
  buf[h++] = lane_header(ticks, wide ? lane_record::kWideSite : id);
  if (wide) buf[h++] = reinterpret_cast<std::uintptr_t>(meta);
  if (wide || variable) buf[h++] = total | ((flags & kTruncated) ? lane_record::kTruncatedBit : 0);
  const std::size_t n = h + lane_record::payload_words(total);
  if (n > h) buf[n - 1] = 0;  // the padding after the payload (no stale stack bytes in the lane)
  [[maybe_unused]] std::byte* w = reinterpret_cast<std::byte*>(buf + h);
  ((w = encode_one(w, args, budget)), ...);
  lg.submit_lane(p, buf, n);
}

template <class Site, class... A>
inline void log_lane(Logger& lg, Producer& p, const Metadata* meta, std::uint64_t ticks, const A&... args) noexcept {
  constexpr std::size_t fixed = (std::size_t{0} + ... + fixed_size<A>());
  static_assert(fixed <= kMaxPayload, "ringkit telemetry: too many argument bytes for one message");
  // acquire: pairs with register_site()'s release (the site's table entry before its id; the backend
  // reaches the entry through this thread's release of the record).
  const std::uint32_t id = lane_record::SiteId<Site, A...>::id.load(std::memory_order_acquire);
  if (id - 1 >= lane_record::kMaxSites) [[unlikely]] {  // 0 (not yet registered) or kNoSiteId
    log_lane_cold<Site>(lg, p, meta, ticks, args...);
    return;
  }
  if constexpr (!has_strings_v<A...>) {
    if constexpr (fixed > kInlineLanePayload) {
      log_lane_cold<Site>(lg, p, meta, ticks, args...);
    } else {
      // A message larger than the lane fails try_write and is counted in submit_lane_slow().
      constexpr std::size_t n = 1 + lane_record::payload_words(fixed);
      std::uint64_t buf[n];
      if constexpr (fixed % 8 != 0) buf[n - 1] = 0;  // the padding after the payload
      buf[0] = lane_header(ticks, id);
      [[maybe_unused]] std::byte* w = reinterpret_cast<std::byte*>(buf + 1);
      [[maybe_unused]] std::size_t budget = 0;
      ((w = encode_one(w, args, budget)), ...);
      lg.submit_lane(p, buf, std::integral_constant<std::size_t, n>{});
    }
  } else {
    const std::size_t total = fixed + (std::size_t{0} + ... + var_size(args));
    if (total > kInlineLanePayload || total > lg.lane_max_payload()) [[unlikely]] {
      log_lane_cold<Site>(lg, p, meta, ticks, args...);
      return;
    }
    std::uint64_t buf[2 + lane_record::payload_words(kInlineLanePayload)];
    const std::size_t n = 2 + lane_record::payload_words(total);
    buf[n - 1] = 0;  // the padding after the payload
    buf[0] = lane_header(ticks, id);
    buf[1] = total;  // the length word (not truncated)
    std::byte* w = reinterpret_cast<std::byte*>(buf + 2);
    std::size_t budget = ~std::size_t{0};
    ((w = encode_one(w, args, budget)), ...);
    lg.submit_lane(p, buf, n);
  }
}

template <class... A>
[[gnu::noinline]] void log_shared(Logger& lg, Producer* p, const Metadata* meta, std::uint64_t ticks,
                                  const A&... args) noexcept;

constexpr bool compiled_in(Level l) noexcept {
  return static_cast<int>(l) + 0 * RINGKIT_TELEMETRY_ACTIVE_LEVEL >= RINGKIT_TELEMETRY_ACTIVE_LEVEL;
}

template <class Site, class... A>
inline void log_at(Logger& lg, format_for<A...>, const A&... args) noexcept {
  static_assert(count_format_args<A...>() != kFieldsNotLast,
                "ringkit telemetry: structured fields (kv<\"key\">(v)) must come after the format arguments");
  constexpr const Metadata* meta = &SiteMeta<Site, A...>::meta;
  Producer* p = lg.producer();
  if (p == nullptr) [[unlikely]] {
    lg.count_no_slot();
    return;
  }
  const std::uint64_t ticks = lg.now_ticks();
  if (lg.lanes()) {
    log_lane<Site>(lg, *p, meta, ticks, args...);
    return;
  }
  log_shared(lg, p, meta, ticks, args...);
}

// Shared mode's part of a call, out of line so that a Lanes call inlines into its caller without it.
template <class... A>
[[gnu::noinline]] void log_shared(Logger& lg, Producer* p, const Metadata* meta, std::uint64_t ticks,
                                  const A&... args) noexcept {
  constexpr std::size_t fixed = (std::size_t{0} + ... + fixed_size<A>());
  std::size_t total = fixed;
  if constexpr (has_strings_v<A...>) total += (std::size_t{0} + ... + var_size(args));
  std::uint8_t flags = 0;
  std::size_t string_budget = ~std::size_t{0};
  if constexpr (has_strings_v<A...>) {
    static_assert(fixed <= kMaxPayload, "ringkit telemetry: too many argument bytes for one message");
    if (total > kMaxPayload) {
      string_budget = kMaxPayload - fixed;  // strings share what the fixed-size values leave
      total = kMaxPayload;
      flags = kTruncated;
    }
  } else {
    static_assert(fixed <= kMaxPayload, "ringkit telemetry: too many argument bytes for one message");
  }
  if (total <= kPartPayload) [[likely]] {
    Record r;
    // relaxed: sent is written only by this thread.
    r.h = RecordHeader{ticks, meta, p->index, static_cast<std::uint32_t>(p->sent().load(std::memory_order_relaxed)),
                       static_cast<std::uint16_t>(total), 0, 1, flags, {}};
    [[maybe_unused]] std::byte* w = r.payload;
    ((w = encode_one(w, args, string_budget)), ...);
    lg.submit(*p, &r, 1);
  } else {
    log_multi(lg, *p, meta, ticks, total, string_budget, flags, args...);
  }
}

}  // namespace detail
}  // namespace ringkit::telemetry

// RK_LOG(logger, level, "format {}", args..., kv<"key">(value)...)
// The format string is checked at compile time against the format arguments (fmt::format_string).
#define RK_LOG(logger, lvl, fmtstr, ...)                                                                      \
  do {                                                                                                        \
    if constexpr (::ringkit::telemetry::detail::compiled_in(lvl)) {                                        \
      ::ringkit::telemetry::Logger& rk_logger_ = (logger);                                                    \
      if (rk_logger_.should_log(lvl)) {                                                                       \
        struct rk_site_ {                                                                                     \
          static constexpr ::ringkit::telemetry::Level level() { return lvl; }                                \
          static constexpr std::uint32_t line() { return __LINE__; }                                          \
          static constexpr const char* file() { return __FILE__; }                                            \
          static constexpr std::string_view format() { return fmtstr; }                                       \
        };                                                                                                    \
        ::ringkit::telemetry::detail::log_at<rk_site_>(rk_logger_, fmtstr __VA_OPT__(, ) __VA_ARGS__);        \
      }                                                                                                       \
    }                                                                                                         \
  } while (0)

#define RK_LOG_TRACE(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::trace, __VA_ARGS__)
#define RK_LOG_DEBUG(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::debug, __VA_ARGS__)
#define RK_LOG_INFO(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::info, __VA_ARGS__)
#define RK_LOG_WARN(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::warn, __VA_ARGS__)
#define RK_LOG_ERROR(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::error, __VA_ARGS__)
#define RK_LOG_CRITICAL(logger, ...) RK_LOG(logger, ::ringkit::telemetry::Level::critical, __VA_ARGS__)
