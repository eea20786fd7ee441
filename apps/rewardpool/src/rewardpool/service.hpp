#pragma once
// The reward service: one actor thread owns the Pool; clients on any thread send requests through a
// mailbox and wait on a pooled reply slot; a flusher thread makes the actor's log records durable and
// only then completes the replies (WAL-first: a draw is acknowledged only once its record is durable
// under the sync policy).
//
//   client --Request--> [mailbox] --> actor (Pool) --WalEntry--> [log buffer] --> flusher (WalWriter)
//      ^                                                                             |
//      +------------------------- Reply slot (atomic wait/notify) <-------------------+
//
// The mailbox (ChannelMailbox | RingMailbox) and log buffer (VectorLogBuffer | RingLogBuffer) are
// template parameters of Actor; make_service() picks one of the four combinations at run time.
//
// Failure: the first failed write/sync poisons the WAL; every waiting and later request then gets
// Status::WalError. A draw is never acknowledged unless its record was written (and synced, under
// --sync always). The in-memory pool may then be ahead of the log: restart and recover.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rewardpool/mailbox.hpp"
#include "rewardpool/pool.hpp"
#include "rewardpool/wal.hpp"
#include "ringkit/detail/cache_line.hpp"
#include "ringkit/wait_strategy.hpp"

namespace rewardpool {

// A reply slot: written by the flusher (or the actor for immediate answers), read by one client.
struct alignas(ringkit::detail::kFalseSharingRange) Reply {  // one per client: no false sharing between them
  std::atomic<std::uint32_t> done{0};
  DrawResult result;
  ringkit::Blocking waiter;  // std::atomic::wait/notify_one (libstdc++ 12) lost a wake-up here: see git log

  void complete(const DrawResult& r) noexcept {
    result = r;
    done.store(1, std::memory_order_release);  // release: publishes result; pairs with the acquire in wait()
    waiter.notify();                           // a syscall only if the client has parked
  }
  DrawResult wait() noexcept {
    // ringkit's Blocking protocol (spin/yield ~20 µs, then futex park; model-checked in tests/model/).
    // acquire: pairs with the release in complete(); result is then visible.
    waiter.wait([&] { return done.load(std::memory_order_acquire) != 0; });
    return result;
  }
  void reset() noexcept {
    done.store(0, std::memory_order_relaxed);  // relaxed: the slot is owned by this client until it is sent
  }
};

static_assert(alignof(Reply) >= ringkit::detail::kFalseSharingRange && sizeof(Reply) % ringkit::detail::kFalseSharingRange == 0);

// A fixed set of reply slots handed out lock-free (a Treiber stack with a 32-bit ABA tag).
class ReplyPool {
 public:
  explicit ReplyPool(std::size_t slots);
  Reply* acquire() noexcept;  // spins (yielding) while all are taken
  void release(Reply* r) noexcept;
  [[nodiscard]] std::size_t capacity() const noexcept { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<Reply[]> slots_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> next_;  // next_[i]: index+1 of the slot below i, 0 = none
  alignas(ringkit::detail::kFalseSharingRange) std::atomic<std::uint64_t> head_{0};  // (tag << 32) | (index + 1)
};

enum class MailboxKind : std::uint8_t { Channel, Ring };
enum class BufferKind : std::uint8_t { Vector, Ring };
// How the ring mailbox / ring log buffer wait: ringkit::Blocking (spin ~20 µs, then park) or ringkit::Parking.
enum class RingWait : std::uint8_t { Blocking, Park };
std::string_view to_string(MailboxKind k) noexcept;
std::string_view to_string(BufferKind k) noexcept;

struct ServiceOptions {
  wal::WalOptions wal;
  SelectorKind selector = SelectorKind::Fenwick;
  std::uint64_t seed = 1;
  std::size_t mailbox_capacity = 1024;  // power of two
  std::size_t log_capacity = 8192;      // ring log buffer slots (power of two); vector initial capacity
  std::size_t reply_slots = 1024;
  std::uint64_t snapshot_every = 0;     // records between snapshots; 0 = never
  RingWait ring_wait = RingWait::Blocking;
};

// Where the service starts: a recovered (or freshly initialized) state.
struct ServiceState {
  Catalog catalog;
  std::uint64_t lsn = 0;
  std::uint64_t draws = 0;
  std::uint64_t next_segment_seq = 1;
};

struct ServiceStats {
  wal::WalStats wal;
  std::uint64_t flushes = 0;       // batches the flusher handled
  std::uint64_t actor_batches = 0; // mailbox batches the actor handled
  std::uint64_t lsn = 0;           // last LSN assigned
  std::string wal_error;           // empty unless the WAL failed
};

class Service {
 public:
  // A client handle owns one reply slot for its lifetime: requests through it touch no shared state
  // but the mailbox. Not thread-safe: one per client thread.
  class Client {
   public:
    explicit Client(Service& s) : service_(&s), reply_(s.replies_.acquire()) {}
    ~Client() {
      if (reply_) service_->replies_.release(reply_);
    }
    Client(Client&& o) noexcept : service_(o.service_), reply_(std::exchange(o.reply_, nullptr)) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client& operator=(Client&&) = delete;

    DrawResult draw() { return call(Request{Request::Kind::Draw, 0, 0, 0.0, reply_}); }
    DrawResult update(std::string_view id, std::int64_t quantity, double weight);

   private:
    DrawResult call(const Request& r);
    Service* service_;
    Reply* reply_;
  };

  virtual ~Service() = default;
  Client client() { return Client(*this); }
  // Convenience: takes a pooled reply slot for the call.
  DrawResult draw();
  DrawResult update(std::string_view id, std::int64_t quantity, double weight);
  // Drains the mailbox and the log, closes the WAL, joins the threads. Call after the client threads
  // have stopped calling; later calls return Status::Closed. Idempotent.
  virtual void stop() = 0;
  [[nodiscard]] virtual ServiceStats stats() const = 0;  // exact after stop()
  [[nodiscard]] virtual std::string_view describe() const = 0;
  [[nodiscard]] const Catalog& initial_catalog() const noexcept { return ids_; }

 protected:
  Service(const ServiceOptions& o, const Catalog& c);
  virtual bool submit(const Request& r) = 0;
  std::atomic<bool> stopped_{false};

 private:
  ReplyPool replies_;
  Catalog ids_;                                          // immutable after construction
  std::unordered_map<std::string, std::uint32_t> index_;  // immutable: id -> index for update()
};

std::unique_ptr<Service> make_service(MailboxKind mailbox, BufferKind buffer, ServiceState state,
                                      ServiceOptions options);

// Opens a data directory: recovers it (see wal::recover) or, if it holds no log, initializes it with
// `catalog`. Warnings (torn tail truncated) are appended to `warnings`. Throws wal::RecoveryError /
// wal::WalError / CatalogError.
ServiceState open_data_dir(const std::string& dir, const Catalog* catalog, bool repair,
                           std::vector<std::string>& warnings);

}  // namespace rewardpool
