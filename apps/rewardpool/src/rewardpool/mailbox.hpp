// SPDX-License-Identifier: MIT
#pragma once
// Actor mailboxes: client handles push requests in batches, the actor pops them in batches.
//
//   ChannelMailbox  std::mutex + two std::condition_variable over a bounded circular buffer: the
//                   baseline (Go's buffered channel is this design). One lock per batch either side.
//   RingMailbox<W>  ringkit::MpscQueue with wait strategy W (ringkit::Blocking: spin ~20 µs, then futex):
//                   a batch of pushes is one CAS on the tail, a batch of pops one store on the head.
//
// Both are bounded. A request a push reports as gone in (try_push_batch / push_batch count it) is popped
// by the actor, also when close() races with the push: pop_batch returns 0 only once closed, drained and no
// push is in progress. A push that reports it did not go in was refused (full, or closed), never queued.
// Requests are trivially copyable: nothing is allocated per request.
#include <algorithm>
#include <condition_variable>
#include <concepts>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "rewardpool/pool.hpp"
#include "ringkit/detail/cache_line.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace rewardpool {

namespace detail {
struct ClientSlot;
}

// How far a draw must have gone before its completion is delivered.
enum class Ack : std::uint8_t {
  Applied = 0,  // in the pool's memory (the Go original's semantics): lost if the process dies
  Written = 1,  // its record is in the page cache or the mapping: survives the process, not the machine
  Durable = 2,  // fdatasync / msync done: survives the machine
};
inline constexpr std::size_t kAckLevels = 3;  // a `Replicated` level (issue 13) goes after Durable
std::string_view to_string(Ack a) noexcept;
std::optional<Ack> parse_ack(std::string_view s) noexcept;

struct Request {
  enum class Kind : std::uint8_t { Draw, Update } kind = Kind::Draw;
  Ack ack = Ack::Applied;
  std::uint32_t count = 1;     // Draw: how many items
  std::uint32_t item = 0;      // Update
  std::int64_t quantity = 0;   // Update
  double weight = 0;           // Update
  std::uint64_t tag = 0;       // the caller's, echoed in each completion
  detail::ClientSlot* origin = nullptr;  // where the completions go
};
static_assert(std::is_trivially_copyable_v<Request>);

template <class M>
concept Mailbox = requires(M& m, std::span<const Request> in, std::span<Request> out) {
  { m.try_push_batch(in) } -> std::same_as<std::size_t>;  // any thread; never blocks; how many went in
  // any thread; blocks while full; how many went in (all of them unless the mailbox closed meanwhile)
  { m.push_batch(in) } -> std::same_as<std::size_t>;
  { m.pop_batch(out) } -> std::same_as<std::size_t>;      // the actor; blocks for >= 1; 0 = closed and drained
  m.close();
};

class ChannelMailbox {
 public:
  explicit ChannelMailbox(std::size_t capacity) : buf_(capacity) {}

  std::size_t try_push_batch(std::span<const Request> in) {
    std::unique_lock lock(mu_);
    if (closed_) return 0;
    return put(in, lock);
  }

  std::size_t push_batch(std::span<const Request> in) {
    std::unique_lock lock(mu_);
    std::size_t done = 0;
    while (done < in.size()) {
      while (count_ == buf_.size() && !closed_) {
        ++push_waiters_;
        not_full_.wait(lock);
        --push_waiters_;
      }
      if (closed_) return done;  // what went in before the close is delivered; the rest was refused
      done += put(in.subspan(done), lock);
      if (done < in.size()) lock.lock();
    }
    return done;
  }

  std::size_t pop_batch(std::span<Request> out) {
    std::unique_lock lock(mu_);
    while (count_ == 0 && !closed_) {
      pop_waiting_ = true;
      not_empty_.wait(lock);
      pop_waiting_ = false;
    }
    const std::size_t n = std::min(out.size(), count_);
    for (std::size_t i = 0; i < n; ++i) out[i] = buf_[(head_ + i) % buf_.size()];
    head_ = (head_ + n) % buf_.size();
    count_ -= n;
    const bool wake = push_waiters_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_all();
    return n;
  }

  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  // Copies what fits, unlocks, wakes the actor if it waits. Returns how many were copied.
  std::size_t put(std::span<const Request> in, std::unique_lock<std::mutex>& lock) {
    const std::size_t n = std::min(in.size(), buf_.size() - count_);
    for (std::size_t i = 0; i < n; ++i) buf_[(head_ + count_ + i) % buf_.size()] = in[i];
    count_ += n;
    const bool wake = n > 0 && pop_waiting_;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return n;
  }

  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<Request> buf_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t push_waiters_ = 0;
  bool pop_waiting_ = false;
  bool closed_ = false;
};

