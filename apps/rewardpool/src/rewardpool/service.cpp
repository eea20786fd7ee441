// SPDX-License-Identifier: MIT
#include "rewardpool/service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <condition_variable>
#include <stdexcept>
#include <thread>

#include "rewardpool/log_buffer.hpp"
#include "ringkit/detail/fence.hpp"

namespace rewardpool {

std::string_view to_string(MailboxKind k) noexcept { return k == MailboxKind::Channel ? "channel" : "ring"; }
std::string_view to_string(BufferKind k) noexcept { return k == BufferKind::Vector ? "vector" : "ring"; }

std::string_view to_string(Ack a) noexcept {
  switch (a) {
    case Ack::Applied: return "applied";
    case Ack::Written: return "written";
    case Ack::Durable: return "durable";
  }
  return "?";
}

std::optional<Ack> parse_ack(std::string_view s) noexcept {
  if (s == "applied") return Ack::Applied;
  if (s == "written") return Ack::Written;
  if (s == "durable") return Ack::Durable;
  return std::nullopt;
}

std::string_view to_string(Submit s) noexcept {
  switch (s) {
    case Submit::Accepted: return "accepted";
    case Submit::WindowFull: return "window full";
    case Submit::Busy: return "busy";
    case Submit::Closed: return "closed";
    case Submit::Invalid: return "invalid";
  }
  return "?";
}

namespace detail {
ClientSlot::ClientSlot(std::size_t w) : window(w), ring(std::bit_ceil(std::max<std::size_t>(w, 2))) {}
}  // namespace detail

// ---- service: client slots -------------------------------------------------------------------------
Service::Service(const ServiceOptions& o, const Catalog& c) : options_(o), ids_(c) {
  for (std::size_t i = 0; i < ids_.items.size(); ++i) index_.emplace(ids_.items[i].id, static_cast<std::uint32_t>(i));
  // Local workaround (reported to the lead): ringkit::Blocking registers the process for membarrier
  // lazily inside its first park, which stalls that first hand-off 6-18 ms on this VM. Register now.
  (void)ringkit::detail::asymmetric_fences_enabled();
}

detail::ClientSlot* Service::acquire_slot(std::size_t window) {
  std::lock_guard lock(clients_mu_);
  std::size_t live = 0;
  for (auto& s : slots_) {
    if (!s->in_use && s->window >= window) {
      s->in_use = true;
      return s.get();
    }
    live += s->in_use;
  }
  if (live >= options_.max_clients) {
    throw std::length_error("rewardpool: " + std::to_string(live) + " client handles are alive; max_clients is " +
                            std::to_string(options_.max_clients));
  }
  slots_.push_back(std::make_unique<detail::ClientSlot>(window));
  slots_.back()->in_use = true;
  return slots_.back().get();
}

void Service::release_slot(detail::ClientSlot* s) {
  std::lock_guard lock(clients_mu_);
  s->in_use = false;
}

std::uint64_t Service::published_lsn(Ack level) const noexcept {
  return published_[static_cast<std::size_t>(level)].load(std::memory_order_acquire);  // acquire: a snapshot
}

void Service::wake_waiters(Ack level, std::uint64_t lsn) {
  std::lock_guard lock(clients_mu_);
  for (auto& s : slots_) {
    // P2, seq_cst: pairs with the client's seq_cst store at C1 (see the header's protocol).
    if (s->in_use && s->want_lsn.load(std::memory_order_seq_cst) <= lsn &&
        s->want_level.load(std::memory_order_relaxed) == static_cast<std::uint8_t>(level)) {  // relaxed: stored before C1
      s->waiter.notify();
    }
  }
}

void Service::wake_all_waiters() {
  std::lock_guard lock(clients_mu_);
  for (auto& s : slots_) s->waiter.notify();
}

// ---- client ----------------------------------------------------------------------------------------
Service::Client::Client(Service& s, std::size_t window) : service_(&s), slot_(s.acquire_slot(window)) {
  queued_.reserve(kQueuedBatch);
}

Service::Client::Client(Client&& o) noexcept
    : service_(o.service_), slot_(std::exchange(o.slot_, nullptr)), in_flight_(std::exchange(o.in_flight_, 0)),
      queued_(std::move(o.queued_)) {}

Service::Client::~Client() {
  if (!slot_) return;
  // Every completion we are owed must have arrived before the slot can serve another handle.
  std::array<Completion, 64> sink;
  while (in_flight_ > 0 && wait(sink) > 0) {
  }
  service_->release_slot(slot_);
}

Submit Service::Client::queue(const Request& r, std::uint32_t draws) {
  if (draws == 0 || draws > slot_->window) return Submit::Invalid;
  if (service_->stopped_.load(std::memory_order_acquire)) return Submit::Closed;  // acquire: pairs with stop()
  if (in_flight_ + draws > slot_->window) return Submit::WindowFull;
  if (queued_.size() == kQueuedBatch && !flush()) return Submit::Busy;
  queued_.push_back(r);  // within the reserved capacity: no allocation
  in_flight_ += draws;
  if (queued_.size() == kQueuedBatch) (void)flush();
  return Submit::Accepted;
}

Submit Service::Client::submit_draw_n(std::uint32_t count, std::uint64_t tag, Ack ack) {
  Request r;
  r.kind = Request::Kind::Draw;
  r.ack = ack;
  r.count = count;
  r.tag = tag;
  r.origin = slot_;
  return queue(r, count);
}

Submit Service::Client::submit_update(std::string_view id, std::int64_t quantity, double weight, std::uint64_t tag) {
  const auto it = service_->index_.find(std::string(id));
  if (it == service_->index_.end()) return Submit::Invalid;
  Request r;
  r.kind = Request::Kind::Update;
  r.ack = service_->options_.default_ack;
  r.item = it->second;
  r.quantity = quantity;
  r.weight = weight;
  r.tag = tag;
  r.origin = slot_;
  return queue(r, 1);
}

bool Service::Client::flush() {
  if (queued_.empty()) return true;
  const std::size_t n = service_->try_push(queued_);
  queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));  // keeps the capacity
  return queued_.empty();
}

