#include "rewardpool/service.hpp"

#include <array>
#include <mutex>

#include "rewardpool/log_buffer.hpp"

namespace rewardpool {

std::string_view to_string(MailboxKind k) noexcept { return k == MailboxKind::Channel ? "channel" : "ring"; }
std::string_view to_string(BufferKind k) noexcept { return k == BufferKind::Vector ? "vector" : "ring"; }

// ---- reply pool ------------------------------------------------------------------------------------
ReplyPool::ReplyPool(std::size_t slots)
    : n_(slots == 0 ? 1 : slots),
      slots_(new Reply[n_]),
      next_(new std::atomic<std::uint32_t>[n_]) {
  for (std::size_t i = 0; i < n_; ++i) {
    // relaxed: construction precedes sharing
    next_[i].store(i + 1 < n_ ? static_cast<std::uint32_t>(i + 2) : 0u, std::memory_order_relaxed);
  }
  head_.store(1, std::memory_order_relaxed);  // relaxed: as above
}

Reply* ReplyPool::acquire() noexcept {
  // acquire: pairs with the release CAS in release(); the pushed node's next_ is visible.
  std::uint64_t h = head_.load(std::memory_order_acquire);
  for (;;) {
    const auto idx = static_cast<std::uint32_t>(h);
    if (idx == 0) {  // every slot is taken: more concurrent callers than reply_slots
      std::this_thread::yield();
      h = head_.load(std::memory_order_acquire);  // acquire: as above
      continue;
    }
    // relaxed: if the node was popped and pushed again meanwhile, the tag makes the CAS below fail.
    const std::uint32_t nxt = next_[idx - 1].load(std::memory_order_relaxed);
    const std::uint64_t nh = (((h >> 32) + 1) << 32) | nxt;
    // acquire (success): the previous owner's use of the slot happens-before ours; pairs with release().
    // acquire (failure): reloads head_ as the load above.
    if (head_.compare_exchange_weak(h, nh, std::memory_order_acquire, std::memory_order_acquire)) {
      return &slots_[idx - 1];
    }
  }
}

void ReplyPool::release(Reply* r) noexcept {
  const auto i = static_cast<std::uint32_t>(r - slots_.get());
  std::uint64_t h = head_.load(std::memory_order_relaxed);  // relaxed: validated by the CAS
  for (;;) {
    next_[i].store(static_cast<std::uint32_t>(h), std::memory_order_relaxed);  // relaxed: published by the CAS
    const std::uint64_t nh = (((h >> 32) + 1) << 32) | (i + 1);
    // release: publishes next_[i] and our last use of the slot; pairs with the acquire in acquire().
    // relaxed (failure): we retry with the fresh value.
    if (head_.compare_exchange_weak(h, nh, std::memory_order_release, std::memory_order_relaxed)) return;
  }
}

// ---- service ---------------------------------------------------------------------------------------
Service::Service(const ServiceOptions& o, const Catalog& c) : replies_(o.reply_slots), ids_(c) {
  for (std::size_t i = 0; i < ids_.items.size(); ++i) index_.emplace(ids_.items[i].id, static_cast<std::uint32_t>(i));
}

DrawResult Service::Client::call(const Request& r) {
  reply_->reset();
  if (service_->stopped_.load(std::memory_order_acquire) || !service_->submit(r)) {  // acquire: pairs with stop()
    return DrawResult{Status::Closed, 0, 0};
  }
  return reply_->wait();
}

DrawResult Service::Client::update(std::string_view id, std::int64_t quantity, double weight) {
  const auto it = service_->index_.find(std::string(id));
  if (it == service_->index_.end()) return DrawResult{Status::UnknownItem, 0, 0};
  return call(Request{Request::Kind::Update, it->second, quantity, weight, reply_});
}

DrawResult Service::draw() { return Client(*this).draw(); }

DrawResult Service::update(std::string_view id, std::int64_t quantity, double weight) {
  return Client(*this).update(id, quantity, weight);
}

namespace {

template <Mailbox M, LogBuffer B>
class Actor final : public Service {
 public:
  Actor(ServiceState state, ServiceOptions options)
      : Service(options, state.catalog),
        options_(std::move(options)),
        pool_(std::move(state.catalog), options_.selector, options_.seed),
        mailbox_(options_.mailbox_capacity),
        log_(options_.log_capacity),
        writer_(options_.wal, state.next_segment_seq, state.lsn + 1),
        next_lsn_(state.lsn + 1),
        draws_(state.draws) {
    const bool park = options_.ring_wait == RingWait::Park &&
                      !(std::is_same_v<M, ChannelMailbox> && std::is_same_v<B, VectorLogBuffer>);
    name_ = std::string(std::is_same_v<M, ChannelMailbox> ? "channel" : "ring") + "+" +
            (std::is_same_v<B, VectorLogBuffer> ? "vector" : "ring") + (park ? " (park)" : "");
    flusher_ = std::thread([this] { flush_loop(); });
    actor_ = std::thread([this] { actor_loop(); });
  }

