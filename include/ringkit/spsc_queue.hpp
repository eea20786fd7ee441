// SPDX-License-Identifier: MIT
#pragma once
// SpscQueue<T, Wait>: a bounded, pre-allocated, wait-free single-producer / single-consumer ring.
//
// Memory contract
//   * Every successful push (try_push, try_emplace, push, push_batch, commit) synchronizes-with the pop
//     that removes the item (try_pop, pop, front, pop_batch, peek, consume): everything the producer
//     wrote before publishing is visible to the consumer after it sees the item.
//   * A pop that frees a slot synchronizes-with the push that next reuses it, so a slot's destruction
//     happens-before its reconstruction.
//   * FIFO; linearizable for one producer and one consumer. try_* are wait-free (no loops, no CAS).
//   * size()/size_approx()/empty()/full()/available() are exact when called by the producer or consumer while the
//     other side is idle, otherwise a snapshot that may be stale by the time it returns (never above
//     capacity()).
//
// Thread roles: exactly one thread at a time may call producer functions (try_push, try_emplace, push,
// emplace, try_push_for, push_batch, push_batch_wait, try_claim, commit) and one the consumer functions (try_pop,
// pop, front, try_pop_for, pop_batch, pop_batch_wait, wait_for_not_empty, peek, pop_n, consume). With
// RINGKIT_CHECK_ROLES defined, a call aborts if two threads overlap in a role.
// Observers, close() and stats() may be called from any thread.
//
// Layout (each group on its own kFalseSharingRange-aligned block; see static_asserts below)
//   producer: write_ (published), write_limit_ (producer's copy of read_, plus capacity), dropped_
//   producer, read by the consumer only after close(): announced_ (the close protocol's P1)
//   consumer: read_ (published), write_cache_ (consumer's copy of write_)
//   shared read-mostly: slots_, marks_, mask_, closed_, start_
//   not_empty_ (consumer waits, producer notifies), not_full_ (producer waits, consumer notifies)
//   marks_[capacity]: one word per slot, written by the producer, read by the consumer (below)
// A push writes the producer block, announced_'s block, the slot and its mark, and reads closed_ in the
// shared block (read-mostly: it stays in every core's cache); it reloads read_ (the consumer's line) only
// when its cached copy says the ring is full.
//
// Publication: one-way marks. A publishing call (push, push_batch, commit) of n items at write_ == w
// constructs them, stores the end of its range, w + n, in the mark of its first slot (release), then
// stores write_ = w + n (release): one mark per call, so a batch of 64 stores one mark, not 64. A single
// pop (try_pop, pop, front) that has used up its cached copy of write_ asks the mark of its next slot
// (acquire) instead of reloading write_: the consumer of a nearly empty ring then polls a line it reads
// next anyway, not the line the producer stores on every push; a mark says how far that call published,
// and the pop follows the marks of later calls on the same line (docs/queue-fixes.md sections 7-9: round
// trip p50 210-220 -> 140-160 ns in ringbench; costs 8 bytes per slot).
// The batch calls (pop_batch, peek, pop_n, consume) still count from write_. Frees go back through
// read_ as before, so try_push stays exact at capacity. Because a mark comes before write_, read_ may
// pass write_ for a moment (size() and stats() clamp).
//
// Sequences are 64-bit and never reset: index = seq & mask_. The index arithmetic is modular
// (write - read), so a queue may start anywhere in the range and cross 2^64 (tests start sequences just
// below it: detail::StartSequence). The one-way marks are exact while fewer than 2^64 - 2 * capacity
// items have been popped over the queue's life (published_end()): 584 years at 10^9 pushes/s.
//
// Exceptions: T may throw from its constructors. A throwing construction leaves the queue unchanged
// (the slot is published only after it is constructed); a throwing move-assignment in try_pop leaves the
// item in the queue. push_batch builds with std::move_if_noexcept, so when T's move may throw (and T is
// copyable) a throw leaves both the queue and the caller's items unchanged. pop_batch requires a
// nothrow move-assignment (use try_pop for other types); consume() frees the items fn finished.
//
// close(): after it, every producer call fails (push/try_push_for return Closed, try_push/try_emplace
// false, push_batch 0, try_claim nothing, commit 0), and pop() drains what was published, then returns
// false. Whichever thread calls close(), once pop() has returned false every push that reported success
// has had its item returned by a pop: nothing is stranded (the close protocol, below). The queue is for
// threads of one process: its futex and membarrier are process-private.
//
// Close protocol (SPSC, no read-modify-write on either fast path). P = producer, C = consumer, X = closer.
// A producer call that will publish up to sequence e (e = w + n for n items at write_ == w) first
// announces e in announced_, a word of its own that the consumer reads only after close():
//   P1 announced_ = e              X1 closed_ = true (release)
//   P2 light StoreLoad             C1 C sees closed_ (acquire) and an empty ring
//   P3 if closed_: P3' announced_  C2 heavy StoreLoad (membarrier)
//      = w (retract), fail         C3 wait until write_ >= announced_ (re-reading both)
//   ... construct, write_ = e      C4 re-read write_: still empty -> pop() returns false
// (a construction that throws retracts as P3' does). P2 and C2 act as two seq_cst fences. If P3 read
// closed_ == false, that read is coherence-ordered before X1, which happens-before C2, so P2 precedes
// C2 in their order, and C3 reads P1's value e or a later one; once the call has published, every
// later value is >= e (later calls announce past e; a later call's retraction goes back to its own
// w >= e). So C3 ends only once it has read write_ >= e, with acquire, and C4 sees the push (C4 asks
// the slot's mark: every call below e stored its mark before write_ = e, so it is visible too). (If the
// call instead throws while
// constructing, it retracts and reports no success.) A push that read closed_ == true publishes
// nothing, and its retraction lets C3 end. Cost on the producer's fast path: one store to its own line
// (P1), and a load of closed_ on a read-mostly line it reads anyway; the publication (write_ = e) is the
// window's end, so there is no second store. The consumer pays a membarrier once, when it finds the
// closed queue empty. (Until this change the window was a flag set before P2 and cleared after the
// publication: two stores per push; docs/queue-fixes.md section 6 has the measurements.)
// tests/model/spsc_close.pml checks the protocol exhaustively (and catches its mutants).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>  // offsetof
#include <limits>
#include <cstdint>
#include <cstring>  // memcpy
#include <initializer_list>
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
#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/noinline.hpp"
#include "ringkit/detail/resume_hysteresis.hpp"
#include "ringkit/detail/ring_storage.hpp"
#include "ringkit/detail/role_check.hpp"
#include "ringkit/policy.hpp"
#include "ringkit/slot_spans.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringkit {

