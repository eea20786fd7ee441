// SPDX-License-Identifier: MIT
#pragma once
// MpscLaneQueue<T, Wait>: a bounded, pre-allocated multi-producer / single-consumer queue in which every
// producer owns a private lane (an SPSC ring) through a Producer handle, and the one consumer drains the
// lanes round-robin. Opt-in alternative to MpscQueue for producers that can hold a handle (the like-for-
// like peer is moodycamel::ConcurrentQueue with a ProducerToken): on the fast path producers never write a
// shared line, so adding producers adds no contention between them (with Blocking, a producer that finds
// the consumer parked writes the shared wake word).
//
//   ringkit::MpscLaneQueue<Event> q(/*max_producers=*/4, /*lane_capacity=*/1024);
//   auto p = q.make_producer();      // one handle per producer thread; throws when all lanes are taken
//   p.push(e);                       // Pushed, or Closed
//   Event out; while (q.pop(out)) {} // the consumer; false once closed and drained
//
// What it gives up against MpscQueue (read before choosing it):
//   * ORDER ACROSS PRODUCERS. FIFO holds per lane, i.e. per Producer handle (a handle's items come out in
//     its push order). Items of different handles interleave arbitrarily: an item pushed after another
//     producer's push returned may still be popped first. MpscQueue pops in global claim order.
//   * CAPACITY IS PER LANE. A producer whose lane is full waits (push) or fails (try_push) even if other
//     lanes are empty; memory is max_producers x lane_capacity slots, allocated up front.
//   * Only Overflow::Block: push() waits for room in its own lane, try_push() fails when it is full.
//   * Producers need a handle (at most max_producers at once). A handle is used by one thread at a time;
//     it may be moved to another thread (the hand-over must be synchronised, e.g. by starting the thread).
//     Destroying a handle frees its lane for a later make_producer(); items left in it are still popped.
//
// Thread roles: Producer functions from the handle's thread; ONE consumer thread at a time for try_pop,
// pop, try_pop_for, pop_batch; make_producer, close, observers from any thread.
//
// Lane protocol (one lane; positions p count items; tail = 2p | closed bit; each slot has a turn word as
// in SlotQueue: 2p = free for p, 2p + 1 = holds the item of p):
//   producer push: w = tail (relaxed: only this producer and close() write it); if w has the closed bit:
//     Closed. If slot p's turn is not 2p (acquire): full. Claim p with CAS(tail: w -> w + 2) (relaxed:
//     only the claim; the CAS fails only because close() set the bit: the push returns Closed, nothing
//     was constructed), construct the item in slot p (nothrow), then publish: turn = 2p + 1 (release).
//     Claim first, construct second: the CAS is a full barrier on x86 and waits for every store before
//     it, so an item stored before it would make the producer wait for its slot's line (which the
//     consumer last wrote) on every push: 64-67 -> 86-120 M items/s at 1 producer (docs/mpmc-results.md).
//   consumer pop: if slot head's turn is 2h + 1 (acquire): move the item out, destroy it, turn =
//     2(h + C) (release: the next lap's producer may construct), head + 1.
//   Slot i of a lane holds positions i, i + C, ...: consecutive positions share a line (no index remap as
//   in SlotQueue, which keeps *different* producers apart; a lane has one producer, and with the remap a
//   consumer right behind its producer met it on every line it wrote: docs/mpmc-results.md).
//   Nobody but the lane's producer and close() touches tail, and the consumer never reads it while the
//   queue is open: the claiming CAS hits a line in the producer's own cache (a locked RMW on a line the
//   consumer had just read stalls the producer for a whole cache-line round trip; the first cut, which
//   published by CAS on a tail the consumer polled, measured 0.2-0.3x MpscQueue: docs/queue-fixes.md "5b").
//   close(): fetch_or(closed bit) on every lane's tail, then closed_ = true (release). A consumer that
//   saw closed_ (acquire) reads every lane's final tail; every push that returned Pushed claimed its
//   position before the fetch_or on that tail, so it lies below the final tail, and pop() returns false
//   only when every lane's head has reached its final tail (waiting out claimed, not yet published
//   slots: one nothrow move and a store). A push whose CAS comes after the fetch_or returns Closed.
//   Model: tests/model/mpsc_lane_close.pml (two producers on two lanes, a closer, the consumer).
// Memory contract: a push's writes happen-before the pop that takes its item (release/acquire on the
// turn); a pop's destruction of an item happens-before the construction of the item that reuses its slot.
#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ringkit/detail/cache_line.hpp"
#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/deadline.hpp"
#include "ringkit/detail/resume_hysteresis.hpp"
#include "ringkit/detail/ring_storage.hpp"
#include "ringkit/detail/role_check.hpp"
#include "ringkit/detail/slot_queue.hpp"  // NothrowQueueElement
#include "ringkit/policy.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringkit {

namespace detail {
// Test hook: runs on the producer's thread after its claiming CAS succeeded and before it publishes, i.e.
// inside the window close() must wait out. An empty inline function unless a test specializes it for an
// item type of its own (tests/mpsc_lane_queue_close_hook_test.cpp), so it costs nothing anywhere else.
template <class T>
struct MpscLaneClaimHook {
  static void after_claim() noexcept {}
};
}  // namespace detail

template <NothrowQueueElement T, WaitStrategy Wait = Yielding>
class MpscLaneQueue {
  // pop() move-assigns its item into the caller's object: that must not throw.
  static_assert(std::is_nothrow_move_assignable_v<T>, "MpscLaneQueue: T must be nothrow move-assignable");

  struct Cell {
    std::atomic<std::uint64_t> turn;  // 2p: free for position p; 2p + 1: holds the item of p
    alignas(T) unsigned char storage[sizeof(T)];
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };
  using Storage = detail::PaddedSlots<Cell>;

  static constexpr std::uint64_t kClosedBit = 1;

  struct alignas(detail::kFalseSharingRange) Lane {
    // ---- the producer's line: written by the lane's producer (CAS) and once by close() (the bit) ----
    std::atomic<std::uint64_t> tail{0};  // 2p | kClosedBit
    [[no_unique_address]] detail::RoleCheck producer_role;
    // ---- the consumer's line: written by the consumer only; read by observers ----
    alignas(detail::kFalseSharingRange) std::atomic<std::uint64_t> head{0};  // 2p
    // ---- rarely written: the handle's claim, the producer's wait ----
    alignas(detail::kFalseSharingRange) std::atomic<bool> owned{false};
    Cell* cells = nullptr;
    alignas(detail::kFalseSharingRange) Wait not_full;
  };

  enum class Try : unsigned char { Pushed, Full, Closed };

 public:
  using value_type = T;
  using wait_strategy = Wait;

  // A producer's handle: owns one lane until destroyed. Move-only.
  class Producer {
   public:
    Producer(Producer&& o) noexcept : q_(std::exchange(o.q_, nullptr)), lane_(std::exchange(o.lane_, nullptr)) {}
    Producer& operator=(Producer&& o) noexcept {
      if (this != &o) {
        release();
        q_ = std::exchange(o.q_, nullptr);
        lane_ = std::exchange(o.lane_, nullptr);
      }
      return *this;
    }
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;
    ~Producer() { release(); }

    // Fails when the lane is full or the queue is closed; value untouched then.
    [[nodiscard]] bool try_push(T&& value) noexcept { return queue().try_push_lane(owned_lane(), std::move(value)) == Try::Pushed; }
    [[nodiscard]] bool try_push(const T& value) { return queue().try_push_lane(owned_lane(), value) == Try::Pushed; }

    // Waits while the lane is full (first a bounded spin until 1/8 of the lane is free, as SlotQueue's push(),
    // then the wait strategy). Pushed, or Closed (value untouched).
    PushResult push(T&& value) { return queue().push_lane(owned_lane(), std::move(value)); }
    PushResult push(const T& value) { return queue().push_lane(owned_lane(), value); }

