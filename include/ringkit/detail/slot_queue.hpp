// SPDX-License-Identifier: MIT
#pragma once
// SlotQueue<T, Wait, kMultiConsumer>: the bounded, pre-allocated, per-slot-turn ring behind MpscQueue
// (kMultiConsumer = false) and MpmcQueue (true). Read docs/mpmc-design.md for the full argument; the
// short form, which the code below follows line by line:
//
// Slot protocol (Vyukov's bounded MPMC queue, with rigtorp's turn encoding so capacity 1 works)
//   Positions are 63-bit and never reset (they wrap modulo 2^63, all arithmetic is modular); position p
//   lives in slot index(p) = remap(p & mask). The index words hold 2p: tail_ = 2t | closed, head_ = 2h.
//   Each slot has one atomic word `turn`. For position p:
//       turn == 2p      the slot is free for the producer of p        ("empty for p")
//       turn == 2p + 1  the slot holds the item of p                  ("full for p")
//   A producer claims p with CAS(tail: p -> p+1) only after it saw turn == 2p (acquire), constructs the
//   item, then stores turn = 2p + 1 (release). A consumer claims p with CAS(head: p -> p+1) (single
//   consumer: a plain store) only after it saw turn == 2p + 1 (acquire), moves the item out, destroys it,
//   then stores turn = 2(p + C) (release) = "empty for p + C", the next position to use the slot.
//   Vyukov's original uses p / p+1 / p+C; at C = 1 "full for p" (p+1) equals "empty for p+1" (p+1 + 0)
//   and a second producer would overwrite an unread item. 2p / 2p+1 / 2(p+C) are pairwise distinct for
//   every C >= 1, and x -> 2x is linear mod 2^64, so the encoding survives the 64-bit wrap (a turn
//   names a position mod 2^63; live turns are at most two laps apart).
//
// Ownership: the winner of the CAS on tail (head) for p is the only thread that writes (reads) slot p's
// item, and the only one that stores the next turn value; every other thread only reads the turn.
// Nobody decides ownership by comparing indexes with each other.
//
// close() sets the closed bit in the tail word (one fetch_or). Every claim is a CAS on that word from a
// value with the bit clear, so after close() no position can be claimed: try_push/push_batch fail and
// push() returns Closed. A consumer that saw the bit knows every position that will ever be claimed
// (those below tail), so pop() returns false only once all of them were consumed: a push that
// returned Pushed claimed its position before the bit was set, and its item is returned by a pop()
// (MpmcQueue: by the consumer that claimed it). No extra cost: the claiming CAS was there already.
//
// Memory contract
//   * A push publishes with a release store of the turn; the pop that takes that item acquires it:
//     every write the producer made before the push happens-before everything the consumer does after.
//   * A pop frees a slot with a release store of the turn; the producer that reuses the slot acquires
//     it: the old item's destruction happens-before the new item's construction.
//   * Not lock-free in the strict sense, and try_* may fail spuriously (below): a producer or consumer
//     stopped between its claim and its publish holds up the positions behind it, as in Vyukov's queue.
//     FIFO holds in claim order: items are consumed in the order their producers won the tail CAS, so
//     one producer's items come out in its push order; items of different producers interleave by
//     claim order. Under DropOldest some items are evicted instead, in the same order. Under SpillToDisk
//     (SpillingMpscQueue/SpillingMpmcQueue) FIFO holds per producer (docs/mpmc-design.md, "Spill").
//
// Overflow layers: the template parameter Layer adds overflow handling that lives outside the ring.
// NoSpill (MpscQueue, MpmcQueue) adds nothing: every hook below is a compile-time constant, so the plain
// queues compile no spill, file or mutex code. SpillLayer<T> (detail/spill_layer.hpp, included by
// ringkit/spilling_queue.hpp) is the Overflow::SpillToDisk layer. The ring calls a layer at six points,
// and only when Layer::kSpills:
//   blocks_ring()         producer try paths: refuse the ring while the layer holds items (FIFO)
//   push(ring, v)         push() under Overflow::SpillToDisk
//   take(ring, deliver)   consumer paths, after the ring came up empty
//   readable(ring)        the consumer's wake-up hint
//   drained_after_close() the close/drain protocol of pop() and wait_for_not_empty()
//   add_stats(s)          stats()
// A layer reaches the ring through emplace_ring(), tail_closed(), ring_drained() and the two wait
// strategies (it is the ring's friend).
//
// When try_* fails although the queue is not full/empty (the only spurious failures):
//   * try_pop / pop_batch fail while the slot at head was claimed by a producer that has not yet
//     published it, even if later slots are already full (a preempted producer delays the consumer);
//   * try_push / push_batch fail while the slot at tail still holds, or is being emptied of, the item
//     one lap earlier, i.e. a consumer claimed it but has not finished moving it out.
//   Both states last as long as one non-throwing move plus a store; blocking push()/pop() wait them out.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringkit/detail/cache_line.hpp"
#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/deadline.hpp"
#include "ringkit/detail/resume_hysteresis.hpp"
#include "ringkit/detail/noinline.hpp"
#include "ringkit/detail/ring_storage.hpp"
#include "ringkit/detail/role_check.hpp"
#include "ringkit/detail/sharded_counter.hpp"
#include "ringkit/policy.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringkit {

// What MpscQueue/MpmcQueue accept: a claimed multi-producer slot cannot be given back, so moving an item
// into (and out of) a slot must not throw, and neither may destroying it (DropOldest destroys items on
// the producer's thread).
template <class T>
concept NothrowQueueElement = std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
                              std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>;