bool Service::Client::visible(const detail::CompletionSlot& s, std::uint64_t (&published)[kAckLevels], bool failed) const noexcept {
  return s.gate <= published[detail::gate_level(s.c.ack)] || failed;
}

std::size_t Service::Client::poll(std::span<Completion> out) {
  (void)flush();
  // acquire: pairs with the release in the I/O thread's fail(): the final published LSNs are visible.
  const bool failed = service_->wal_failed_.load(std::memory_order_acquire);
  std::uint64_t published[kAckLevels] = {
      0,
      // acquire (both): pair with the I/O thread's seq_cst stores; a record at or below is written/synced.
      service_->published_[1].load(std::memory_order_acquire),
      service_->published_[2].load(std::memory_order_acquire),
  };
  const ringkit::SlotSpans<detail::CompletionSlot> spans = slot_->ring.peek(out.size());
  std::size_t n = 0;
  auto take = [&](std::span<detail::CompletionSlot> part) {
    for (const detail::CompletionSlot& s : part) {
      if (!visible(s, published, failed)) return false;
      out[n] = s.c;
      if (failed && s.gate > published[detail::gate_level(s.c.ack)]) {
        // applied in memory, but its record (or its request id's reservation) never written (or synced)
        out[n].status = Status::WalError;
        out[n].lsn = 0;
      }
      ++n;
    }
    return true;
  };
  if (take(spans.first)) take(spans.second);
  if (n) slot_->ring.pop_n(n);
  in_flight_ -= n;
  if (n == 0 && !queued_.empty() && service_->stopped_.load(std::memory_order_acquire)) {  // acquire: pairs with stop()
    n = answer_refused(out);
  }
  return n;
}

// The requests still queued in the handle once the service stopped never reach the actor. They were
// submitted after everything else in flight, so they are answered Closed only once nothing else is in
// flight: completions stay in submission order.
std::size_t Service::Client::answer_refused(std::span<Completion> out) {
  std::size_t queued_draws = 0;
  for (const Request& r : queued_) queued_draws += r.kind == Request::Kind::Draw ? r.count : 1;
  if (in_flight_ != queued_draws) return 0;
  std::size_t n = 0;
  while (!queued_.empty() && n < out.size()) {
    Request& r = queued_.front();
    out[n++] = Completion{0, 0, r.tag, 0, Status::Closed, r.ack,
                          r.kind == Request::Kind::Draw ? Completion::Kind::Draw : Completion::Kind::Update};
    --in_flight_;
    if (r.kind == Request::Kind::Draw && r.count > 1) {
      --r.count;
    } else {
      queued_.erase(queued_.begin());
    }
  }
  return n;
}

