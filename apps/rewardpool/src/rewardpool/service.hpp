// SPDX-License-Identifier: MIT
#pragma once
// The reward service: one actor thread owns the Pool; client handles on any threads submit draws without
// blocking and collect completions in batches; an I/O thread writes the actor's records (group commit)
// and publishes how far the log is written and durable; a snapshot thread writes snapshots.
//
//   Client --Request batch--> [mailbox] --> actor (Pool) --records--> [log buffer] --> I/O thread (WalWriter)
//     ^                                       |                                          | publishes written /
//     +---- completion ring (SPSC, per client) <+                                         | durable LSN, wakes
//     +--------------------------------------------------------------------------------+ only waiting clients
//
// A draw's completion is written into its client's ring by the actor right after the draw is applied;
// it is *delivered* (poll/wait) once the draw's ack level is reached: Applied once the record reserving
// its request id is written (ids are reserved 16 blocks, ~1M ids, ahead, so in steady state at once; with no
// log, at once), Written once the I/O thread has published a written LSN >= the draw's LSN, Durable
// likewise for the durable LSN. A
// completion with no record (the pool was empty) waits for the LSN assigned before it, so a client sees
// its completions in submission order. Nothing per draw is allocated, locked or syscalled on the way.
//
// Wake-up protocol between a waiting client (C) and the I/O thread (P) (L = level, g = gate):
//   C1 want_lsn = g (seq_cst)         P1 published[L] = lsn (seq_cst)
//   C2 waiter.wait(published[L] >= g) P2 for each client: if want_lsn <= lsn: waiter.notify()
// C1/P1 and the loads in C2/P2 are seq_cst, so either C2's first check sees P1, or P2's load sees C1
// (the store-buffering outcome where both miss is forbidden). In the second case notify() comes after P1,
// and ringkit::Blocking's own protocol (wait_strategy / blocking.hpp, W0-W5 / N1-N4) then guarantees that
// C2 either sees P1 before parking or is woken. The actor wakes a client the same way after committing
// completions into its ring (ring commit = N1).
//
// Failure: the first failed write/sync poisons the WAL; completions that waited for the written/durable
// LSN then carry Status::WalError, and every later request is answered WalError. A draw is never
// delivered at Written/Durable unless its record was written/synced.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rewardpool/mailbox.hpp"
#include "rewardpool/pool.hpp"
#include "rewardpool/wal.hpp"
#include "ringkit/detail/cache_line.hpp"
#include "ringkit/spsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace rewardpool {

// One per draw (or update) answered.
struct Completion {
  std::uint64_t request_id = 0;  // unique and increasing across restarts (recovered from the log)
  std::uint64_t lsn = 0;         // the record's log sequence number; 0 when nothing was logged
  std::uint64_t tag = 0;         // the caller's, from submit
  std::uint32_t item = 0;        // the item drawn (Ok) or updated
  Status status = Status::Ok;
  Ack ack = Ack::Applied;        // the level it was delivered at
  enum class Kind : std::uint8_t { Draw, Update } kind = Kind::Draw;
};

enum class Submit : std::uint8_t {
  Accepted,    // queued; its completions will come
  WindowFull,  // in_flight() + count would exceed window(): collect completions first (back-pressure)
  Busy,        // the mailbox is full (the actor is behind): collect completions, or flush(), and retry
  Closed,      // the service is stopping
  Invalid,     // count 0 or larger than the window, or an unknown item id (update)
};
std::string_view to_string(Submit s) noexcept;

enum class MailboxKind : std::uint8_t { Channel, Ring };
enum class BufferKind : std::uint8_t { Vector, Ring };
std::string_view to_string(MailboxKind k) noexcept;
std::string_view to_string(BufferKind k) noexcept;