namespace detail {

// Stands in for RoleCheck::Scope where a role may be shared (MpmcQueue's consumers).
struct SharedRoleScope {
  constexpr SharedRoleScope(RoleCheck&, const char*) noexcept {}
};

// The overflow layer of the plain queues: nothing beyond the ring (see "Overflow layers" above).
struct NoSpill {
  static constexpr bool kSpills = false;
};

template <class T, WaitStrategy Wait, bool kMultiConsumer, class Layer = NoSpill>
class SlotQueue {
  static_assert(NothrowQueueElement<T>);
  static constexpr bool kSpills = Layer::kSpills;
  static constexpr const char* kName = kSpills ? (kMultiConsumer ? "SpillingMpmcQueue" : "SpillingMpscQueue")
                                               : (kMultiConsumer ? "MpmcQueue" : "MpscQueue");
  friend Layer;  // the layer's hooks use emplace_ring(), tail_closed(), ring_drained() and the waits
  // MpscQueue: builds with RINGKIT_CHECK_ROLES abort if two threads are in consumer functions at once (RoleCheck).
  using ConsumerScope = std::conditional_t<kMultiConsumer, SharedRoleScope, RoleCheck::Scope>;

 public:
  using value_type = T;
  using wait_strategy = Wait;

  // capacity: a non-zero power of two, else std::invalid_argument naming the value.
  // overflow: what push() does when the ring is full. SpillToDisk needs a spilling queue
  // (ringkit/spilling_queue.hpp) built with SpillOptions.
  explicit SlotQueue(std::size_t capacity, Overflow overflow = Overflow::Block)
      : SlotQueue(capacity, overflow, StartSequence{}) {}

  SlotQueue(std::size_t capacity, Overflow overflow, StartSequence start)
      : SlotQueue(capacity, overflow, start, Layer{}) {
    if (overflow == Overflow::SpillToDisk) {
      throw std::invalid_argument(
          std::string(kName) +
          (kSpills ? ": Overflow::SpillToDisk needs a directory (and a codec): construct with SpillOptions, "
                     "e.g. q(capacity, ringkit::SpillOptions{.directory = dir})"
                   : ": Overflow::SpillToDisk needs a spilling queue: use ringkit::Spilling" +
                         std::string(kMultiConsumer ? "MpmcQueue" : "MpscQueue") +
                         " (ringkit/spilling_queue.hpp) constructed with SpillOptions"));
    }
  }

  SlotQueue(const SlotQueue&) = delete;
  SlotQueue& operator=(const SlotQueue&) = delete;

  // Destroys every item still inside (ring and spill file). Must not race with any other call.
  ~SlotQueue() {
    // relaxed (all): the destructor is already ordered after every other thread's last call.
    const std::uint64_t t = pos_of(tail_.load(std::memory_order_relaxed));
    for (std::uint64_t p = pos_of(head_.load(std::memory_order_relaxed)); p != t; p = wrap(p + 1)) {
      Slot& s = slot(p);
      if (s.turn.load(std::memory_order_relaxed) == full_turn(p)) s.item()->~T();  // relaxed: as above
    }
    Storage::deallocate(slots_, capacity());
  }