std::size_t Service::Client::wait(std::span<Completion> out) {
  for (;;) {
    if (!queued_.empty()) {
      // We are about to block anyway: wait for mailbox space. What went in is answered by the actor
      // (also if the service closed meanwhile); only what did not go in is answered here.
      // What did not go in (closed under us) is answered Closed by poll(), after the earlier requests.
      const std::size_t pushed = service_->push(queued_);
      queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(pushed));  // keeps the capacity
    }
    if (const std::size_t n = poll(out)) return n;
    if (in_flight_ == 0 || out.empty()) return 0;
    const ringkit::SlotSpans<detail::CompletionSlot> head = slot_->ring.peek(1);
    if (head.empty()) {
      // Wait for the actor to commit completions into our ring (it notifies after each commit).
      slot_->waiter.wait([&] { return !slot_->ring.peek(1).empty(); });
      continue;
    }
    const detail::CompletionSlot& s = head.first[0];
    const std::size_t level = detail::gate_level(s.c.ack);
    const std::uint64_t gate = s.gate;
    slot_->want_level.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed);  // relaxed: published by C1
    slot_->want_lsn.store(gate, std::memory_order_seq_cst);  // C1: pairs with P2 in wake_waiters()
    slot_->waiter.wait([&] {
      // C2, seq_cst: pairs with P1 (the I/O thread's store). acquire: pairs with the release in fail().
      return service_->published_[level].load(std::memory_order_seq_cst) >= gate ||
             service_->wal_failed_.load(std::memory_order_acquire);
    });
    slot_->want_lsn.store(detail::kNoWait, std::memory_order_relaxed);  // relaxed: at worst one spare wake
  }
}

Completion Service::Client::wait_one() {
  std::array<Completion, 1> c{};
  if (wait(c) == 0) c[0].status = Status::Closed;
  return c[0];
}

DrawResult Service::Client::draw() {
  if (in_flight_ != 0) throw std::logic_error("Client::draw(): the handle has asynchronous requests in flight");
  const Submit s = submit_draw();
  if (s != Submit::Accepted) return DrawResult{s == Submit::Closed ? Status::Closed : Status::InvalidArgument, 0, 0};
  const Completion c = wait_one();
  return DrawResult{c.status, c.item, c.lsn};
}

DrawResult Service::Client::update(std::string_view id, std::int64_t quantity, double weight) {
  if (in_flight_ != 0) throw std::logic_error("Client::update(): the handle has asynchronous requests in flight");
  const Submit s = submit_update(id, quantity, weight);
  if (s == Submit::Invalid) return DrawResult{Status::UnknownItem, 0, 0};
  if (s != Submit::Accepted) return DrawResult{Status::Closed, 0, 0};
  const Completion c = wait_one();
  return DrawResult{c.status, c.item, c.lsn};
}

DrawResult Service::draw() { return client(1).draw(); }

DrawResult Service::update(std::string_view id, std::int64_t quantity, double weight) {
  return client(1).update(id, quantity, weight);
}

