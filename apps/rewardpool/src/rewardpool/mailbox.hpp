#pragma once
// Actor mailboxes: many client threads push requests, the actor thread pops them in batches.
//
//   ChannelMailbox  std::mutex + two std::condition_variable over a bounded circular buffer: the
//                   baseline (Go's buffered channel is this design).
//   RingMailbox<W>  a ringkit ring with wait strategy W: ringkit::Blocking (spin ~20 µs, then futex) or
//                   ringkit::Parking (futex at once); either way an idle actor costs no CPU.
//
// Both are bounded (push blocks when full) and both deliver every request pushed before close() (pop
// drains, then returns 0). Requests are trivially copyable: nothing is allocated per request.
#include <condition_variable>
#include <concepts>
#include <cstdint>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

#include "ringkit/wait_strategy.hpp"
#include "rewardpool/pool.hpp"
#include "ringkit/spsc_queue.hpp"
#if __has_include("ringkit/mpsc_queue.hpp")
#include "ringkit/mpsc_queue.hpp"
#define REWARDPOOL_HAVE_MPSC 1
#else
#define REWARDPOOL_HAVE_MPSC 0
#endif

namespace rewardpool {

struct Reply;

struct Request {
  enum class Kind : std::uint8_t { Draw, Update } kind = Kind::Draw;
  std::uint32_t item = 0;     // Update
  std::int64_t quantity = 0;  // Update
  double weight = 0;          // Update
  Reply* reply = nullptr;     // where the answer goes
};
static_assert(std::is_trivially_copyable_v<Request>);

template <class M>
concept Mailbox = requires(M& m, const Request& r, std::span<Request> out) {
  { m.push(r) } -> std::same_as<bool>;          // any thread; blocks while full; false once closed
  { m.pop_batch(out) } -> std::same_as<std::size_t>;  // the actor; blocks for >= 1; 0 = closed and drained
  m.close();
};

class ChannelMailbox {
 public:
  explicit ChannelMailbox(std::size_t capacity) : buf_(capacity) {}

  bool push(const Request& r) {
    std::unique_lock lock(mu_);
    while (count_ == buf_.size() && !closed_) {
      ++push_waiters_;
      not_full_.wait(lock);
      --push_waiters_;
    }
    if (closed_) return false;
    buf_[(head_ + count_) % buf_.size()] = r;
    ++count_;
    const bool wake = pop_waiting_;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
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

#if REWARDPOOL_HAVE_MPSC
// ringkit's MPSC queue: producers claim slots with one atomic RMW each, no lock.
template <ringkit::WaitStrategy W = ringkit::Blocking>
class RingMailbox {
 public:
  static constexpr const char* kImplementation = "ringkit::MpscQueue<Request, W>";
  explicit RingMailbox(std::size_t capacity) : q_(capacity, ringkit::Overflow::Block) {}
  bool push(const Request& r) { return q_.push(r) == ringkit::PushResult::Pushed; }
  std::size_t pop_batch(std::span<Request> out) {
    if (out.empty() || !q_.pop(out[0])) return 0;
    return 1 + q_.pop_batch(out.subspan(1));
  }
  void close() { q_.close(); }

 private:
  ringkit::MpscQueue<Request, W> q_;
};
#else
// Stand-in until ringkit::MpscQueue lands: the SPSC ring with its producer side serialized by a mutex.
// The consumer (actor) side is the same lock-free ring; producers pay one uncontended-or-not lock.
template <ringkit::WaitStrategy W = ringkit::Blocking>
class RingMailbox {
 public:
  static constexpr const char* kImplementation = "ringkit::SpscQueue<Request, W> + producer mutex";
  explicit RingMailbox(std::size_t capacity) : q_(capacity, ringkit::Overflow::Block) {}
  bool push(const Request& r) {
    std::lock_guard lock(producers_);
    return q_.push(r) == ringkit::PushResult::Pushed;
  }
  std::size_t pop_batch(std::span<Request> out) {
    if (out.empty() || !q_.pop(out[0])) return 0;
    return 1 + q_.pop_batch(out.subspan(1));
  }
  void close() { q_.close(); }

 private:
  std::mutex producers_;
  ringkit::SpscQueue<Request, W> q_;
};
#endif

static_assert(Mailbox<ChannelMailbox> && Mailbox<RingMailbox<>> && Mailbox<RingMailbox<ringkit::Parking>>);

}  // namespace rewardpool