    // Moves as many leading items of `items` in as the lane has room for, claimed with ONE CAS; returns
    // how many (0 when full or closed; then nothing was moved out of `items`).
    std::size_t push_batch(std::span<T> items) noexcept { return queue().push_batch_lane(owned_lane(), items); }

    // Which lane this handle owns (0 .. max_producers-1): the tests' view of the round-robin.
    [[nodiscard]] std::size_t lane() const noexcept { return static_cast<std::size_t>(&owned_lane() - queue().lanes_.get()); }

   private:
    friend class MpscLaneQueue;
    Producer(MpscLaneQueue* q, Lane* lane) noexcept : q_(q), lane_(lane) {}
    // Precondition of every call: this handle was not moved from (a moved-from handle owns no lane).
    // Checked by assert (debug builds): a clear abort instead of a null dereference.
    // queue() is evaluated before the call's arguments (C++17), so it is the one that checks.
    MpscLaneQueue& queue() const noexcept {
      assert(q_ != nullptr && "MpscLaneQueue::Producer used after it was moved from");
      return *q_;
    }
    Lane& owned_lane() const noexcept {
      assert(lane_ != nullptr && "MpscLaneQueue::Producer used after it was moved from");
      return *lane_;
    }
    void release() noexcept {
      // release: pairs with the acquire CAS in try_make_producer(); the next owner of the lane sees this
      // handle's writes to the lane (its tail, its items' constructions are ordered by the turns anyway).
      if (lane_ != nullptr) lane_->owned.store(false, std::memory_order_release);
      lane_ = nullptr;
    }
    MpscLaneQueue* q_;
    Lane* lane_;
  };

  // max_producers: the number of lanes (handles alive at once), >= 1. lane_capacity: slots per lane, a
  // non-zero power of two. Both checked (std::invalid_argument / std::length_error naming the value).
  MpscLaneQueue(std::size_t max_producers, std::size_t lane_capacity)
      : MpscLaneQueue(max_producers, lane_capacity, detail::StartSequence{}) {}

  // Test hook: every lane's positions start at start.value (mod 2^63), e.g. to exercise the wrap.
  MpscLaneQueue(std::size_t max_producers, std::size_t lane_capacity, detail::StartSequence start)
      : lane_count_(checked_lanes(max_producers)),
        mask_(detail::checked_capacity(lane_capacity, "MpscLaneQueue", Storage::kMaxSlots) - 1),
        lanes_(new Lane[lane_count_]) {
    const std::uint64_t w = start.value << 1;  // 2p (mod 2^64): position start.value mod 2^63
    try {
      for (std::size_t i = 0; i < lane_count_; ++i) lanes_[i].cells = Storage::allocate(lane_capacity);
    } catch (...) {
      free_cells();
      throw;
    }
    for (std::size_t i = 0; i < lane_count_; ++i) {
      // relaxed (all): construction precedes sharing the queue.
      lanes_[i].tail.store(w, std::memory_order_relaxed);
      lanes_[i].head.store(w, std::memory_order_relaxed);
      for (std::uint64_t k = 0; k < lane_capacity; ++k) {
        Cell* c = ::new (static_cast<void*>(cell(lanes_[i], w + 2 * k))) Cell;
        c->turn.store(w + 2 * k, std::memory_order_relaxed);
      }
    }
  }

  MpscLaneQueue(const MpscLaneQueue&) = delete;
  MpscLaneQueue& operator=(const MpscLaneQueue&) = delete;