// ---- the actor, the I/O thread, the snapshot thread --------------------------------------------------
namespace {

constexpr std::size_t kActorBatch = 1024;     // requests per mailbox pop
constexpr std::size_t kRecordBatch = 4096;    // records per log append
constexpr std::uint64_t kIdBlock = wal::kRequestIdBlock;  // request ids reserved per RequestIds record

// Writes snapshots off the acknowledgement path: the actor copies the quantities and weights into a
// pre-allocated job (no allocation on the actor), this thread encodes, writes, verifies and prunes.
// A snapshot is never ahead of the log: it is written only once the log is durable up to its LSN (the
// actor asks the I/O thread for that sync when it starts the job); if the WAL fails first, it is dropped.
// Wake-up (W: this thread, P: the I/O thread): W1 want_ = lsn (seq_cst), W2 wait under mu_ for
// durable >= lsn (seq_cst load); P1 durable = x (seq_cst, publish()), P2 load want_ (seq_cst) and, if
// want_ <= x, lock mu_ and notify. Either W2 sees P1 or P2 sees W1 (no store-buffering outcome), and
// taking mu_ in P2 means the notify cannot fall between W2's check and its wait.
class SnapshotWorker {
 public:
  SnapshotWorker(const Catalog& ids, std::string dir, wal::FileIo* io, const std::atomic<std::uint64_t>& durable,
                 const std::atomic<bool>& failed)
      : ids_(ids), dir_(std::move(dir)), io_(io ? io : &wal::posix_io()), durable_(durable), failed_(failed),
        quantities_(ids.items.size()), weights_(ids.items.size()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~SnapshotWorker() { join(); }
  // Finishes the snapshot in progress (if any), then stops the thread.
  void join() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Actor: true if idle (then fill() and start() it).
  [[nodiscard]] bool idle() const noexcept { return !busy_.load(std::memory_order_acquire); }  // acquire: pairs with loop()
  void start(const Pool& pool, std::uint64_t lsn, std::uint64_t draws, std::uint64_t next_request_id) {
    pool.copy_quantities(quantities_);
    for (std::size_t i = 0; i < weights_.size(); ++i) weights_[i] = pool.item(static_cast<std::uint32_t>(i)).weight;
    lsn_ = lsn;
    draws_ = draws;
    next_request_id_ = next_request_id;
    busy_.store(true, std::memory_order_relaxed);  // relaxed: the mutex below publishes the job
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }
  std::uint64_t written() const {
    std::lock_guard lock(mu_);
    return written_;
  }
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }
  // I/O thread, after publishing the durable LSN `lsn` (P2), or after the WAL failed (lsn = ~0).
  void durable_advanced(std::uint64_t lsn) {
    if (want_.load(std::memory_order_seq_cst) > lsn) return;  // P2: pairs with W1
    { std::lock_guard lock(mu_); }
    cv_.notify_all();
  }

 private:
  void loop() {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return pending_ || stop_; });
        if (!pending_) return;
        pending_ = false;
      }
      // Wait until the log is durable up to lsn_ (or the WAL failed: then the snapshot would hold draws
      // that are not in the log, and it is dropped).
      want_.store(lsn_, std::memory_order_seq_cst);  // W1: pairs with P2 in durable_advanced()
      bool durable = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          // W2, seq_cst: pairs with P1 (publish()). acquire: pairs with the release in fail().
          durable = durable_.load(std::memory_order_seq_cst) >= lsn_;
          return durable || failed_.load(std::memory_order_acquire) || stop_;
        });
      }
      want_.store(detail::kNoWait, std::memory_order_relaxed);  // relaxed: at worst one spare notify
      if (!durable) {
        {
          std::lock_guard lock(mu_);
          if (error_.empty()) {
            error_ = "snapshot at lsn " + std::to_string(lsn_) + " dropped: the log never became durable up to it";
          }
        }
        busy_.store(false, std::memory_order_release);  // release: pairs with idle()
        continue;
      }
      wal::Snapshot s;
      s.catalog = ids_;
      for (std::size_t i = 0; i < quantities_.size(); ++i) {
        s.catalog.items[i].quantity = quantities_[i];
        s.catalog.items[i].weight = weights_[i];
      }
      s.lsn = lsn_;
      s.draws = draws_;
      s.next_request_id = next_request_id_;
      std::string err;
      try {
        wal::write_snapshot_file(*io_, dir_, s);
        prune(s.lsn);
      } catch (const std::exception& e) {
        err = e.what();
      }
      {
        std::lock_guard lock(mu_);
        if (err.empty()) ++written_;
        else if (error_.empty()) error_ = err;
      }
      busy_.store(false, std::memory_order_release);  // release: the job buffers are free; pairs with idle()
    }
  }

  // Keeps the new snapshot, the one before it and every segment that one needs; removes the rest.
  void prune(std::uint64_t newest) {
    const wal::detail::DirListing l = wal::detail::list_dir(dir_);
    auto it = l.snapshots.find(newest);
    if (it == l.snapshots.begin() || it == l.snapshots.end()) return;
    const std::uint64_t previous = std::prev(it)->first;
    bool changed = false;
    for (const auto& [lsn, name] : l.snapshots) {
      if (lsn >= previous) break;
      if (io_->unlink(wal::detail::join(dir_, name).c_str()) == 0) changed = true;
    }
    // Segment k can go when segment k+1 starts at or below previous + 1: all of k is in `previous`.
    for (auto seg = l.segments.begin(); seg != l.segments.end() && std::next(seg) != l.segments.end(); ++seg) {
      const auto base = base_lsn_of(wal::detail::join(dir_, std::next(seg)->second));
      if (!base || *base > previous + 1) break;
      if (io_->unlink(wal::detail::join(dir_, seg->second).c_str()) != 0) break;
      changed = true;
    }
    if (changed) wal::sync_directory(*io_, dir_);
  }

  static std::optional<std::uint64_t> base_lsn_of(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::byte h[wal::kSegmentHeaderSize];
    const ssize_t n = ::pread(fd, h, sizeof h, 0);
    ::close(fd);
    if (n != static_cast<ssize_t>(sizeof h)) return std::nullopt;
    std::byte copy[wal::kSegmentHeaderSize];
    std::memcpy(copy, h, sizeof h);
    wal::put_u32(copy + 12, 0);
    if (std::memcmp(h, wal::kSegmentMagic.data(), 8) != 0 || wal::get_u32(h + 12) != wal::checksum(copy, sizeof copy)) {
      return std::nullopt;
    }
    return wal::get_u64(h + 24);
  }

  const Catalog ids_;
  const std::string dir_;
  wal::FileIo* io_;
  const std::atomic<std::uint64_t>& durable_;  // the service's published durable LSN
  const std::atomic<bool>& failed_;            // the service's wal_failed_
  std::atomic<std::uint64_t> want_{detail::kNoWait};  // W1: the LSN this thread waits to become durable
  std::vector<std::int64_t> quantities_;  // the job: written by the actor while !busy_, read by loop()
  std::vector<double> weights_;
  std::uint64_t lsn_ = 0, draws_ = 0, next_request_id_ = 0;
  std::atomic<bool> busy_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;  // guarded by mu_
  bool stop_ = false;     // guarded by mu_
  std::uint64_t written_ = 0;
  std::string error_;
  std::thread thread_;
};