struct ServiceOptions {
  wal::WalOptions wal;
  Ack default_ack = Ack::Durable;       // for requests that name none
  SelectorKind selector = SelectorKind::Fenwick;
  std::uint64_t seed = 1;
  std::size_t mailbox_capacity = 4096;  // requests; power of two
  std::size_t log_capacity = 65536;     // ring log buffer slots (power of two); vector initial capacity
  std::size_t max_clients = 256;        // client handles alive at once
  std::size_t window = 4096;            // default in-flight window per client (draws)
  std::uint64_t snapshot_every = 0;     // records between snapshots; 0 = never
};

// Where the service starts: a recovered (or freshly initialized) state.
struct ServiceState {
  Catalog catalog;
  std::uint64_t lsn = 0;
  std::uint64_t draws = 0;
  std::uint64_t next_request_id = 1;
  std::uint64_t next_segment_seq = 1;
};

struct ServiceStats {
  wal::WalStats wal;
  std::uint64_t io_batches = 0;     // batches the I/O thread handled
  std::uint64_t actor_batches = 0;  // mailbox batches the actor handled
  std::uint64_t lsn = 0;            // last LSN assigned
  std::uint64_t next_request_id = 0;
  std::uint64_t snapshots = 0;
  std::string wal_error;            // empty unless the WAL failed
  std::string snapshot_error;       // empty unless a snapshot failed (the log is unaffected)
};

namespace detail {
inline constexpr std::uint64_t kNoWait = ~std::uint64_t{0};

// The published level a completion's gate is compared with: its ack level, except that Applied waits for
// Written (its gate is the LSN of the record that reserved its request id; see Actor::next_request_id()).
constexpr std::size_t gate_level(Ack a) noexcept { return a == Ack::Applied ? 1 : static_cast<std::size_t>(a); }

// A completion as it sits in a client's ring: the public part plus the LSN that gates its delivery.
struct CompletionSlot {
  Completion c;
  std::uint64_t gate;
};
static_assert(std::is_trivially_copyable_v<CompletionSlot>);

// A client's shared state. Owned by the service and never freed before it (a handle gives its slot back
// when it is destroyed, after every completion it was owed arrived), so the actor and the I/O thread
// may notify a slot at any time.
struct ClientSlot {
  explicit ClientSlot(std::size_t window);
  std::size_t window;
  ringkit::SpscQueue<CompletionSlot, ringkit::BusySpin> ring;  // producer: actor; consumer: the client
  alignas(ringkit::detail::kFalseSharingRange) ringkit::Blocking waiter;  // the client waits here
  std::atomic<std::uint64_t> want_lsn{kNoWait};  // C1: the gate the client waits for at want_level
  std::atomic<std::uint8_t> want_level{0};
  bool in_use = false;  // guarded by Service::clients_mu_
};
}  // namespace detail

class Service {
 public:
  // A per-thread handle: submits without blocking, collects completions in batches. Not thread-safe:
  // one thread at a time. Destroying it waits for the completions it is still owed.
  class Client {
   public:
    Client(Service& s, std::size_t window);
    ~Client();
    Client(Client&& o) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client& operator=(Client&&) = delete;

    // ---- asynchronous -------------------------------------------------------------------------------
    // Queues a draw of `count` items (count completions, each with its own request id). Requests are
    // batched in the handle and cross the mailbox together (flush(), or poll()/wait(), or a full batch).
    Submit submit_draw(std::uint64_t tag = 0) { return submit_draw_n(1, tag); }
    Submit submit_draw_n(std::uint32_t count, std::uint64_t tag = 0) { return submit_draw_n(count, tag, service_->options_.default_ack); }
    Submit submit_draw_n(std::uint32_t count, std::uint64_t tag, Ack ack);
    Submit submit_update(std::string_view id, std::int64_t quantity, double weight, std::uint64_t tag = 0);
    // Pushes queued requests into the mailbox without blocking; false if some are still queued (full).
    bool flush();
    // Delivers completions that have reached their ack level, in submission order; never blocks.
    std::size_t poll(std::span<Completion> out);
    // As poll(), but waits until at least one is delivered; 0 only when nothing is in flight.
    std::size_t wait(std::span<Completion> out);
    [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }
    [[nodiscard]] std::size_t window() const noexcept { return slot_->window; }