  // Destroys the items still inside. Must not race with any other call; no Producer handle may outlive it.
  ~MpscLaneQueue() {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      Lane& l = lanes_[i];
      // relaxed (both): the destructor is ordered after every other thread's last call.
      const std::uint64_t t = l.tail.load(std::memory_order_relaxed) & ~kClosedBit;
      for (std::uint64_t h = l.head.load(std::memory_order_relaxed); h != t; h += 2) {
        Cell* c = cell(l, h);
        if (c->turn.load(std::memory_order_relaxed) == h + 1) c->item()->~T();  // relaxed: as above
      }
    }
    free_cells();
  }

  // ---- handles (any thread) ----------------------------------------------------------------------
  // A handle on a free lane, or nothing when max_producers handles are alive. Allowed after close() (its
  // pushes return Closed).
  [[nodiscard]] std::optional<Producer> try_make_producer() noexcept {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      bool expected = false;
      // acquire: pairs with the release in Producer::release() of the lane's previous owner. relaxed on
      // failure: nothing is read.
      if (!lanes_[i].owned.load(std::memory_order_relaxed) &&  // relaxed: a hint; the CAS decides
          lanes_[i].owned.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
        return Producer(this, &lanes_[i]);
      }
    }
    return std::nullopt;
  }
  // As try_make_producer(), but throws std::length_error when every lane has a live handle.
  [[nodiscard]] Producer make_producer() {
    if (auto p = try_make_producer()) return std::move(*p);
    throw std::length_error("MpscLaneQueue: all " + std::to_string(lane_count_) +
                            " lanes have a live Producer handle (max_producers)");
  }

  // ---- observers (any thread) --------------------------------------------------------------------
  [[nodiscard]] std::size_t max_producers() const noexcept { return lane_count_; }
  [[nodiscard]] std::size_t lane_capacity() const noexcept { return static_cast<std::size_t>(mask_) + 1; }
  [[nodiscard]] std::size_t capacity() const noexcept { return lane_count_ * lane_capacity(); }
  // Racy snapshot: items claimed and not yet popped, summed over the lanes.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < lane_count_; ++i) {
      // relaxed (both): a snapshot that orders nothing; clamped below.
      const std::uint64_t h = lanes_[i].head.load(std::memory_order_relaxed);
      const std::uint64_t t = lanes_[i].tail.load(std::memory_order_relaxed) & ~kClosedBit;
      const auto d = static_cast<std::int64_t>(t - h) >> 1;
      n += d <= 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(d), lane_capacity());
    }
    return n;
  }
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }  // racy snapshot
  [[nodiscard]] bool closed() const noexcept {
    return closed_.load(std::memory_order_acquire);  // acquire: pairs with the release in close()
  }

  // ---- consumer (one thread at a time) -----------------------------------------------------------
  // Takes the next item of the current lane; moves on to the next lane when the current one is empty or
  // has given kBurst items in a row (so one busy producer cannot starve the others). False when every
  // lane was empty during the scan.
  [[nodiscard]] bool try_pop(T& out) noexcept {
    detail::RoleCheck::Scope role(consumer_role_, "consumer");
    for (std::size_t k = 0; k < lane_count_; ++k) {
      if (take_one(lanes_[cursor_], out)) {
        if (++burst_ == kBurst) advance();
        return true;
      }
      advance();
    }
    return false;
  }

  // Waits for an item per the wait strategy; false once the queue is closed and drained.
  bool pop(T& out) {
    return pop_impl(out, std::chrono::steady_clock::time_point::max());
  }
  template <class Rep, class Period>
  bool try_pop_for(T& out, std::chrono::duration<Rep, Period> timeout) {
    return pop_impl(out, detail::deadline_after(timeout));
  }

  // Moves up to out.size() items into `out`: runs from each lane in turn (one head store per run), at
  // most one scan over the lanes; returns how many. Per-lane order is kept.
  std::size_t pop_batch(std::span<T> out) noexcept {
    detail::RoleCheck::Scope role(consumer_role_, "consumer");
    std::size_t n = 0;
    for (std::size_t k = 0; k < lane_count_ && n < out.size(); ++k) {
      n += take_run(lanes_[cursor_], out.subspan(n));
      advance();
    }
    return n;
  }

  // ---- shutdown (any thread) ---------------------------------------------------------------------
  // After close() every push returns Closed (try_push false, push_batch 0); pop() drains what was pushed,
  // then returns false. Whichever thread calls it: once pop() returned false, every push that returned
  // Pushed has had its item returned by a pop().
  void close() noexcept {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      // relaxed RMW: the lane's claiming CAS fails from now on (its expected value lacks the bit). The
      // consumer sees every lane's final tail through closed_: this RMW, then closed_'s release store below,
      // then the acquire in closed().
      lanes_[i].tail.fetch_or(kClosedBit, std::memory_order_relaxed);
    }
    // release: pairs with the acquire in closed(); whoever sees the flag reads every lane's final tail.
    closed_.store(true, std::memory_order_release);
    not_empty_.notify_all();
    for (std::size_t i = 0; i < lane_count_; ++i) lanes_[i].not_full.notify_all();
  }

 private:
  static constexpr unsigned kBurst = 256;  // items taken from one lane before the consumer moves on

  static std::size_t checked_lanes(std::size_t n) {
    if (n == 0) throw std::invalid_argument("MpscLaneQueue: max_producers must be at least 1, got 0");
    if (n > (std::size_t{1} << 16)) {
      throw std::invalid_argument("MpscLaneQueue: max_producers " + std::to_string(n) + " is larger than 65536");
    }
    return n;
  }
  void free_cells() noexcept {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      if (lanes_[i].cells != nullptr) Storage::deallocate(lanes_[i].cells, lane_capacity());
      lanes_[i].cells = nullptr;
    }
  }
  // Position p lives in cell p & mask, consecutive positions side by side (no remap: "Lane protocol" above).
  Cell* cell(const Lane& l, std::uint64_t word) const noexcept {
    return &l.cells[static_cast<std::size_t>((word >> 1) & mask_)];
  }
  void advance() noexcept {
    burst_ = 0;
    if (++cursor_ == lane_count_) cursor_ = 0;
  }

  // ---- producer side ----
  // Slot of position word w is free for it (the item one lap earlier was taken and destroyed).
  bool slot_free(Lane& l, std::uint64_t w) const noexcept {
    // acquire: pairs with the release of the turn in take_one()/take_run(): the old item's destruction
    // happens-before we construct into the slot.
    return cell(l, w)->turn.load(std::memory_order_acquire) == w;
  }
  // Free slots from w on, counting at most `want` (consecutive free turns).
  std::size_t room(Lane& l, std::uint64_t w, std::size_t want) const noexcept {
    const std::size_t limit = std::min<std::size_t>(want, lane_capacity());
    std::size_t k = 0;
    while (k < limit && slot_free(l, w + 2 * k)) ++k;
    return k;
  }
  // Publishes the item in the slot of position word w.
  static void publish(Cell* c, std::uint64_t w) noexcept {
    // release: publishes the constructed item; pairs with the acquire of the turn in item_at().
    c->turn.store(w + 1, std::memory_order_release);
  }

  template <class V>
  Try try_push_lane(Lane& l, V&& value) noexcept(std::is_nothrow_constructible_v<T, V&&>) {
    if constexpr (!std::is_nothrow_constructible_v<T, V&&>) {
      // A copy that may throw is made outside the lane, only when it can go in.
      // relaxed: the lane's own tail (only this producer and close() write it).
      const std::uint64_t w = l.tail.load(std::memory_order_relaxed);
      if ((w & kClosedBit) != 0) return Try::Closed;
      if (!slot_free(l, w)) return Try::Full;
      T item(std::forward<V>(value));
      return try_push_lane(l, std::move(item));
    } else {
      detail::RoleCheck::Scope role(l.producer_role, "producer");
      // relaxed: the lane's own tail (only this producer and close() write it); the CAS below validates.
      const std::uint64_t w = l.tail.load(std::memory_order_relaxed);
      if ((w & kClosedBit) != 0) return Try::Closed;
      if (!slot_free(l, w)) return Try::Full;
      std::uint64_t expected = w;
      // relaxed (both): claims position w against close() only (nobody else writes tail); the item is
      // ordered by the turn in publish(). Before the construction ("Lane protocol": claim first).
      if (!l.tail.compare_exchange_strong(expected, w + 2, std::memory_order_relaxed, std::memory_order_relaxed)) {
        return Try::Closed;  // nothing constructed: the caller's value is untouched
      }
      detail::MpscLaneClaimHook<T>::after_claim();
      Cell* c = cell(l, w);
      ::new (static_cast<void*>(c->storage)) T(std::forward<V>(value));  // nothrow (this branch)
      publish(c, w);
      not_empty_.notify();
      return Try::Pushed;
    }
  }

  template <class V>
  PushResult push_lane(Lane& l, V&& value) {
    bool resumed_once = false;  // the hysteresis phase runs at most once per push()
    for (;;) {
      switch (try_push_lane(l, std::forward<V>(value))) {  // a failed try leaves value intact
        case Try::Pushed: return PushResult::Pushed;
        case Try::Closed: return PushResult::Closed;
        case Try::Full: break;
      }
      if (!resumed_once) {
        resumed_once = true;
        // As SlotQueue's push(): resume when lane_capacity/8 is free (bounded spin, never parks;
        // detail/resume_hysteresis.hpp), so a full lane does not move its lines once per item.
        // relaxed (both loads): an estimate; the slot's turn decides.
        detail::ResumeHysteresis::wait(
            detail::ResumeHysteresis::threshold(lane_capacity()),
            [&] {
              const std::uint64_t t = l.tail.load(std::memory_order_relaxed) & ~kClosedBit;
              const auto used = static_cast<std::int64_t>(t - l.head.load(std::memory_order_relaxed)) >> 1;
              return used <= 0 ? lane_capacity() : lane_capacity() - std::min<std::size_t>(static_cast<std::size_t>(used), lane_capacity());
            },
            [&] { return l.head.load(std::memory_order_relaxed); },  // relaxed: progress only
            [&] { return closed(); });
        continue;
      }
      l.not_full.wait([&] {
        // relaxed: the own tail. The acquire is slot_free()'s load of the slot's turn (pairs with the consumer's
        // release of the slot).
        const std::uint64_t w = l.tail.load(std::memory_order_relaxed);
        return (w & kClosedBit) != 0 || closed() || slot_free(l, w);
      });
    }
  }

  std::size_t push_batch_lane(Lane& l, std::span<T> items) noexcept {
    detail::RoleCheck::Scope role(l.producer_role, "producer");
    if (items.empty()) return 0;
    // relaxed: the own tail; the CAS below validates.
    const std::uint64_t w = l.tail.load(std::memory_order_relaxed);
    if ((w & kClosedBit) != 0) return 0;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(items.size(), room(l, w, items.size())));
    if (n == 0) return 0;
    std::uint64_t expected = w;
    // relaxed (both): claims the n positions against close() only, as in try_push_lane() (claim first).
    if (!l.tail.compare_exchange_strong(expected, w + 2 * n, std::memory_order_relaxed, std::memory_order_relaxed)) {
      return 0;  // closed: nothing moved, every item is still in `items`
    }
    detail::MpscLaneClaimHook<T>::after_claim();
    for (std::size_t i = 0; i < n; ++i) {
      Cell* c = cell(l, w + 2 * i);
      ::new (static_cast<void*>(c->storage)) T(std::move(items[i]));  // nothrow: NothrowQueueElement
      publish(c, w + 2 * i);
    }
    // One wake whatever n: the one consumer is the only thread that waits on not_empty_ (MpmcQueue's
    // reason to wake all for a batch, several consumers for several items, does not arise here).
    not_empty_.notify();
    return n;
  }

  // ---- consumer side ----
  // The slot of position word h, if it holds the item of h.
  Cell* item_at(const Lane& l, std::uint64_t h) const noexcept {
    Cell* c = cell(l, h);
    // acquire: pairs with the release in publish(): the item's construction is visible.
    return c->turn.load(std::memory_order_acquire) == h + 1 ? c : nullptr;
  }
  // Frees the slot of position word h for the producer of h + C (one lap later).
  void release(Cell* c, std::uint64_t h) const noexcept {
    // release: pairs with the acquire in slot_free(): our destruction happens-before its construction.
    c->turn.store(h + 2 * lane_capacity(), std::memory_order_release);
  }

  bool take_one(Lane& l, T& out) noexcept {
    const std::uint64_t h = l.head.load(std::memory_order_relaxed);  // relaxed: only the consumer writes head
    Cell* c = item_at(l, h);
    if (c == nullptr) return false;
    T* item = c->item();
    out = std::move(*item);
    item->~T();
    release(c, h);
    l.head.store(h + 2, std::memory_order_relaxed);  // relaxed: the consumer's own index; observers take a snapshot
    l.not_full.notify();
    return true;
  }

  std::size_t take_run(Lane& l, std::span<T> out) noexcept {
    const std::uint64_t h = l.head.load(std::memory_order_relaxed);  // relaxed: only the consumer writes head
    const std::size_t limit = std::min<std::size_t>(out.size(), lane_capacity());
    std::size_t n = 0;
    for (; n < limit; ++n) {
      Cell* c = item_at(l, h + 2 * n);
      if (c == nullptr) break;
      T* item = c->item();
      out[n] = std::move(*item);
      item->~T();
      release(c, h + 2 * n);
    }
    if (n != 0) {
      l.head.store(h + 2 * n, std::memory_order_relaxed);  // relaxed: as in take_one()
      l.not_full.notify();
    }
    return n;
  }

  // True if some lane's next slot holds an item (the consumer's wake-up predicate).
  bool item_ready() const noexcept {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      // relaxed: head is the consumer's own. item_at() acquires (the Blocking strategy's W4 reads it).
      if (item_at(lanes_[i], lanes_[i].head.load(std::memory_order_relaxed)) != nullptr) return true;
    }
    return false;
  }

  // After closed_ was seen: every position claimed in any lane has been popped.
  bool lanes_drained() const noexcept {
    for (std::size_t i = 0; i < lane_count_; ++i) {
      // relaxed (both): the tail read here is final (close()'s fetch_or happens-before, via closed_);
      // head is the consumer's own. The items are ordered by the turns, not by these loads.
      if ((lanes_[i].tail.load(std::memory_order_relaxed) & ~kClosedBit) != lanes_[i].head.load(std::memory_order_relaxed)) {
        return false;
      }
    }
    return true;
  }

  bool pop_impl(T& out, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (try_pop(out)) return true;
      if (closed()) {
        // Drain: every lane's tail is final now (close() set the bits first). Positions below it whose
        // producer has claimed but not yet published are one nothrow move and a store away.
        for (unsigned spins = 0;;) {
          if (try_pop(out)) return true;
          if (lanes_drained()) return false;
          detail::short_backoff(spins);
        }
      }
      if (!not_empty_.wait_until([&] { return closed() || item_ready(); }, deadline)) return try_pop(out);
    }
  }

  const std::size_t lane_count_;
  const std::uint64_t mask_;
  std::unique_ptr<Lane[]> lanes_;
  // ---- the consumer's own state ----
  alignas(detail::kFalseSharingRange) std::size_t cursor_ = 0;  // the lane the consumer takes from
  unsigned burst_ = 0;                                         // items taken from it in a row
  [[no_unique_address]] detail::RoleCheck consumer_role_;
  // ---- rarely written ----
  alignas(detail::kFalseSharingRange) std::atomic<bool> closed_{false};  // set after every lane's bit
  alignas(detail::kFalseSharingRange) Wait not_empty_;
};

}  // namespace ringkit