template <Mailbox M, LogBuffer B>
class Actor final : public Service {
 public:
  Actor(ServiceState state, const ServiceOptions& options)
      : Service(options, state.catalog),
        logging_(options_.wal.backend != wal::Backend::Null),
        pool_(std::move(state.catalog), options_.selector, options_.seed),
        mailbox_(options_.mailbox_capacity),
        log_(options_.log_capacity),
        writer_(options_.wal, state.next_segment_seq, state.lsn + 1),
        last_lsn_(state.lsn),
        draws_(state.draws),
        next_request_id_(state.next_request_id),
        id_ceiling_(state.next_request_id) {
    name_ = std::string(std::is_same_v<M, ChannelMailbox> ? "channel" : "ring") + "+" +
            (std::is_same_v<B, VectorLogBuffer> ? "vector" : "ring");
    published_[0].store(state.lsn, std::memory_order_relaxed);  // relaxed: construction precedes sharing
    // No log: nothing is ever more written or durable than applied.
    const std::uint64_t io_start = logging_ ? state.lsn : ~std::uint64_t{0};
    published_[1].store(io_start, std::memory_order_relaxed);  // relaxed: as above
    published_[2].store(io_start, std::memory_order_relaxed);  // relaxed: as above
    records_.reserve(kRecordBatch + 32);  // a completion adds at most its record and kIdsAhead / kIdBlock + 1 reservations
    if (logging_ && options_.snapshot_every != 0) {
      snapshots_ = std::make_unique<SnapshotWorker>(initial_catalog(), options_.wal.dir, options_.wal.io, published_[2],
                                                    wal_failed_);
    }
    if (logging_) io_ = std::thread([this] { io_loop(); });
    actor_ = std::thread([this] { actor_loop(); });
  }

  ~Actor() override { stop(); }

  void stop() override {
    std::lock_guard lock(stop_mu_);
    if (joined_) return;
    stopped_.store(true, std::memory_order_release);  // release: pairs with the acquire in Client::queue()
    mailbox_.close();
    actor_.join();
    if (io_.joinable()) io_.join();
    final_stats_.actor_batches = actor_batches_;  // joined: their writes are visible
    final_stats_.lsn = last_lsn_;
    final_stats_.next_request_id = next_request_id_;
    if (snapshots_) {
      snapshots_->join();
      final_stats_.snapshots = snapshots_->written();
      final_stats_.snapshot_error = snapshots_->error();
      snapshots_.reset();  // joins after its current job
    }
    joined_ = true;
  }