  // ---- observers (any thread) -------------------------------------------------------------------
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_) + 1; }

  // Approximate: items claimed in the ring (including ones still being written or read) at some moment
  // during the call; never above capacity(). Items in a spill file are not counted (spill_pending()).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // head_ is written with relaxed CASes, so nothing orders the two loads against each other: a
    // snapshot may see t < h (briefly, on a weakly ordered machine). Clamp the signed difference to
    // [0, capacity]. relaxed (both): a snapshot that orders nothing.
    const std::uint64_t h = pos_of(head_.load(std::memory_order_relaxed));
    const std::uint64_t t = pos_of(tail_.load(std::memory_order_relaxed));
    const std::int64_t d = pdiff(t, h);
    return d <= 0 ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(d), capacity()));
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_approx(); }  // the same racy snapshot
  [[nodiscard]] std::size_t available() const noexcept { return capacity() - size_approx(); }  // racy snapshot
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }   // racy snapshot
  [[nodiscard]] bool full() const noexcept { return size_approx() == capacity(); }  // racy snapshot
  [[nodiscard]] Overflow overflow() const noexcept { return overflow_; }
  // Reads a flag on a read-mostly line (not the producers' tail line, which a polling consumer would
  // otherwise keep stealing). Once it reads true, the closed bit is in tail_ too (close() sets the bit
  // first).
  [[nodiscard]] bool closed() const noexcept {
    return closed_.load(std::memory_order_acquire);  // acquire: pairs with the release in close()
  }

  [[nodiscard]] QueueStats stats() const noexcept {
    QueueStats s;
    // Derived from the indexes, so a push or pop writes no counter at all (docs/mpmc-design.md, Metrics).
    s.evicted = evicted_.load();
    s.dropped = dropped_.load();
    s.blocked_waits = blocked_.load();
    const std::uint64_t h = pos_of(head_.load(std::memory_order_relaxed));  // relaxed: a snapshot (size_approx())
    const std::uint64_t t = pos_of(tail_.load(std::memory_order_relaxed));  // relaxed: as above
    s.pushed = wrap(t - start_);
    const std::uint64_t taken = wrap(h - start_);  // popped + evicted
    s.popped = taken >= s.evicted ? taken - s.evicted : 0;
    if constexpr (kSpills) layer_.add_stats(s);
    s.high_water = high_water_.load(std::memory_order_relaxed);  // relaxed: a monotonic statistic
    return s;
  }

  // ---- producer (any number of threads) ---------------------------------------------------------
  [[nodiscard]] bool try_push(const T& value) { return try_emplace(value); }
  [[nodiscard]] bool try_push(T&& value) noexcept { return try_emplace(std::move(value)); }

  // Never applies the overflow policy and never spills: fails when the ring is full (or spuriously, see
  // the header comment) or the queue is closed, and under SpillToDisk also while the spill holds items
  // (going around them would break per-producer FIFO). If constructing T from args may throw, T is built first, outside the ring,
  // so a throw leaves the queue untouched; the item is then moved in (nothrow).
  template <class... Args>
    requires std::is_constructible_v<T, Args&&...>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    if (layer_blocks_ring()) return false;
    return emplace_ring(std::forward<Args>(args)...);
  }

  // Blocking push: applies the overflow policy. Returns Pushed, Dropped (DropNewest; value untouched),
  // Spilled (SpillToDisk; value untouched, a copy is in the spill file), Closed (value untouched) or
  // Error (SpillToDisk I/O failure; value untouched; see last_error()). DropOldest ends Pushed, evicting
  // at most the one oldest item whose slot it needs (only after its own insert is certain), or Closed
  // (evicting nothing).
  // The first try is inlined here (push_impl() stays out of line): the same first step push_impl() takes
  // under Block and DropNewest, without its call frame (docs/mpmc-results.md, "2026-12-03").
  PushResult push(const T& value) {
    if (ring_first() && emplace_ring(value)) return PushResult::Pushed;
    return push_impl(value, std::chrono::steady_clock::time_point::max());
  }
  PushResult push(T&& value) {
    if (ring_first() && emplace_ring(std::move(value))) return PushResult::Pushed;  // a failed try leaves value intact
    return push_impl(std::move(value), std::chrono::steady_clock::time_point::max());
  }

  // Blocking emplace: builds a T from args (outside the ring), then push()es it.
  template <class... Args>
    requires std::is_constructible_v<T, Args&&...>
  PushResult emplace(Args&&... args) {
    return push(T(std::forward<Args>(args)...));
  }

  // As push(), but a Block wait gives up after `timeout` with PushResult::TimedOut (value untouched).
  template <class Rep, class Period>
  PushResult try_push_for(T&& value, std::chrono::duration<Rep, Period> timeout) {
    return push_impl(std::move(value), detail::deadline_after(timeout));
  }
  template <class Rep, class Period>
  PushResult try_push_for(const T& value, std::chrono::duration<Rep, Period> timeout) {
    return push_impl(value, detail::deadline_after(timeout));
  }

  // Moves as many leading items of `items` in as there are free slots (at most capacity()); returns how
  // many (0 once closed). The whole run is reserved with ONE CAS on tail: the scan first checks that each slot of the run
  // is free for its position, then the CAS claims them all (docs/mpmc-design.md, "Batches"). Never
  // spills or evicts. The moved-from items stay in `items`.
  std::size_t push_batch(std::span<T> items) noexcept {
    if (layer_blocks_ring()) return 0;
    std::uint64_t pos = 0;
    const std::size_t n = claim_push_run(items.size(), pos);
    for (std::size_t i = 0; i < n; ++i) {
      Slot& s = slot(pos + i);
      ::new (static_cast<void*>(s.storage)) T(std::move(items[i]));
      // release: publishes this slot; pairs with the acquire in claim_pop()/claim_pop_run().
      s.turn.store(full_turn(pos + i), std::memory_order_release);
    }
    if (n != 0) {
      note_size(pos + n - 1);
      notify_items(not_empty_, n);
    }
    return n;
  }

  // ---- consumer (MpscQueue: one thread at a time; MpmcQueue: any number) -----------------------
  // Fails when the ring is empty (or spuriously, see the header comment) and nothing waits in the spill.
  [[nodiscard]] bool try_pop(T& out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    ConsumerScope role(consumer_role_, "consumer");
    std::uint64_t pos = 0;
    if (Slot* s = claim_pop(pos)) {
      T* item = s->item();
      out = std::move(*item);
      item->~T();
      release_slot(*s, pos);
      hand_on_spill();
      return true;
    }
    return take_from_layer([&](T&& v) noexcept { out = std::move(v); });
  }

  [[nodiscard]] std::optional<T> try_pop() {
    ConsumerScope role(consumer_role_, "consumer");
    std::uint64_t pos = 0;
    if (Slot* s = claim_pop(pos)) {
      T* item = s->item();
      std::optional<T> out(std::move(*item));
      item->~T();
      release_slot(*s, pos);
      hand_on_spill();
      return out;
    }
    std::optional<T> out;
    (void)take_from_layer([&](T&& v) noexcept { out.emplace(std::move(v)); });
    return out;
  }

  // Blocking pop: waits for an item per the wait strategy; false once the queue is closed and drained
  // (ring and spill). An item whose producer claimed its slot before close() is still delivered.
  bool pop(T& out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    // pop_impl()'s first step, inlined (as in push()); pop_impl() tries again before it waits.
    if (try_pop(out)) return true;
    return pop_impl(out, std::chrono::steady_clock::time_point::max());
  }

  template <class Rep, class Period>
    requires std::is_nothrow_move_assignable_v<T>
  bool try_pop_for(T& out, std::chrono::duration<Rep, Period> timeout) {
    return pop_impl(out, detail::deadline_after(timeout));
  }

  // Moves up to out.size() of the oldest items into `out` (move-assignment); returns how many. Ring items
  // are claimed as one run with one CAS on head (one plain store for a single consumer); when the ring is
  // empty it reads from the spill file instead.
  std::size_t pop_batch(std::span<T> out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    std::size_t k = 0;  // take_batch() hands items over in order: out[0..k)
    return take_batch(out.size(), [&](T&& v) noexcept { out[k++] = std::move(v); });
  }

  // Allocation-free batch consumer: calls fn(T&&) on up to `max` of the oldest items, in order, each
  // straight from its slot, and returns how many it handed over. The ring run is claimed up front with
  // one CAS and cannot be given back, so fn must be noexcept (checked at compile time).
  template <class Fn>
    requires std::is_invocable_v<Fn&, T&&>
  std::size_t take_batch(std::size_t max, Fn&& fn) {
    static_assert(std::is_nothrow_invocable_v<Fn&, T&&>,
                  "take_batch: the callback must be noexcept (a claimed run of slots cannot be given back)");
    ConsumerScope role(consumer_role_, "consumer");
    std::uint64_t pos = 0;
    const std::size_t n = claim_pop_run(max, pos);
    for (std::size_t i = 0; i < n; ++i) {
      Slot& s = slot(pos + i);
      fn(std::move(*s.item()));
      s.item()->~T();
      release_slot_quietly(s, pos + i);
    }
    if (n != 0) notify_items(not_full_, n);  // once per run, after every slot of it is free
    if (n != 0) hand_on_spill();
    if constexpr (!kSpills) {
      return n;
    } else {
      if (n != 0) return n;
      std::size_t k = 0;
      try {
        while (k < max && take_from_layer([&](T&& v) noexcept { fn(std::move(v)); })) ++k;
      } catch (...) {
        if (k == 0) throw;  // nothing handed over: the caller loses nothing by the exception
        // fn has k items already: report them. The record that threw is still next (the layer's take()
        // consumes nothing when it throws), so the next call meets the error again.
      }
      return k;
    }
  }

  // SpscQueue's consume(), spelled the same: calls fn(T&) on up to `max` of the oldest items, in order,
  // in place, then destroys each; returns how many. As take_batch(), the run is claimed up front and
  // cannot be given back, so fn must be noexcept (SpscQueue's consume() lets fn throw).
  template <class Fn>
    requires std::is_invocable_v<Fn&, T&>
  std::size_t consume(std::size_t max, Fn&& fn) {
    static_assert(std::is_nothrow_invocable_v<Fn&, T&>,
                  "consume: the callback must be noexcept (a claimed run of slots cannot be given back)");
    return take_batch(max, [&fn](T&& item) noexcept { fn(item); });
  }

  // Convenience: as take_batch(min(max, capacity()), fn) into a new std::vector. ALLOCATES (the vector);
  // use the callback form or pop_batch() on a hot path.
  [[nodiscard]] std::vector<T> take_batch(std::size_t max) {
    const std::size_t limit = std::min(max, capacity());
    std::vector<T> items;
    items.reserve(limit);  // before anything is claimed: a bad_alloc here leaves the queue untouched
    (void)take_batch(limit, [&](T&& v) noexcept { items.push_back(std::move(v)); });  // within reserve(): no throw
    return items;
  }

  // ---- blocking batch calls: the wait strategy's waits with the batch paths' speed ----------------
  // Producer: moves as many leading items of `items` in as there are free slots, waiting (by the wait
  // strategy) until at least one fits; returns how many (>= 1), or 0 once closed (or when `items` is
  // empty). As push_batch() otherwise: never spills or evicts (under SpillToDisk it waits while the
  // spill holds items).
  std::size_t push_batch_wait(std::span<T> items) {
    if (items.empty()) return 0;
    for (;;) {
      const std::size_t n = push_batch(items);
      if (n != 0) return n;
      if (tail_closed()) return 0;
      not_full_.wait([&] { return closed() || (!layer_blocks_ring() && slot_free_hint()); });
    }
  }

  // Consumer: moves up to out.size() of the oldest items into `out`, waiting until at least one
  // arrives; returns how many (>= 1), or 0 once the queue is closed and drained (where pop() would
  // return false). The first item is taken as pop() takes it, the rest as pop_batch() does.
  std::size_t pop_batch_wait(std::span<T> out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    if (out.empty() || !pop_impl(out[0], std::chrono::steady_clock::time_point::max())) return 0;
    std::size_t n = 1;
    try {
      n += pop_batch(out.subspan(1));
    } catch (...) {  // a spill read threw with nothing more moved: keep the item we have
    }
    return n;
  }

  // Consumer: waits until an item is available (true) or the queue is closed and drained (false),
  // without popping. MpmcQueue: another consumer may take the item first, so a try_pop() after true can
  // still fail.
  [[nodiscard]] bool wait_for_not_empty() {
    for (;;) {
      if (item_hint()) return true;
      if (closed()) {
        // As pop(): positions claimed before close() are still coming; the spill is checked under its
        // mutex.
        for (unsigned spins = 0;;) {
          if (item_hint()) return true;
          if (ring_drained() && layer_drained_after_close()) return item_hint();
          short_backoff(spins);
        }
      }
      not_empty_.wait([&] { return closed() || item_hint(); });
    }
  }

  // ---- shutdown (any thread) --------------------------------------------------------------------
  // After close(): no producer call puts anything in (push() returns Closed, try_push false, push_batch
  // 0); pop() drains what is left (ring and spill), then returns false. Wakes all waiters. Whichever
  // thread calls it, once pop() has returned false every push that reported Pushed/Spilled has had its
  // item returned by a pop() (MpmcQueue: or claimed by another consumer's pop(), which returns it).
  void close() noexcept {
    // relaxed RMW: every later claiming CAS fails (its expected value lacks the bit); the flag below
    // publishes it to consumers.
    tail_.fetch_or(kClosedBit, std::memory_order_relaxed);
    // release: pairs with the acquire in closed(); whoever sees the flag sees the bit in tail_ (the
    // final tail) as well.
    closed_.store(true, std::memory_order_release);
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // Test hook (not API): detail::slot_index_for(q, position) below reads index().
  template <class Q>
  friend std::size_t slot_index_for(const Q& q, std::uint64_t position) noexcept;

 protected:
  // The target constructor; a spilling queue passes its layer, built (and checked) beforehand.
  SlotQueue(std::size_t capacity, Overflow overflow, StartSequence start, Layer layer)
      : mask_(detail::checked_capacity(capacity, kName, Storage::kMaxSlots) - 1),
        remap_shift_(remap_shift_for(capacity)),
        overflow_(overflow),
        multi_consumer_(kMultiConsumer || overflow == Overflow::DropOldest),
        start_(wrap(start.value)),
        layer_(std::move(layer)) {
    // The slot array last: nothing after it can throw, so it never needs freeing here.
    slots_ = Storage::allocate(capacity);
    for (std::uint64_t p = start.value; p != start.value + capacity; ++p) {
      Slot* s = ::new (static_cast<void*>(&slots_[index(p)])) Slot;
      s->turn.store(empty_turn(p), std::memory_order_relaxed);  // relaxed: construction precedes sharing
    }
    head_.store(word_of(start_), std::memory_order_relaxed);  // relaxed: as above
    tail_.store(word_of(start_), std::memory_order_relaxed);  // relaxed: as above
    // The layout promise (the class is complete here, and standard-layout: all data members private).
    static_assert(std::is_standard_layout_v<SlotQueue>);
    static_assert(offsetof(SlotQueue, head_) - offsetof(SlotQueue, tail_) >= kFalseSharingRange);
    static_assert(offsetof(SlotQueue, slots_) - offsetof(SlotQueue, head_) >= kFalseSharingRange);
    static_assert(offsetof(SlotQueue, closed_) - offsetof(SlotQueue, slots_) >= kFalseSharingRange);
    static_assert(offsetof(SlotQueue, dropped_) - offsetof(SlotQueue, closed_) >= kFalseSharingRange);
    static_assert(offsetof(SlotQueue, not_empty_) - offsetof(SlotQueue, blocked_) >= kFalseSharingRange);
    static_assert(offsetof(SlotQueue, not_full_) - offsetof(SlotQueue, not_empty_) >= kFalseSharingRange);
    static_assert(alignof(SlotQueue) >= kFalseSharingRange);
  }

  // For the spilling queues' observers (ringkit/spilling_queue.hpp).
  const Layer& layer() const noexcept { return layer_; }

 private:
  struct Slot {
    std::atomic<std::uint64_t> turn;
    alignas(T) unsigned char storage[sizeof(T)];
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  // ---- slots ----
  using Storage = PaddedSlots<Slot>;  // detail/ring_storage.hpp
  // Slots per false-sharing range, rounded down to a power of two.
  static constexpr std::size_t kSlotsPerRange =
      sizeof(Slot) >= kFalseSharingRange ? 1 : std::bit_floor(kFalseSharingRange / sizeof(Slot));


  // Consecutive positions go to slots on different false-sharing ranges, so producers writing adjacent
  // positions do not fight over one line (atomic_queue's index remapping): swap the low log2(S) bits of
  // the index with the next log2(S) bits (S = slots per range). Only when capacity >= S^2.
  // The shift is a compile-time constant (log2 S) and only whether to remap is decided at run time: a
  // shift by a register costs several instructions more per index on x86-64 without BMI2, on every push
  // and pop (cachegrind, docs/queue-fixes.md section 5).
  static constexpr unsigned kRemapShift = static_cast<unsigned>(std::countr_zero(kSlotsPerRange));
  static unsigned remap_shift_for(std::size_t capacity) noexcept {
    if (kSlotsPerRange < 2 || capacity < kSlotsPerRange * kSlotsPerRange) return 0;
    return kRemapShift;
  }
  std::size_t index(std::uint64_t pos) const noexcept {
    std::size_t i = static_cast<std::size_t>(pos & mask_);
    if constexpr (kRemapShift != 0) {
      if (remap_shift_ != 0) {
        constexpr std::size_t low = (std::size_t{1} << kRemapShift) - 1;
        const std::size_t mix = (i ^ (i >> kRemapShift)) & low;
        i ^= mix ^ (mix << kRemapShift);
      }
    }
    return i;
  }
  Slot& slot(std::uint64_t pos) const noexcept { return slots_[index(pos)]; }

  static constexpr std::uint64_t empty_turn(std::uint64_t pos) noexcept { return 2 * pos; }
  static constexpr std::uint64_t full_turn(std::uint64_t pos) noexcept { return 2 * pos + 1; }
  static std::int64_t diff(std::uint64_t a, std::uint64_t b) noexcept { return static_cast<std::int64_t>(a - b); }

  // Positions are 63-bit; the index words hold 2p (tail_: 2p | kClosedBit).
  static constexpr std::uint64_t kClosedBit = 1;
  static constexpr std::uint64_t kPosMask = ~std::uint64_t{0} >> 1;
  static constexpr std::uint64_t wrap(std::uint64_t pos) noexcept { return pos & kPosMask; }
  static constexpr std::uint64_t pos_of(std::uint64_t word) noexcept { return word >> 1; }
  static constexpr std::uint64_t word_of(std::uint64_t pos) noexcept { return pos << 1; }
  // a - b for 63-bit positions, as a signed distance.
  static constexpr std::int64_t pdiff(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>((a - b) << 1) >> 1;
  }

  // ---- producer side ----
  // The closed bit as producers see it: their own hot line, exact for the claim they just tried.
  bool tail_closed() const noexcept {
    // relaxed: the claiming CAS is what excludes claims after close(); this only names the reason.
    return (tail_.load(std::memory_order_relaxed) & kClosedBit) != 0;
  }

  // ---- the overflow layer's hooks ("Overflow layers" above); constants for NoSpill ----
  bool layer_blocks_ring() const noexcept {
    if constexpr (kSpills) {
      return layer_.blocks_ring();
    } else {
      return false;
    }
  }
  template <class Deliver>
  bool take_from_layer(Deliver&& deliver) {
    if constexpr (kSpills) {
      return layer_.take(*this, std::forward<Deliver>(deliver));
    } else {
      return false;
    }
  }
  bool layer_drained_after_close() const {
    if constexpr (kSpills) {
      return layer_.drained_after_close();
    } else {
      return true;
    }
  }

  // push() may start with a plain ring claim: push_impl() does exactly that first under Block and
  // DropNewest (DropOldest claims unconditionally and evicts; SpillToDisk goes through the layer).
  bool ring_first() const noexcept {
    if constexpr (kSpills) {
      return false;
    } else {
      return overflow_ != Overflow::DropOldest;
    }
  }

  template <class... Args>
  bool emplace_ring(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      std::uint64_t pos = 0;
      Slot* s = claim_push(pos);
      if (s == nullptr) return false;
      ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
      publish(*s, pos);
      return true;
    } else {
      if (!slot_free_hint()) return false;  // do not pay for a copy that cannot go in
      T item(std::forward<Args>(args)...);
      return emplace_ring(std::move(item));
    }
  }

  // Claims the position at tail if its slot is free; nullptr when full or closed.
  Slot* claim_push(std::uint64_t& pos) noexcept {
    std::uint64_t w = tail_.load(std::memory_order_relaxed);  // relaxed: a guess; the slot's turn decides
    for (;;) {
      if ((w & kClosedBit) != 0) return nullptr;  // closed: nothing may be claimed any more
      const std::uint64_t t = pos_of(w);
      Slot& s = slot(t);
      // acquire: pairs with the release in release_slot(); the previous item's destruction happens-before
      // our construction.
      const std::int64_t d = diff(s.turn.load(std::memory_order_acquire), empty_turn(t));
      if (d == 0) {
        // relaxed (both): the CAS only elects the owner of position t (and fails once the closed bit is
        // set); data is ordered by the turn.
        if (tail_.compare_exchange_weak(w, w + 2, std::memory_order_relaxed, std::memory_order_relaxed)) {
          pos = t;
          return &s;
        }
      } else if (d < 0) {  // the slot still holds (or is giving up) the item one lap earlier
        const std::uint64_t now = tail_.load(std::memory_order_relaxed);  // relaxed: as above
        if (now == w) {
          note_full();
          return nullptr;
        }
        w = now;
      } else {  // another producer claimed t (our tail was stale)
        w = tail_.load(std::memory_order_relaxed);  // relaxed: as above
      }
    }
  }

  // Claims up to `max` consecutive free positions from tail with one CAS; returns how many (0: full).
  std::size_t claim_push_run(std::size_t max, std::uint64_t& pos) noexcept {
    const std::size_t limit = std::min(max, capacity());
    if (limit == 0) return 0;
    std::uint64_t w = tail_.load(std::memory_order_relaxed);  // relaxed: a guess; the turns decide
    for (;;) {
      if ((w & kClosedBit) != 0) return 0;  // closed: nothing may be claimed any more
      const std::uint64_t t = pos_of(w);
      std::size_t k = 0;
      // acquire: pairs with the release in release_slot() (as in claim_push), for every slot of the run.
      while (k < limit && slot(t + k).turn.load(std::memory_order_acquire) == empty_turn(t + k)) ++k;
      if (k == 0) {
        const std::uint64_t now = tail_.load(std::memory_order_relaxed);  // relaxed: as above
        if (now == w) {
          note_full();
          return 0;
        }
        w = now;
        continue;
      }
      // relaxed (both): elects the owner of positions [t, t+k) (fails once closed); data is ordered by
      // the turns.
      if (tail_.compare_exchange_weak(w, w + 2 * k, std::memory_order_relaxed, std::memory_order_relaxed)) {
        pos = t;
        return k;
      }
    }
  }

  void publish(Slot& s, std::uint64_t pos) noexcept {
    // release: publishes the constructed item; pairs with the acquire in claim_pop()/claim_pop_run().
    s.turn.store(full_turn(pos), std::memory_order_release);
    not_empty_.notify();
    if ((pos & 63u) == 0) note_size(pos);
  }

  // high_water: sampled (every 64th position, and whenever a producer finds the ring full), so a push
  // normally reads no consumer line and writes no shared counter.
  void note_size(std::uint64_t pos) noexcept {
    const std::uint64_t h = pos_of(head_.load(std::memory_order_relaxed));  // relaxed: a statistic
    const std::int64_t d = pdiff(pos + 1, h);
    if (d <= 0) return;
    raise_high_water(std::min<std::uint64_t>(static_cast<std::uint64_t>(d), capacity()));
  }
  void note_full() noexcept { raise_high_water(capacity()); }
  void raise_high_water(std::uint64_t size) noexcept {
    // relaxed (all): a monotonic statistic; written only when it grows, so mostly a read.
    std::uint64_t hw = high_water_.load(std::memory_order_relaxed);
    while (size > hw && !high_water_.compare_exchange_weak(hw, size, std::memory_order_relaxed)) {
    }
  }

  // True if the slot at tail is free for its position (or tail moved on): a push may succeed now.
  bool slot_free_hint() const noexcept {
    const std::uint64_t t = pos_of(tail_.load(std::memory_order_relaxed));  // relaxed: a hint
    // acquire: pairs with the release in release_slot(); the Blocking strategy's W4 reads this turn.
    return diff(slot(t).turn.load(std::memory_order_acquire), empty_turn(t)) >= 0;
  }

  // ---- consumer side ----
  Slot* claim_pop(std::uint64_t& pos) noexcept {
    // relaxed: the single consumer's own index, or a guess (several consumers); the turn decides.
    std::uint64_t w = head_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t h = pos_of(w);
      Slot& s = slot(h);
      // acquire: pairs with the release in publish()/push_batch(); the item's construction is visible.
      const std::int64_t d = diff(s.turn.load(std::memory_order_acquire), full_turn(h));
      if (d == 0) {
        if (!multi_consumer_) {
          head_.store(w + 2, std::memory_order_relaxed);  // relaxed: only we write head_; readers take a snapshot
          pos = h;
          return &s;
        }
        // relaxed (both): elects the owner of position h; data is ordered by the turn.
        if (head_.compare_exchange_weak(w, w + 2, std::memory_order_relaxed, std::memory_order_relaxed)) {
          pos = h;
          return &s;
        }
      } else if (d < 0) {  // not published yet: empty, or its producer is still writing
        if (!multi_consumer_) return nullptr;
        const std::uint64_t now = head_.load(std::memory_order_relaxed);  // relaxed: as above
        if (now == w) return nullptr;
        w = now;
      } else {  // another consumer (or an evicting producer) took h
        w = head_.load(std::memory_order_relaxed);  // relaxed: as above
      }
    }
  }

  // Claims up to `max` consecutive published positions from head with one CAS (a store for a single
  // consumer); returns how many.
  std::size_t claim_pop_run(std::size_t max, std::uint64_t& pos) noexcept {
    const std::size_t limit = std::min(max, capacity());
    if (limit == 0) return 0;
    std::uint64_t w = head_.load(std::memory_order_relaxed);  // relaxed: as in claim_pop()
    for (;;) {
      const std::uint64_t h = pos_of(w);
      std::size_t k = 0;
      // acquire: pairs with the release in publish()/push_batch(), for every slot of the run.
      while (k < limit && slot(h + k).turn.load(std::memory_order_acquire) == full_turn(h + k)) ++k;
      if (k == 0) {
        if (!multi_consumer_) return 0;
        const std::uint64_t now = head_.load(std::memory_order_relaxed);  // relaxed: as above
        if (now == w) return 0;
        w = now;
        continue;
      }
      if (!multi_consumer_) {
        head_.store(w + 2 * k, std::memory_order_relaxed);  // relaxed: as in claim_pop()
        pos = h;
        return k;
      }
      // relaxed (both): elects the owner of positions [h, h+k); data is ordered by the turns.
      if (head_.compare_exchange_weak(w, w + 2 * k, std::memory_order_relaxed, std::memory_order_relaxed)) {
        pos = h;
        return k;
      }
    }
  }

  // After a run of n items (or free slots): one waiter can use one item, so wake one; several for a
  // run, when several threads may wait (a strategy's notify() wakes one parked waiter).
  static void notify_items(Wait& w, std::size_t n) noexcept {
    if (n > 1) {
      w.notify_all();
    } else {
      w.notify();
    }
  }

  // SpillingMpmcQueue: a consumer's ring claim can be what drains the ring and so makes the spill readable;
  // the notify() calls made when those items were spilled may have found nobody parked, and the claiming
  // consumer may stop popping: wake one parked consumer for them (tests/spilling_mpmc_wake_test.cpp). A
  // single consumer is the claimant itself, so MPSC needs nothing.
  void hand_on_spill() noexcept {
    if constexpr (kSpills && kMultiConsumer) {
      if (layer_.readable(*this)) not_empty_.notify();
    }
  }

  void release_slot(Slot& s, std::uint64_t pos) noexcept {
    release_slot_quietly(s, pos);
    not_full_.notify();
  }

  // As release_slot() without the notify: batch paths notify once per run.
  void release_slot_quietly(Slot& s, std::uint64_t pos) noexcept {
    // release: hands the emptied slot to the producer of pos + C; pairs with the acquire in claim_push().
    s.turn.store(empty_turn(pos + capacity()), std::memory_order_release);
  }

  // True if a pop may succeed now: the slot at head is published (or head moved on), or the overflow
  // layer has something it may hand out.
  bool item_hint() const noexcept {
    const std::uint64_t h = pos_of(head_.load(std::memory_order_relaxed));  // relaxed: a hint
    // acquire: pairs with the release in publish(); the Blocking strategy's W4 reads this turn.
    if (diff(slot(h).turn.load(std::memory_order_acquire), full_turn(h)) >= 0) return true;
    if constexpr (kSpills) {
      return layer_.readable(*this);
    } else {
      return false;
    }
  }

  // No position is claimed-but-unconsumed: everything pushed to the ring was taken.
  bool ring_drained() const noexcept {
    const std::uint64_t h = pos_of(head_.load(std::memory_order_acquire));  // acquire: orders the two loads
    return pos_of(tail_.load(std::memory_order_acquire)) == h;               // acquire: as above
  }

  // DropOldest push: claim the position at tail FIRST (the claim fails only once closed), then make
  // room in its slot, which holds the item one lap earlier (old = pos - C) until that item is consumed
  // or evicted. If `old` is the oldest item (head == old) and published, we take it exactly as a
  // consumer would (CAS on head; the CAS makes us its sole owner) and destroy it; if a consumer already
  // claimed it, we wait for that consumer to free the slot (it is mid-move: one nothrow move). So an
  // eviction happens only for an insert that is already guaranteed, and only of the item whose slot
  // that insert needs: a push that evicts always ends Pushed, and a consumer vacating the slot costs
  // no eviction at all. If old is not yet published, or head has not reached it, the positions before
  // it belong to producers (or consumers) that are in the middle of the same steps: we back off.
  template <class V>
  PushResult push_evicting(V&& value) {
    if constexpr (!std::is_nothrow_constructible_v<T, V&&>) {
      T item(std::forward<V>(value));  // built before the claim: a throw leaves the queue untouched
      return push_evicting(std::move(item));
    } else {
      std::uint64_t w = tail_.load(std::memory_order_relaxed);  // relaxed: validated by the CAS
      do {
        if ((w & kClosedBit) != 0) return PushResult::Closed;
        // relaxed (both): elects the owner of position pos_of(w) (fails once closed); data is ordered by
        // the slot's turn below.
      } while (!tail_.compare_exchange_weak(w, w + 2, std::memory_order_relaxed, std::memory_order_relaxed));
      const std::uint64_t pos = pos_of(w);
      const std::uint64_t old = pos - capacity();
      Slot& s = slot(pos);
      for (unsigned spins = 0;;) {
        // acquire: pairs with the release in release_slot*() (the slot is free: the old item's
        // destruction happens-before our construction) or in publish() (old is full: its construction
        // happens-before we destroy it).
        const std::uint64_t turn = s.turn.load(std::memory_order_acquire);
        if (turn == empty_turn(pos)) break;
        if (turn == full_turn(old)) {
          std::uint64_t hw = head_.load(std::memory_order_relaxed);  // relaxed: validated by the CAS
          // relaxed (both): elects the owner of position old, exactly as claim_pop().
          if (pos_of(hw) == wrap(old) &&
              head_.compare_exchange_strong(hw, hw + 2, std::memory_order_relaxed, std::memory_order_relaxed)) {
            s.item()->~T();
            evicted_.add(1);
            note_full();                   // the ring held capacity() items
            release_slot_quietly(s, old);  // turn = empty_turn(pos): the slot is ours now
            break;
          }
        }
        short_backoff(spins);
      }
      ::new (static_cast<void*>(s.storage)) T(std::forward<V>(value));
      publish(s, pos);
      return PushResult::Pushed;
    }
  }

  // ---- blocking ----
  // Out of line (noinline): push()/pop() keep their first try inline, and a call frame this size would
  // otherwise be set up on every call (cachegrind: pop 66 -> 42 instructions, docs/mpmc-results.md).
  template <class V>
  RINGKIT_NOINLINE PushResult push_impl(V&& value, std::chrono::steady_clock::time_point deadline) {
    bool counted = false;
    bool resumed_once = false;  // the hysteresis phase runs at most once per push()
    for (;;) {
      if constexpr (kSpills) {
        if (overflow_ == Overflow::SpillToDisk) {
          if (tail_closed()) return PushResult::Closed;
          return layer_.push(*this, std::forward<V>(value));
        }
      }
      if (overflow_ == Overflow::DropOldest) return push_evicting(std::forward<V>(value));
      if (emplace_ring(std::forward<V>(value))) return PushResult::Pushed;  // a failed try leaves value intact
      if (tail_closed()) return PushResult::Closed;  // the claim failed because of the closed bit
      if (overflow_ == Overflow::DropNewest) {
        dropped_.add(1);
        return PushResult::Dropped;
      }
      if (!counted) {
        blocked_.add(1);
        counted = true;
      }
      if (deadline == std::chrono::steady_clock::time_point::max() && !resumed_once) {
        resumed_once = true;  // once per push(): a producer that then loses the claim waits exactly
        // Hysteresis (spin only, bounded; detail/resume_hysteresis.hpp): resume when capacity/8 is free.
        // relaxed (both loads): an estimate; the claim that follows decides.
        ResumeHysteresis::wait(
            ResumeHysteresis::threshold(capacity()),
            [&] {
              const std::int64_t used = pdiff(pos_of(tail_.load(std::memory_order_relaxed)),
                                              pos_of(head_.load(std::memory_order_relaxed)));
              return used <= 0 ? capacity() : capacity() - std::min<std::size_t>(static_cast<std::size_t>(used), capacity());
            },
            [&] { return head_.load(std::memory_order_relaxed); },  // relaxed: progress only
            [&] { return closed(); });
      }
      if (!not_full_.wait_until([&] { return closed() || slot_free_hint(); }, deadline)) {
        return PushResult::TimedOut;
      }
    }
  }

  RINGKIT_NOINLINE bool pop_impl(T& out, std::chrono::steady_clock::time_point deadline) {
    bool counted = false;
    for (;;) {
      if (try_pop(out)) return true;
      if (closed()) {
        // Drain: deliver what producers claimed before close() (ring), then the spill.
        for (unsigned spins = 0;;) {
          if (try_pop(out)) return true;
          if (ring_drained() && layer_drained_after_close()) return try_pop(out);
          short_backoff(spins);
        }
      }
      if (!counted) {
        blocked_.add(1);
        counted = true;
      }
      if (!not_empty_.wait_until([&] { return closed() || item_hint(); }, deadline)) return try_pop(out);
    }
  }

  // ---- written by producers (CAS), and once by close() (the closed bit) ----
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> tail_{0};  // 2 * position | kClosedBit

  // ---- written by consumers (and by evicting producers under DropOldest) ----
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> head_{0};  // 2 * position
  [[no_unique_address]] RoleCheck consumer_role_;  // MpscQueue only; checked only with RINGKIT_CHECK_ROLES

  // ---- written once at construction, read by all ----
  alignas(kFalseSharingRange) Slot* slots_ = nullptr;
  const std::uint64_t mask_;
  const unsigned remap_shift_;
  const Overflow overflow_;
  const bool multi_consumer_;  // several threads may claim head: MpmcQueue, or any queue under DropOldest
  const std::uint64_t start_;

  // ---- written rarely (close, spill mode changes, a new high-water mark) ----
  alignas(kFalseSharingRange) std::atomic<bool> closed_{false};  // set after the closed bit in tail_
  [[no_unique_address]] Layer layer_;  // NoSpill: empty; SpillLayer: its mode flag and state pointer
  std::atomic<std::uint64_t> high_water_{0};

  // ---- statistics, one line per thread-shard (docs/mpmc-design.md, Metrics) ----
  alignas(kFalseSharingRange) ShardedCounter<> dropped_;
  ShardedCounter<> evicted_;
  ShardedCounter<> blocked_;

  // ---- wait strategies: written only on the slow path ----
  alignas(kFalseSharingRange) Wait not_empty_;
  alignas(kFalseSharingRange) Wait not_full_;
};

// Test hook: the slot a position lives in (the index remapping), for the layout tests.
template <class Q>
std::size_t slot_index_for(const Q& q, std::uint64_t position) noexcept {
  return q.index(position);
}

}  // namespace detail
}  // namespace ringkit