  ~Actor() override { stop(); }

  void stop() override {
    std::lock_guard lock(stop_mu_);
    if (joined_) return;
    stopped_.store(true, std::memory_order_release);  // release: pairs with the acquire in Client::call()
    mailbox_.close();
    actor_.join();
    flusher_.join();
    final_stats_.actor_batches = actor_batches_;  // both joined: their writes are visible
    final_stats_.lsn = last_lsn_;
    joined_ = true;
  }

  ServiceStats stats() const override {
    std::lock_guard lock(stop_mu_);
    return joined_ ? final_stats_ : ServiceStats{};
  }

  std::string_view describe() const override { return name_; }

 protected:
  bool submit(const Request& r) override { return mailbox_.push(r); }

 private:
  static constexpr std::size_t kActorBatch = 256;

  void actor_loop() {
    std::array<Request, kActorBatch> reqs;
    std::array<WalEntry, kActorBatch + 1> entries;  // + a snapshot marker
    std::uint64_t since_snapshot = 0;
    std::uint64_t batches = 0;
    for (;;) {
      const std::size_t n = mailbox_.pop_batch(reqs);
      if (n == 0) break;
      ++batches;
      std::size_t k = 0;
      // acquire: pairs with the release in flush_loop(); after a WAL failure nothing more is applied.
      const bool failed = wal_failed_.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < n; ++i) {
        const Request& r = reqs[i];
        if (failed) {
          r.reply->complete(DrawResult{Status::WalError, 0, 0});
          continue;
        }
        wal::Record rec{};
        if (r.kind == Request::Kind::Draw) {
          const DrawResult d = pool_.draw();
          if (d.status != Status::Ok) {
            r.reply->complete(d);  // nothing changed: nothing to log
            continue;
          }
          rec.type = wal::RecordType::Draw;
          rec.item = d.index;
          ++draws_;
        } else {
          const Status st = pool_.update(r.item, r.quantity, r.weight);
          if (st != Status::Ok) {
            r.reply->complete(DrawResult{st, r.item, 0});
            continue;
          }
          rec.type = wal::RecordType::Update;
          rec.item = r.item;
          rec.quantity = r.quantity;
          rec.weight = r.weight;
        }
        rec.lsn = next_lsn_++;
        entries[k++] = WalEntry{rec, r.reply};
        ++since_snapshot;
      }
      // acquire: pairs with the release in flush_loop() that finished the previous snapshot.
      if (options_.snapshot_every != 0 && since_snapshot >= options_.snapshot_every &&
          !snapshot_busy_.load(std::memory_order_acquire)) {
        since_snapshot = 0;
        {
          std::lock_guard lock(snapshot_mu_);
          pending_snapshot_ = std::make_unique<wal::Snapshot>(wal::Snapshot{pool_.catalog(), next_lsn_ - 1, draws_});
        }
        snapshot_busy_.store(true, std::memory_order_relaxed);  // relaxed: only the actor reads it as true
        wal::Record marker{};
        marker.type = wal::RecordType::SnapshotMarker;
        marker.lsn = next_lsn_++;
        marker.snapshot_lsn = marker.lsn - 1;
        entries[k++] = WalEntry{marker, nullptr};
      }
      log_.append(std::span<const WalEntry>(entries.data(), k));
    }
    log_.close();
    actor_batches_ = batches;
    last_lsn_ = next_lsn_ - 1;
  }