template <ringkit::WaitStrategy W = ringkit::Blocking>
class RingMailbox {
 public:
  static constexpr const char* kImplementation = "ringkit::MpscQueue<Request, W>";
  explicit RingMailbox(std::size_t capacity) : q_(capacity, ringkit::Overflow::Block) {}

  // Checking closed() and then pushing is a race: a push that passed the check may land after the actor's
  // pop saw "closed and drained" and left, and would never be answered. So every push registers in
  // pushers_ before it checks closed_, and the actor, once it sees closed and drained, waits until no push
  // is registered and drains again (Dekker: P1/P2 here, A1/A2 in pop_batch).
  // The two StoreLoad barriers (P1, A1) are ringkit::detail::store_load_fence(): a seq_cst fence normally,
  // and under ThreadSanitizer (which does not model stand-alone fences; GCC's -Wtsan warns about them) a
  // seq_cst RMW of one process-wide word, which gives the same ordering in a form TSan sees, so the
  // mailbox's TSan runs check this protocol instead of reporting (or missing) races through it.
  std::size_t try_push_batch(std::span<const Request> in) {
    Registration reg(pushers_);  // P1
    if (q_.closed()) return 0;   // P2 (q_.closed() is acquire; the seq_cst fence in Registration orders it)
    // push_batch moves from a span of non-const items; Request is trivially copyable, so this copies.
    return q_.push_batch(std::span<Request>(const_cast<Request*>(in.data()), in.size()));
  }

  std::size_t push_batch(std::span<const Request> in) {
    Registration reg(pushers_);  // P1: covers the blocking push too
    std::size_t done = 0;
    while (done < in.size()) {
      if (q_.closed()) return done;  // P2
      const std::size_t n = q_.push_batch(std::span<Request>(const_cast<Request*>(in.data()) + done, in.size() - done));
      if (n == 0) {
        // Full: wait for space by the queue's strategy with a single blocking push (Closed once closed).
        if (q_.push(in[done]) != ringkit::PushResult::Pushed) return done;
        ++done;
        continue;
      }
      done += n;
    }
    return done;
  }

  std::size_t pop_batch(std::span<Request> out) {
    if (out.empty()) return 0;
    if (q_.pop(out[0])) return 1 + q_.pop_batch(out.subspan(1));
    // Closed and drained, as far as pop() can tell. A1: the close is visible to us (pop saw it), so any
    // push that registered after A2 below sees it too and refuses; wait for the ones registered before.
    ringkit::detail::store_load_fence();  // A1: seq_cst StoreLoad; pairs with the fence in Registration (P1)
    // acquire: pairs with the release in ~Registration(); what those pushes put in is visible.
    while (pushers_.load(std::memory_order_acquire) != 0) std::this_thread::yield();  // A2
    if (q_.try_pop(out[0])) return 1 + q_.pop_batch(out.subspan(1));
    return 0;
  }
  void close() { q_.close(); }

 private:
  struct Registration {
    explicit Registration(std::atomic<std::size_t>& c) noexcept : count(c) {
      count.fetch_add(1, std::memory_order_relaxed);  // relaxed: ordered by the fence below
      ringkit::detail::store_load_fence();  // P1: seq_cst StoreLoad; pairs with A1 in pop_batch()
    }
    ~Registration() { count.fetch_sub(1, std::memory_order_release); }  // release: pairs with A2's acquire
    std::atomic<std::size_t>& count;
  };

  ringkit::MpscQueue<Request, W> q_;
  alignas(ringkit::detail::kFalseSharingRange) std::atomic<std::size_t> pushers_{0};
};

static_assert(Mailbox<ChannelMailbox> && Mailbox<RingMailbox<>>);

}  // namespace rewardpool