  ServiceStats stats() const override {
    std::lock_guard lock(stop_mu_);
    return joined_ ? final_stats_ : ServiceStats{};
  }

  std::string_view describe() const override { return name_; }

 protected:
  std::size_t try_push(std::span<const Request> r) override { return mailbox_.try_push_batch(r); }
  std::size_t push(std::span<const Request> r) override { return mailbox_.push_batch(r); }

 private:
  // The next request id; id_lsn_ becomes the LSN of the RequestIds record that reserves it (0: no log).
  // Recovery resumes at the highest ceiling logged, so an id may be seen by a client only once that record
  // is written: every completion's gate is at or above id_lsn_ (an Applied one's is id_lsn_ itself). Blocks
  // are reserved kIdsAhead ids ahead of use, more than the ring log buffer lets the actor run ahead of the
  // writer, so that record is long written by the time its ids are handed out and Applied completions
  // are not held back in steady state (a restart skips the ids reserved ahead: ids stay unique, not dense).
  std::uint64_t next_request_id() {
    if (!logging_) return next_request_id_++;
    while (next_request_id_ + kIdsAhead >= id_ceiling_) {
      id_ceiling_ += kIdBlock;
      LogEntry r{};
      r.type = wal::RecordType::RequestIds;
      r.lsn = ++last_lsn_;
      r.snapshot_lsn = id_ceiling_;
      records_.push_back(r);
      ++since_snapshot_;
      reservations_[(reservations_head_ + reservations_size_++) % kReservations] = {id_ceiling_, r.lsn};
    }
    while (next_request_id_ >= reservations_[reservations_head_].ceiling) {  // block used up: the next one
      reservations_head_ = (reservations_head_ + 1) % kReservations;
      --reservations_size_;
    }
    id_lsn_ = reservations_[reservations_head_].lsn;
    return next_request_id_++;
  }

  void complete_draw(const Request& r, detail::CompletionSlot& out, bool failed) {
    out.c.request_id = next_request_id();
    out.c.tag = r.tag;
    out.c.ack = r.ack;
    out.c.kind = Completion::Kind::Draw;
    if (failed) {
      out.c.status = Status::WalError;
      out.c.lsn = 0;
      out.c.item = 0;
      out.gate = 0;
      return;
    }
    const DrawResult d = pool_.draw();
    out.c.status = d.status;
    out.c.item = d.index;
    if (d.status != Status::Ok) {
      out.c.lsn = 0;
      out.gate = r.ack == Ack::Applied ? id_lsn_ : last_lsn_;  // delivered after everything it may have seen
      return;
    }
    ++draws_;
    out.c.lsn = out.gate = ++last_lsn_;
    if (r.ack == Ack::Applied) out.gate = id_lsn_;
    if (logging_) {
      LogEntry rec{};
      rec.type = wal::RecordType::Draw;
      rec.item = d.index;
      rec.lsn = last_lsn_;
      records_.push_back(rec);
      ++since_snapshot_;
    }
  }

  void complete_update(const Request& r, detail::CompletionSlot& out, bool failed) {
    out.c.request_id = next_request_id();
    out.c.tag = r.tag;
    out.c.ack = r.ack;
    out.c.kind = Completion::Kind::Update;
    out.c.item = r.item;
    const Status st = failed ? Status::WalError : pool_.update(r.item, r.quantity, r.weight);
    out.c.status = st;
    if (st != Status::Ok) {
      out.c.lsn = 0;
      out.gate = failed ? 0 : r.ack == Ack::Applied ? id_lsn_ : last_lsn_;
      return;
    }
    out.c.lsn = out.gate = ++last_lsn_;
    if (r.ack == Ack::Applied) out.gate = id_lsn_;
    if (logging_) {
      LogEntry rec{};
      rec.type = wal::RecordType::Update;
      rec.item = r.item;
      rec.quantity = r.quantity;
      rec.weight = r.weight;
      rec.lsn = last_lsn_;
      records_.push_back(rec);
      ++since_snapshot_;
    }
  }