  void flush_loop() {
    LogBatch batch;
    const auto timeout = options_.wal.sync.kind == wal::SyncPolicy::Kind::Interval ? options_.wal.sync.interval
                                                                                    : std::chrono::milliseconds(60'000);
    std::uint64_t flushes = 0;
    while (log_.next_batch(batch, timeout)) {
      if (batch.size() == 0) {  // idle: the interval policy's timer
        if (!writer_.sync_if_due()) wal_failed_.store(true, std::memory_order_release);  // release: pairs with actor_loop()
        continue;
      }
      ++flushes;
      bool ok = !writer_.poisoned();
      batch.for_each([&](WalEntry& e) {
        if (!ok) return;
        if (e.record.type == wal::RecordType::SnapshotMarker) {
          std::unique_ptr<wal::Snapshot> snap;
          {
            std::lock_guard lock(snapshot_mu_);
            snap = std::move(pending_snapshot_);
          }
          ok = writer_.snapshot(*snap);
          snapshot_busy_.store(false, std::memory_order_release);  // release: pairs with the acquire in actor_loop()
        } else {
          ok = writer_.append(e.record);
        }
      });
      if (ok) ok = writer_.commit();
      if (!ok) wal_failed_.store(true, std::memory_order_release);  // release: pairs with actor_loop()
      batch.for_each([&](WalEntry& e) {
        if (!e.reply) return;
        e.reply->complete(ok ? DrawResult{Status::Ok, e.record.item, e.record.lsn} : DrawResult{Status::WalError, 0, 0});
      });
      log_.release_batch();
    }
    writer_.close();
    final_stats_.wal = writer_.stats();
    final_stats_.wal_error = writer_.error();
    final_stats_.flushes = flushes;
  }

  ServiceOptions options_;
  Pool pool_;  // actor thread only
  M mailbox_;
  B log_;
  wal::WalWriter writer_;  // flusher thread only (constructed before both start)
  std::uint64_t next_lsn_;
  std::uint64_t draws_;
  std::uint64_t actor_batches_ = 0;
  std::uint64_t last_lsn_ = 0;
  std::atomic<bool> wal_failed_{false};
  std::atomic<bool> snapshot_busy_{false};
  std::mutex snapshot_mu_;
  std::unique_ptr<wal::Snapshot> pending_snapshot_;  // guarded by snapshot_mu_
  std::string name_;
  mutable std::mutex stop_mu_;
  bool joined_ = false;
  ServiceStats final_stats_;
  std::thread flusher_;
  std::thread actor_;
};

}  // namespace

namespace {
template <ringkit::WaitStrategy W>
std::unique_ptr<Service> make_with(MailboxKind mailbox, BufferKind buffer, ServiceState&& state, ServiceOptions&& options) {
  if (mailbox == MailboxKind::Channel && buffer == BufferKind::Vector) {
    return std::make_unique<Actor<ChannelMailbox, VectorLogBuffer>>(std::move(state), std::move(options));
  }
  if (mailbox == MailboxKind::Ring && buffer == BufferKind::Vector) {
    return std::make_unique<Actor<RingMailbox<W>, VectorLogBuffer>>(std::move(state), std::move(options));
  }
  if (mailbox == MailboxKind::Channel) {
    return std::make_unique<Actor<ChannelMailbox, RingLogBuffer<W>>>(std::move(state), std::move(options));
  }
  return std::make_unique<Actor<RingMailbox<W>, RingLogBuffer<W>>>(std::move(state), std::move(options));
}
}  // namespace

std::unique_ptr<Service> make_service(MailboxKind mailbox, BufferKind buffer, ServiceState state,
                                      ServiceOptions options) {
  if (options.ring_wait == RingWait::Park) return make_with<ringkit::Parking>(mailbox, buffer, std::move(state), std::move(options));
  return make_with<ringkit::Blocking>(mailbox, buffer, std::move(state), std::move(options));
}

ServiceState open_data_dir(const std::string& dir, const Catalog* catalog, bool repair,
                           std::vector<std::string>& warnings) {
  if (!wal::has_data(dir)) {
    if (!catalog) throw CatalogError(dir + " holds no rewardpool log and no catalog was given");
    wal::initialize_data_dir(dir, *catalog);
    return ServiceState{*catalog, 0, 0, 1};
  }
  wal::RecoveryOptions o;
  o.repair = repair;
  wal::RecoveryResult r = wal::recover(dir, o);
  warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
  return ServiceState{std::move(r.catalog), r.lsn, r.draws, r.next_segment_seq};
}

}  // namespace rewardpool