    // ---- blocking (thin wrappers; need nothing else in flight) --------------------------------------
    DrawResult draw();
    DrawResult update(std::string_view id, std::int64_t quantity, double weight);

   private:
    Submit queue(const Request& r, std::uint32_t draws);
    std::size_t answer_refused(std::span<Completion> out);
    bool visible(const detail::CompletionSlot& s, std::uint64_t (&published)[kAckLevels], bool failed) const noexcept;
    Completion wait_one();

    Service* service_;
    detail::ClientSlot* slot_;
    std::size_t in_flight_ = 0;  // draws submitted whose completions were not yet delivered
    std::vector<Request> queued_;  // capacity kQueuedBatch, reserved once
  };

  virtual ~Service() = default;
  // A handle with `window` draws in flight at most (0: the options' window).
  Client client(std::size_t window = 0) { return Client(*this, window ? window : options_.window); }
  // Convenience: a handle for one call.
  DrawResult draw();
  DrawResult update(std::string_view id, std::int64_t quantity, double weight);
  // Drains the mailbox and the log, closes the WAL, joins the threads. Call after the client threads
  // have stopped submitting; later submissions return Submit::Closed. Idempotent.
  virtual void stop() = 0;
  [[nodiscard]] virtual ServiceStats stats() const = 0;  // exact after stop()
  [[nodiscard]] virtual std::string_view describe() const = 0;
  [[nodiscard]] const Catalog& initial_catalog() const noexcept { return ids_; }
  [[nodiscard]] const ServiceOptions& options() const noexcept { return options_; }
  // The highest LSN at each level (Applied: assigned by the actor). A racy snapshot.
  [[nodiscard]] std::uint64_t published_lsn(Ack level) const noexcept;

  static constexpr std::size_t kQueuedBatch = 256;  // requests a handle collects before pushing them

 protected:
  Service(const ServiceOptions& o, const Catalog& c);
  virtual std::size_t try_push(std::span<const Request> r) = 0;
  // Blocks while the mailbox is full; how many went in (fewer only once it closed).
  virtual std::size_t push(std::span<const Request> r) = 0;
  // Wakes the slots waiting for `level` at or below `lsn` (the I/O thread, after publishing).
  void wake_waiters(Ack level, std::uint64_t lsn);
  void wake_all_waiters();

  ServiceOptions options_;
  std::atomic<bool> stopped_{false};
  // published_[Written/Durable]: written by the I/O thread (seq_cst: P1); [Applied] by the actor.
  alignas(ringkit::detail::kFalseSharingRange) std::atomic<std::uint64_t> published_[kAckLevels]{};
  std::atomic<bool> wal_failed_{false};

 private:
  detail::ClientSlot* acquire_slot(std::size_t window);
  void release_slot(detail::ClientSlot* s);

  Catalog ids_;                                           // immutable after construction
  std::unordered_map<std::string, std::uint32_t> index_;  // immutable: id -> index for update()
  std::mutex clients_mu_;
  std::vector<std::unique_ptr<detail::ClientSlot>> slots_;  // guarded by clients_mu_; never shrinks
};

std::unique_ptr<Service> make_service(MailboxKind mailbox, BufferKind buffer, ServiceState state, ServiceOptions options);

// Opens a data directory: recovers it (see wal::recover) or, if it holds no log, initializes it with
// `catalog`. Warnings (torn tail dropped, repairs) are appended to `warnings`. Throws wal::RecoveryError /
// wal::WalError / CatalogError.
ServiceState open_data_dir(const std::string& dir, const Catalog* catalog, bool repair, std::vector<std::string>& warnings);

}  // namespace rewardpool