  // Publishes what durable acknowledgements want before the records that carry it: the I/O thread reads
  // durable_wanted_ after taking a batch, so it must not see the records without the want.
  void flush_records(std::uint64_t durable_wanted) {
    if (durable_wanted != durable_wanted_.load(std::memory_order_relaxed)) {  // relaxed: only the actor stores it
      // release: ordered before the log append below, which the I/O thread acquires.
      durable_wanted_.store(durable_wanted, std::memory_order_release);
      if (records_.empty() && logging_) {
        const LogEntry wake{};  // type Zero: no record, just a wake-up for the I/O thread
        log_.append(std::span<const LogEntry>(&wake, 1));
      }
    }
    if (records_.empty()) return;
    log_.append(records_);
    records_.clear();
  }

  void actor_loop() {
    std::array<Request, kActorBatch> reqs;
    std::uint64_t batches = 0;
    std::uint64_t durable_wanted = 0;
    for (;;) {
      const std::size_t n = mailbox_.pop_batch(reqs);
      if (n == 0) break;
      ++batches;
      // acquire: pairs with the release in the I/O thread's fail(); after a failure nothing is applied.
      const bool failed = wal_failed_.load(std::memory_order_acquire);
      detail::ClientSlot* last = nullptr;
      for (std::size_t i = 0; i < n; ++i) {
        const Request& r = reqs[i];
        detail::ClientSlot* s = r.origin;
        if (s != last && last) last->waiter.notify();  // N1 was the commit below
        last = s;
        const std::uint32_t count = r.kind == Request::Kind::Draw ? r.count : 1;
        // The handle's window keeps `count` free slots for us: the ring's capacity >= the window.
        std::uint32_t done = 0;
        while (done < count) {
          const ringkit::SlotSpans<detail::CompletionSlot> spans = s->ring.try_claim(count - done);
          if (spans.empty()) throw std::logic_error("rewardpool: a client's completion ring overflowed its window");
          for (std::size_t k = 0; k < spans.size(); ++k) {
            if (r.kind == Request::Kind::Draw) complete_draw(r, spans[k], failed);
            else complete_update(r, spans[k], failed);
            if (r.ack == Ack::Durable && !failed) durable_wanted = last_lsn_;
            if (records_.size() >= kRecordBatch) flush_records(durable_wanted);
          }
          s->ring.commit(spans.size());  // release inside: the completions are visible to the client
          done += static_cast<std::uint32_t>(spans.size());
        }
      }
      if (snapshots_ && since_snapshot_ >= options_.snapshot_every && snapshots_->idle() && !failed) {
        since_snapshot_ = 0;
        snapshots_->start(pool_, last_lsn_, draws_, id_ceiling_);
        // The snapshot waits for the log to be durable up to its LSN: ask the I/O thread for that sync.
        durable_wanted = last_lsn_;
      }
      flush_records(durable_wanted);
      published_[0].store(last_lsn_, std::memory_order_release);  // release: a monotonic observer value
      if (last) last->waiter.notify();
    }
    log_.close();
    actor_batches_ = batches;
  }

  void publish(Ack level, std::uint64_t lsn) {
    auto& p = published_[static_cast<std::size_t>(level)];
    if (lsn <= p.load(std::memory_order_relaxed)) return;  // relaxed: only this thread stores it
    p.store(lsn, std::memory_order_seq_cst);                // P1: pairs with C2 in Client::wait() and W2
    wake_waiters(level, lsn);
    if (level == Ack::Durable && snapshots_) snapshots_->durable_advanced(lsn);
  }

  void fail() {
    publish(Ack::Written, writer_.written_lsn());
    publish(Ack::Durable, writer_.durable_lsn());
    wal_failed_.store(true, std::memory_order_release);  // release: pairs with the acquires in poll() and the actor
    wake_all_waiters();
    if (snapshots_) snapshots_->durable_advanced(~std::uint64_t{0});
  }