template <class T, WaitStrategy Wait = Yielding>
class SpscQueue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T>, "SpscQueue<T>: T must be a non-const object type");
  static_assert(std::is_destructible_v<T>);

 public:
  using value_type = T;
  using wait_strategy = Wait;

  // capacity: a non-zero power of two, else std::invalid_argument naming the value.
  // overflow: what push() does when full: Overflow::Block (default) or Overflow::DropNewest.
  explicit SpscQueue(std::size_t capacity, Overflow overflow = Overflow::Block)
      : SpscQueue(capacity, overflow, detail::StartSequence{}) {}

  SpscQueue(std::size_t capacity, Overflow overflow, detail::StartSequence start)
      : slots_(Storage::allocate(
            detail::checked_capacity(capacity, "SpscQueue", std::min(Storage::kMaxSlots, MarkStorage::kMaxSlots)))),
        mask_(capacity - 1),
        overflow_(overflow),
        start_(start.value) {
    if (overflow != Overflow::Block && overflow != Overflow::DropNewest) {
      Storage::deallocate(slots_, capacity);
      throw std::invalid_argument("SpscQueue: overflow policy " + std::string(to_string(overflow)) +
                                  " needs MpscQueue/MpmcQueue; SpscQueue supports Block and DropNewest");
    }
    try {
      marks_ = MarkStorage::allocate(capacity);
    } catch (...) {
      Storage::deallocate(slots_, capacity);
      throw;
    }
    // relaxed: construction precedes sharing. start_ <= s for every first-lap s: no published_end().
    for (std::size_t i = 0; i < capacity; ++i) ::new (static_cast<void*>(marks_ + i)) std::atomic<std::uint64_t>(start.value);
    write_.store(start.value, std::memory_order_relaxed);  // relaxed: construction precedes sharing
    read_.store(start.value, std::memory_order_relaxed);   // relaxed: as above
    announced_.store(start.value, std::memory_order_relaxed);  // relaxed: as above
    write_limit_ = start.value + capacity;
    write_cache_ = start.value;
    // The close protocol's asymmetric fence pair is decided (and membarrier registered) once per
    // process, in asymmetric_'s initializer: now, not inside the first push, where registration costs
    // milliseconds.
    // The layout promise. The class is complete here; offsetof needs standard layout, which holds with
    // ringkit's wait strategies (a user-defined one may opt out of the check, not of the alignment).
    if constexpr (std::is_standard_layout_v<SpscQueue>) {
      static_assert(offsetof(SpscQueue, read_) - offsetof(SpscQueue, write_) >= detail::kFalseSharingRange);
      static_assert(offsetof(SpscQueue, slots_) - offsetof(SpscQueue, read_) >= detail::kFalseSharingRange);
      static_assert(offsetof(SpscQueue, not_empty_) - offsetof(SpscQueue, slots_) >= detail::kFalseSharingRange);
      static_assert(offsetof(SpscQueue, not_full_) - offsetof(SpscQueue, not_empty_) >= detail::kFalseSharingRange);
      static_assert(offsetof(SpscQueue, claimed_) < detail::kFalseSharingRange, "producer group in one block");
    }
  }

  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Destroys every item still inside. Must not race with any other call.
  ~SpscQueue() {
    // relaxed: the destructor must already be ordered after both threads' last calls.
    const std::uint64_t w = write_.load(std::memory_order_relaxed);
    for (std::uint64_t r = read_.load(std::memory_order_relaxed); r != w; ++r) destroy(slot(r));
    Storage::deallocate(slots_, capacity());
    MarkStorage::deallocate(marks_, capacity());  // std::atomic<std::uint64_t>: trivially destructible
  }

  // ---- observers (any thread) -------------------------------------------------------------------
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_) + 1; }

  [[nodiscard]] std::size_t size() const noexcept {
    // read_ may run ahead of write_ for a moment: a single pop takes an item as soon as its slot's mark
    // is stored, and the producer stores write_ just after (up to a batch's n later). Such a snapshot is
    // an empty queue, so the difference is read signed and clamped to [0, capacity].
    // acquire (both): they only order the pair (read_ first); a snapshot either way.
    const std::uint64_t r = read_.load(std::memory_order_acquire);
    const std::uint64_t w = write_.load(std::memory_order_acquire);
    const auto d = static_cast<std::int64_t>(w - r);
    return d <= 0 ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(d), capacity()));
  }
  // The name every queue shares for this snapshot (racy from any other thread; see the header comment).
  [[nodiscard]] std::size_t size_approx() const noexcept { return size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] bool full() const noexcept { return size() == capacity(); }
  [[nodiscard]] std::size_t available() const noexcept { return capacity() - size(); }
  [[nodiscard]] Overflow overflow() const noexcept { return overflow_; }
  [[nodiscard]] bool closed() const noexcept {
    return closed_.load(std::memory_order_acquire);  // acquire: pairs with the release in close()
  }

  [[nodiscard]] QueueStats stats() const noexcept {
    QueueStats s;
    // acquire (both): pair with the publishing release stores; a snapshot.
    s.popped = read_.load(std::memory_order_acquire) - start_;
    s.pushed = write_.load(std::memory_order_acquire) - start_;
    if (s.pushed < s.popped) s.pushed = s.popped;  // write_ trailing a marked item just popped (size())
    s.dropped = dropped_.load(std::memory_order_relaxed);  // relaxed: a counter, orders nothing
    return s;
  }

  // ---- producer ---------------------------------------------------------------------------------
  [[nodiscard]] bool try_push(const T& value) { return try_emplace(value); }
  [[nodiscard]] bool try_push(T&& value) { return try_emplace(std::move(value)); }

  // Fails when the ring is full or the queue is closed.
  template <class... Args>
    requires std::is_constructible_v<T, Args&&...>
  [[nodiscard]] bool try_emplace(Args&&... args) {
    return emplace_impl(std::forward<Args>(args)...) == Emplaced::Yes;
  }

  // Blocking push: applies the overflow policy. Returns Pushed, Dropped (DropNewest, value untouched)
  // or Closed (value untouched).
  PushResult push(const T& value) { return push_impl(value, std::chrono::steady_clock::time_point::max()); }
  PushResult push(T&& value) { return push_impl(std::move(value), std::chrono::steady_clock::time_point::max()); }

  // Blocking emplace, as on MpscQueue/MpmcQueue: builds a T from args (outside the ring), then push()es it.
  template <class... Args>
    requires std::is_constructible_v<T, Args&&...> && std::is_move_constructible_v<T>
  PushResult emplace(Args&&... args) {
    return push(T(std::forward<Args>(args)...));
  }

  // As push(), but gives up after `timeout` with PushResult::TimedOut (value untouched).
  template <class Rep, class Period>
  [[nodiscard]] PushResult try_push_for(T&& value, std::chrono::duration<Rep, Period> timeout) {
    return push_impl(std::move(value), detail::deadline_after(timeout));
  }
  template <class Rep, class Period>
  [[nodiscard]] PushResult try_push_for(const T& value, std::chrono::duration<Rep, Period> timeout) {
    return push_impl(value, detail::deadline_after(timeout));
  }

  // Moves as many leading items of `items` in as fit; returns how many (0 once closed). Publishes with
  // a release store of the first slot's mark (the batch's end), then one of write_: a single pop may
  // take the batch by its mark before write_ shows it (FIFO either way).
  std::size_t push_batch(std::span<T> items) {
    typename detail::RoleCheck::Scope role(producer_role_, "producer");
    const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
    std::size_t n = std::min(items.size(), free_slots(w));
    if (n < items.size()) {
      refresh_read_cache(w, items.size());
      n = std::min(items.size(), free_slots(w));
    }
    if (n == 0) return 0;
    if (!open_window(w, w + n)) return 0;
    // The slots are one or two contiguous runs: copy run by run (a memcpy each for trivially copyable
    // T, which also begins the copies' lifetimes), not slot by masked slot.
    const SlotSpans<T> dst = spans_at(w, n);
    if constexpr (std::is_trivially_copyable_v<T> &&
                  std::is_trivially_constructible_v<T, decltype(std::move_if_noexcept(items[0]))>) {
      std::memcpy(static_cast<void*>(dst.first.data()), items.data(), dst.first.size_bytes());
      std::memcpy(static_cast<void*>(dst.second.data()), items.data() + dst.first.size(), dst.second.size_bytes());
    } else {
      std::size_t built = 0;
      try {
        for (const std::span<T> run : {dst.first, dst.second}) {
          for (T& to : run) {
            ::new (static_cast<void*>(&to)) T(std::move_if_noexcept(items[built]));
            ++built;
          }
        }
      } catch (...) {
        for (std::size_t i = 0; i < built; ++i) destroy(&dst[i]);
        retract(w);
        throw;
      }
    }
    mark_published(w, n);
    // release: publishes all n slots (and ends the window: C3 waits for it); pairs as in emplace_impl()
    write_.store(w + n, std::memory_order_release);
    not_empty_.notify();
    return n;
  }

  // Zero-copy write for trivially copyable T: up to `max` free slots as one or two contiguous spans (two
  // when the range wraps). Assign the items, then commit(k) publishes the first k of them. A new claim
  // replaces the previous one; any other push between claim and commit invalidates the claim. Nothing
  // (empty spans) once closed.
  [[nodiscard]] SlotSpans<T> try_claim(std::size_t max)
    requires std::is_trivially_copyable_v<T>
  {
    typename detail::RoleCheck::Scope role(producer_role_, "producer");
    const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
    if (closed()) {
      claimed_ = 0;
      claim_at_ = w;
      return spans_at(w, 0);
    }
    if (free_slots(w) < max) refresh_read_cache(w, max);
    claimed_ = std::min(max, free_slots(w));
    claim_at_ = w;
    return spans_at(w, claimed_);
  }

  // Publishes the first `count` slots of the last try_claim() and returns count; returns 0 (publishes
  // nothing; the claimed slots are simply not used) if the queue was closed in between. std::logic_error
  // if count exceeds the claim or the claim is stale (another push came in between).
  std::size_t commit(std::size_t count)
    requires std::is_trivially_copyable_v<T>
  {
    typename detail::RoleCheck::Scope role(producer_role_, "producer");
    const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
    if (count > 0 && (count > claimed_ || w != claim_at_)) {
      throw std::logic_error("SpscQueue::commit(" + std::to_string(count) + "): the last try_claim() handed out " +
                             std::to_string(w == claim_at_ ? claimed_ : 0) + " slots");
    }
    claimed_ = 0;
    if (count == 0) return 0;
    if (!open_window(w, w + count)) return 0;
    mark_published(w, count);
    // release: publishes the claimed slots and ends the window; pairs as in emplace_impl()
    write_.store(w + count, std::memory_order_release);
    not_empty_.notify();
    return count;
  }

  // ---- consumer ---------------------------------------------------------------------------------
  [[nodiscard]] bool try_pop(T& out) {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: read_ is ours
    if (!readable(r)) return false;
    T* item = slot(r);
    out = std::move(*item);  // a throw leaves the item in the queue
    destroy(item);
    release_slots(r, 1);
    return true;
  }

  [[nodiscard]] std::optional<T> try_pop()
    requires std::is_move_constructible_v<T>
  {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    std::optional<T> out;  // every return names `out`, so NRVO spares a second move
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (!readable(r)) return out;
    T* item = slot(r);
    out.emplace(std::move(*item));  // a throw leaves the item in the queue
    destroy(item);
    release_slots(r, 1);
    return out;
  }

  // Zero-copy read: the oldest item, or nullptr when empty. The pointer stays valid until pop().
  [[nodiscard]] T* front() {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (!readable(r)) return nullptr;
    return slot(r);
  }

  // Destroys the item front() returned. Precondition: front() != nullptr.
  void pop() { pop_n(1); }

  // Blocking pop: waits for an item per the wait strategy; false once the queue is closed and drained.
  [[nodiscard]] bool pop(T& out) { return pop_impl(out, std::chrono::steady_clock::time_point::max()); }

  template <class Rep, class Period>
  [[nodiscard]] bool try_pop_for(T& out, std::chrono::duration<Rep, Period> timeout) {
    return pop_impl(out, detail::deadline_after(timeout));
  }

  // Moves up to out.size() items into `out` (move-assignment); returns how many. One release store.
  std::size_t pop_batch(std::span<T> out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (write_cache_ - r < out.size()) refresh_write_cache(r, out.size());
    const std::size_t n = std::min<std::size_t>(out.size(), static_cast<std::size_t>(write_cache_ - r));
    if (n == 0) return 0;
    const SlotSpans<T> src = spans_at(r, n);  // run by run, as in push_batch()
    if constexpr (std::is_trivially_copyable_v<T> && std::is_trivially_move_assignable_v<T>) {
      std::memcpy(static_cast<void*>(out.data()), src.first.data(), src.first.size_bytes());
      std::memcpy(static_cast<void*>(out.data() + src.first.size()), src.second.data(), src.second.size_bytes());
    } else {
      T* to = out.data();
      for (const std::span<T> run : {src.first, src.second}) {
        for (T& item : run) {
          *to++ = std::move(item);
          destroy(&item);
        }
      }
    }
    release_slots(r, n);
    return n;
  }

  // Zero-copy read: up to `max` of the oldest items as one or two contiguous spans. They stay valid
  // (and may be modified or moved from) until pop_n().
  [[nodiscard]] SlotSpans<T> peek(std::size_t max) {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (write_cache_ - r < max) refresh_write_cache(r, max);
    return spans_at(r, std::min<std::size_t>(max, static_cast<std::size_t>(write_cache_ - r)));
  }

  // Destroys the `count` oldest items and frees their slots with one release store (normally the ones
  // peek() showed). std::out_of_range if fewer than `count` items are in the queue.
  void pop_n(std::size_t count) {
    typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (count > write_cache_ - r && !refresh_write_cache(r, count)) {
      throw std::out_of_range("SpscQueue::pop_n: " + std::to_string(count) + " items requested, fewer in the queue");
    }
    for (std::size_t i = 0; i < count; ++i) destroy(slot(r + i));
    if (count) release_slots(r, count);
  }

  // Calls fn(T&) on up to `max` items in order, in place, then frees them with one release store.
  // Returns how many it consumed. If fn throws, the items it finished are consumed and the rest stay.
  template <class Fn>
    requires std::is_invocable_v<Fn&, T&>
  std::size_t consume(std::size_t max, Fn&& fn) {
    const SlotSpans<T> spans = peek(max);  // peek and pop_n check the consumer role; fn runs outside it
    std::size_t done = 0;
    struct Finish {
      SpscQueue& q;
      std::size_t& n;
      ~Finish() { q.pop_n(n); }
    } finish{*this, done};
    for (T& item : spans.first) { fn(item); ++done; }
    for (T& item : spans.second) { fn(item); ++done; }
    return spans.size();
  }

  // ---- blocking batch calls: the wait strategy's waits with the batch paths' speed ----------------
  // Producer: moves as many leading items of `items` in as fit, waiting (by the wait strategy) until at
  // least one fits; returns how many (>= 1), or 0 once closed (or when `items` is empty). As
  // push_batch() otherwise.
  std::size_t push_batch_wait(std::span<T> items) {
    if (items.empty()) return 0;
    for (;;) {
      const std::size_t n = push_batch(items);
      if (n != 0) return n;
      if (closed()) return 0;
      const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
      not_full_.wait([&] { return closed() || refresh_read_cache(w, 1); });
    }
  }

  // Consumer: moves up to out.size() items into `out`, waiting until at least one arrives; returns how
  // many (>= 1), or 0 once the queue is closed and drained (where pop() would return false).
  std::size_t pop_batch_wait(std::span<T> out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    if (out.empty()) return 0;
    for (;;) {
      const std::size_t n = pop_batch(out);
      if (n != 0) return n;
      if (closed()) {  // C1: closed and empty
        wait_out_publishers();
        return pop_batch(out);  // C4
      }
      const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
      not_empty_.wait([&] { return closed() || readable(r); });
    }
  }

  // Consumer: waits until an item is available (true: try_pop()/front()/peek() will find it) or the
  // queue is closed and drained (false), without popping anything.
  [[nodiscard]] bool wait_for_not_empty() {
    for (;;) {
      {
        typename detail::RoleCheck::Scope role(consumer_role_, "consumer");
        const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
        if (readable(r)) return true;
        if (closed()) {  // C1
          wait_out_publishers();
          return readable(r);  // C4
        }
      }
      const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
      not_empty_.wait([&] { return closed() || readable(r); });
    }
  }

  // ---- shutdown (any thread) --------------------------------------------------------------------
  // After close(): every producer call fails (push() returns Closed); pop() drains what is left, then
  // returns false. Wakes all waiters. A push racing with close() either fails, or succeeds and its item
  // is returned by pop() before pop() reports false (the close protocol in the header comment).
  void close() noexcept {
    closed_.store(true, std::memory_order_release);  // release: pairs with the acquire in closed()
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  using Storage = detail::PaddedSlots<T>;  // detail/ring_storage.hpp
  using MarkStorage = detail::PaddedSlots<std::atomic<std::uint64_t>>;

  T* slot(std::uint64_t seq) const noexcept { return slots_ + (seq & mask_); }
  // The slot's mark: the end (w + n) of the last publishing call whose first slot it is. Only calls'
  // first slots are written, so any other slot keeps a mark from some earlier lap (or start_): nobody
  // resets a mark. See published_end() for why an old mark never passes for a new one.
  std::atomic<std::uint64_t>& mark(std::uint64_t seq) const noexcept { return marks_[seq & mask_]; }

  // Consumer: the end of the call published at sequence s, or s if none is (yet). Asked only for a
  // sequence s the consumer has not popped, with read_ <= s (so no call past read_ + capacity exists):
  //   * a call published at s stored s + n, n in [1, capacity]: m - s - 1 in [0, capacity);
  //   * otherwise the slot holds start_, or the end m of an earlier call at s - k*capacity (k >= 1) of
  //     at most capacity items, so start_ <= m <= s (counting from start_), and m - s - 1 wraps to
  //     2^64 - (s - m) - 1 >= capacity as long as s - start_ < 2^64 - capacity; s is asked up to
  //     read_ + capacity - 1, so: while fewer than 2^64 - 2 * capacity items have been popped (the
  //     header's limit).
  std::uint64_t published_end(std::uint64_t s) const noexcept {
    // acquire: pairs with the release in mark_published(); the call's constructions (or a claim's
    // assignments) are visible.
    const std::uint64_t m = mark(s).load(std::memory_order_acquire);
    return m - s - 1 < capacity() ? m : s;
  }

  // Ends an item's life. Trivially destructible items are left alone: their storage keeps holding live
  // objects (implicitly created with the slot array), so try_claim() may hand them out for assignment.
  static void destroy(T* item) noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) item->~T();
  }

  std::size_t free_slots(std::uint64_t w) const noexcept {
    return static_cast<std::size_t>(write_limit_ - w);
  }

  // Producer: reload read_ because the cached copy shows fewer than `want` free slots.
  bool refresh_read_cache(std::uint64_t w, std::size_t want) noexcept {
    // acquire: pairs with the release in release_slots(); the consumer's destruction of freed slots
    // happens-before we construct into them.
    write_limit_ = read_.load(std::memory_order_acquire) + capacity();
    return free_slots(w) >= std::min(want, capacity());
  }

  // Consumer: reload write_ because the cached copy shows fewer than `want` items.
  bool refresh_write_cache(std::uint64_t r, std::size_t want) noexcept {
    // acquire: pairs with the release in try_emplace()/push_batch()/commit(); their constructions are
    // visible to us.
    const std::uint64_t w = write_.load(std::memory_order_acquire);
    // write_ may trail what the marks already showed (a call stores its marks, then write_): keep the
    // larger, or write_cache_ - r would wrap and a batch would read unpublished slots.
    if (static_cast<std::int64_t>(w - write_cache_) > 0) write_cache_ = w;
    return write_cache_ - r >= want;
  }

  // Consumer: true if sequence r (read_) holds an item. Invariant: r <= write_cache_, every sequence
  // below write_cache_ is published, and write_cache_ is the end of a publishing call (write_ was read
  // that high, or a mark said so), so the mark of sequence write_cache_ is that of the next call. At the
  // cache's end a single pop asks that mark, on the line it reads next anyway, instead of write_, the
  // line the producer stores on every push: the consumer of a nearly empty ring never polls it.
  bool readable(std::uint64_t r) noexcept {
    if (r != write_cache_) return true;
    const std::uint64_t end = published_end(r);
    if (end == r) return false;
    // The calls published after it whose marks share r's line came with it: take them too, so a
    // consumer that trails a producer of single pushes gets up to a line of items per line fetched, as
    // a write_ reload gives it. Calls start at r + span - 1 at the latest on this line and within a lap
    // (a ring of at most a line's marks is one line). Ask the next call's mark; if it is published too
    // (the consumer trails), ask the last start's: a call published there implies every earlier one
    // (the producer marks in order), so a trailing consumer takes the line in one more load; else walk
    // the calls in order. A consumer that keeps up pays one load past r's, as before. Never a lap:
    // published_end() accepts only calls that exist, none past read_ + capacity.
    constexpr std::uint64_t kMarksPerLine = detail::kFalseSharingRange / sizeof(std::uint64_t);
    const std::uint64_t span =
        capacity() <= kMarksPerLine ? capacity() : kMarksPerLine - (r & (kMarksPerLine - 1));
    std::uint64_t taken = end - r;
    if (taken < span) {
      std::uint64_t next = published_end(r + taken);
      if (next != r + taken) {
        taken = next - r;
        const std::uint64_t last = r + span - 1;
        if (taken < span) {
          const std::uint64_t last_end = published_end(last);
          if (last_end != last) {
            taken = last_end - r;
          } else {
            while (taken < span && (next = published_end(r + taken)) != r + taken) taken = next - r;
          }
        }
      }
    }
    write_cache_ = r + taken;
    return true;
  }

  // Producer: publishes [w, w + n) to single pops: one mark, on the call's first slot, saying where the
  // call ends (stored after the constructions, before write_).
  void mark_published(std::uint64_t w, std::size_t n) noexcept {
    // release: the n constructions happen-before a pop that reads it; pairs with the acquire in
    // published_end().
    mark(w).store(w + n, std::memory_order_release);
  }

  void release_slots(std::uint64_t r, std::size_t count) noexcept {
    // release: hands the destroyed slots back; pairs with the acquire in refresh_read_cache().
    read_.store(r + count, std::memory_order_release);
    not_full_.notify();
  }

  SlotSpans<T> spans_at(std::uint64_t seq, std::size_t count) const noexcept {
    const std::size_t index = static_cast<std::size_t>(seq & mask_);
    const std::size_t first = std::min(count, capacity() - index);
    return {std::span<T>(slots_ + index, first), std::span<T>(slots_, count - first)};
  }

  // P1-P3 of the close protocol (header comment): announce that this call may publish up to `end`,
  // then check closed_. True if the queue is open: whatever the call then publishes (write_ = end) is
  // seen by a consumer's final check. False: closed, the announcement is retracted (P3'), and the call
  // must publish nothing. A call that returns true and then publishes nothing (a throwing
  // construction) must retract(w) itself.
  bool open_window(std::uint64_t w, std::uint64_t end) noexcept {
    // P1, relaxed: ordered before P3 by the StoreLoad barrier P2; C3 reads it (or later) after C2.
    announced_.store(end, std::memory_order_relaxed);
    detail::light_store_load_fence(asymmetric_);  // P2: pairs with C2 (heavy) in wait_out_publishers()
    // P3, relaxed: a fence-ordered read (P2 before it); what it orders is argued in the header comment.
    if (closed_.load(std::memory_order_relaxed)) [[unlikely]] {
      retract(w);
      return false;
    }
    return true;
  }

  // P3': this call publishes nothing after all; C3 stops waiting for it once it reads this value.
  void retract(std::uint64_t w) noexcept {
    // relaxed: C3 needs only to read it eventually (it re-reads); it publishes no data.
    announced_.store(w, std::memory_order_relaxed);
  }

  enum class Emplaced { Yes, Full, Closed };

  template <class... Args>
  Emplaced emplace_impl(Args&&... args) {
    typename detail::RoleCheck::Scope role(producer_role_, "producer");
    // relaxed: write_ is written only by this thread.
    const std::uint64_t w = write_.load(std::memory_order_relaxed);
    T* const item = slot(w);  // before P2: the compiler barrier would make us reload slots_ and mask_
    if (w == write_limit_ && !refresh_read_cache(w, 1)) [[unlikely]] {
      return closed() ? Emplaced::Closed : Emplaced::Full;  // a closed queue reports Closed, full or not
    }
    if (!open_window(w, w + 1)) [[unlikely]] return Emplaced::Closed;
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      ::new (static_cast<void*>(item)) T(std::forward<Args>(args)...);
    } else {
      try {
        ::new (static_cast<void*>(item)) T(std::forward<Args>(args)...);
      } catch (...) {
        retract(w);  // a throw publishes nothing
        throw;
      }
    }
    mark_published(w, 1);
    // release: publishes the slot to the batch paths (and ends the window: C3 waits for it); pairs with the
    // acquire of write_ in refresh_write_cache() and at C3. After the mark, so write_ >= x implies that
    // the marks of every sequence below x are visible too.
    write_.store(w + 1, std::memory_order_release);
    not_empty_.notify();
    return Emplaced::Yes;
  }

  // One try inline; everything after a failed try (overflow policy, hysteresis, waiting) out of line,
  // so push() inlines into the caller's loop.
  template <class V>
  PushResult push_impl(V&& value, std::chrono::steady_clock::time_point deadline) {
    const Emplaced e = emplace_impl(std::forward<V>(value));  // a failed try leaves value intact
    if (e == Emplaced::Yes) [[likely]] return PushResult::Pushed;
    return push_slow(std::forward<V>(value), e, deadline);
  }

  template <class V>
  RINGKIT_NOINLINE PushResult push_slow(V&& value, Emplaced e, std::chrono::steady_clock::time_point deadline) {
    for (;; e = emplace_impl(std::forward<V>(value))) {  // a failed try leaves value intact
      if (e == Emplaced::Yes) return PushResult::Pushed;
      if (e == Emplaced::Closed) return PushResult::Closed;
      if (overflow_ == Overflow::DropNewest) {
        // relaxed: a counter written only by the producer; stats() reads a snapshot.
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return PushResult::Dropped;
      }
      const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
      if (deadline == std::chrono::steady_clock::time_point::max()) {
        // Hysteresis (spin only, bounded; detail/resume_hysteresis.hpp): resume when capacity/8 is free.
        detail::ResumeHysteresis::wait(
            detail::ResumeHysteresis::threshold(capacity()),
            [&] {
              (void)refresh_read_cache(w, 1);
              return free_slots(w);
            },
            [&] { return write_limit_; }, [&] { return closed(); });
      }
      const bool ready = not_full_.wait_until(
          [&] { return closed() || refresh_read_cache(w, 1); }, deadline);
      if (!ready) return PushResult::TimedOut;
    }
  }

  // C2-C3 of the close protocol: after this, everything any successful producer call published is
  // visible, and no producer call will publish again.
  void wait_out_publishers() noexcept {
    detail::heavy_store_load_fence();  // C2: pairs with P2 in open_window()
    for (unsigned spins = 0;; detail::short_backoff(spins)) {
      // C3, relaxed: C2 follows P2 in the fence order, so this reads P1's announcement or a later one.
      const std::uint64_t announced = announced_.load(std::memory_order_relaxed);
      // acquire: pairs with the release of write_ that ends the window (emplace_impl, push_batch, commit).
      const std::uint64_t published = write_.load(std::memory_order_acquire);
      // modular: announced_ is read before write_, so either may be ahead; they differ by far less than 2^63
      if (static_cast<std::int64_t>(published - announced) >= 0) return;
    }
  }

  // pop() after seeing closed(): the consumer's half of the close protocol (C1..C4).
  bool drain_closed(T& out) {
    if (try_pop(out)) return true;
    wait_out_publishers();
    return try_pop(out);  // C4
  }

  // One try inline, the wait out of line (as push_impl).
  bool pop_impl(T& out, std::chrono::steady_clock::time_point deadline) {
    if (try_pop(out)) [[likely]] return true;
    return pop_slow(out, deadline);
  }

  // Entered after a failed try_pop().
  RINGKIT_NOINLINE bool pop_slow(T& out, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (closed()) return drain_closed(out);  // C1: closed (acquire) and empty
      const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
      if (!not_empty_.wait_until([&] { return closed() || readable(r); }, deadline)) {
        return try_pop(out);
      }
      if (try_pop(out)) return true;
    }
  }

  // ---- producer-written ----
  alignas(detail::kFalseSharingRange) std::atomic<std::uint64_t> write_{0};
  std::uint64_t write_limit_ = 0;  // read_ as last loaded + capacity: the push fast path's one compare
  std::uint64_t claim_at_ = 0;   // write_ when try_claim() ran
  std::size_t claimed_ = 0;      // slots that claim handed out
  std::atomic<std::uint64_t> dropped_{0};
  [[no_unique_address]] detail::RoleCheck producer_role_;

  // ---- producer-written, read by the consumer only after close(): its own block, so the store per
  // push (P1) never pulls write_'s line back from a consumer that just read it ----
  alignas(detail::kFalseSharingRange) std::atomic<std::uint64_t> announced_{0};  // P1: may publish up to

  // ---- consumer-written ----
  alignas(detail::kFalseSharingRange) std::atomic<std::uint64_t> read_{0};
  std::uint64_t write_cache_ = 0;
  [[no_unique_address]] detail::RoleCheck consumer_role_;

  // ---- written once (construction, close), read by both ----
  alignas(detail::kFalseSharingRange) T* const slots_;
  std::atomic<std::uint64_t>* marks_ = nullptr;  // capacity marks, one per slot (readable()); set in the constructor
  const std::uint64_t mask_;
  const Overflow overflow_;
  std::atomic<bool> closed_{false};
  const bool asymmetric_ = detail::asymmetric_fences_enabled();  // P2's choice, read with closed_
  const std::uint64_t start_;

  // ---- wait strategies: written only on the slow path ----
  alignas(detail::kFalseSharingRange) Wait not_empty_;
  alignas(detail::kFalseSharingRange) Wait not_full_;

};

}  // namespace ringkit