  void io_loop() {
    LogBatch batch;
    std::uint64_t io_batches = 0;
    bool ok = true;
    for (;;) {
      const auto due = writer_.sync_due_in();
      const std::chrono::nanoseconds timeout = due ? std::chrono::duration_cast<std::chrono::nanoseconds>(*due)
                                                   : std::chrono::nanoseconds(std::chrono::seconds(1));
      if (!log_.next_batch(batch, timeout)) break;
      if (ok && batch.size() > 0) {
        ++io_batches;
        batch.for_each([&](LogEntry& e) {
          if (ok && e.type != wal::RecordType::Zero) ok = writer_.append(e);
        });
        ok = ok && writer_.write();
        if (ok) publish(Ack::Written, writer_.written_lsn());
      }
      if (ok) {
        // acquire: pairs with the actor's release; the records it covers were in this batch or earlier.
        const std::uint64_t wanted = durable_wanted_.load(std::memory_order_acquire);
        ok = wanted > writer_.durable_lsn() ? writer_.sync() : writer_.sync_by_policy();
        if (ok) publish(Ack::Durable, writer_.durable_lsn());
        if (!ok) fail();
      } else if (!wal_failed_.load(std::memory_order_relaxed)) {  // relaxed: only this thread stores it
        fail();
      }
      log_.release_batch();
    }
    if (ok) {
      ok = writer_.close();
      if (ok) {
        publish(Ack::Written, writer_.written_lsn());
        publish(Ack::Durable, writer_.durable_lsn());
      } else {
        fail();
      }
    }
    final_stats_.wal = writer_.stats();
    final_stats_.wal_error = writer_.error();
    final_stats_.io_batches = io_batches;
  }

  const bool logging_;
  Pool pool_;  // actor thread only
  M mailbox_;
  B log_;
  wal::WalWriter writer_;  // I/O thread only (constructed before it starts)
  std::vector<LogEntry> records_;  // actor only
  std::uint64_t last_lsn_;         // actor only until joined
  std::uint64_t draws_;
  std::uint64_t next_request_id_;
  std::uint64_t id_ceiling_;
  // The RequestIds records not used up yet: the current block and those reserved ahead.
  static constexpr std::uint64_t kIdsAhead = 16 * kIdBlock;  // ~1M ids: a restart skips at most this many
  static constexpr std::size_t kReservations = 32;  // > kIdsAhead / kIdBlock + 2: never full
  struct Reservation {
    std::uint64_t ceiling, lsn;
  };
  Reservation reservations_[kReservations]{};
  std::size_t reservations_head_ = 0, reservations_size_ = 0;
  std::uint64_t id_lsn_ = 0;  // the LSN reserving the id handed out last
  std::uint64_t since_snapshot_ = 0;
  std::uint64_t actor_batches_ = 0;
  alignas(ringkit::detail::kFalseSharingRange) std::atomic<std::uint64_t> durable_wanted_{0};
  std::unique_ptr<SnapshotWorker> snapshots_;
  std::string name_;
  mutable std::mutex stop_mu_;
  bool joined_ = false;
  ServiceStats final_stats_;
  std::thread io_;
  std::thread actor_;
};

}  // namespace

std::unique_ptr<Service> make_service(MailboxKind mailbox, BufferKind buffer, ServiceState state, ServiceOptions options) {
  using W = ringkit::Blocking;
  if (mailbox == MailboxKind::Channel && buffer == BufferKind::Vector) {
    return std::make_unique<Actor<ChannelMailbox, VectorLogBuffer>>(std::move(state), options);
  }
  if (mailbox == MailboxKind::Ring && buffer == BufferKind::Vector) {
    return std::make_unique<Actor<RingMailbox<W>, VectorLogBuffer>>(std::move(state), options);
  }
  if (mailbox == MailboxKind::Channel) {
    return std::make_unique<Actor<ChannelMailbox, RingLogBuffer<W>>>(std::move(state), options);
  }
  return std::make_unique<Actor<RingMailbox<W>, RingLogBuffer<W>>>(std::move(state), options);
}

ServiceState open_data_dir(const std::string& dir, const Catalog* catalog, bool repair, std::vector<std::string>& warnings) {
  if (!wal::has_data(dir)) {
    if (!catalog) throw CatalogError(dir + " holds no rewardpool log and no catalog was given");
    wal::initialize_data_dir(dir, *catalog);
    return ServiceState{*catalog, 0, 0, 1, 1};
  }
  wal::RecoveryOptions o;
  o.repair = repair;
  wal::RecoveryResult r = wal::recover(dir, o);
  warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
  return ServiceState{std::move(r.catalog), r.lsn, r.draws, r.next_request_id, r.next_segment_seq};
}

}  // namespace rewardpool
