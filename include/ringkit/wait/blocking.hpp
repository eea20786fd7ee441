// SPDX-License-Identifier: MIT
#pragma once
// Blocking: spin, then yield, for up to about kSpinFor; then park on a futex. Idle costs no CPU; while
// the peer keeps the queue busy, hand-offs complete before parking and never pay the ~25 µs wake-up of
// a parked thread. A thread whose notify() woke a parked thread polls up to kWakeGraceYields more times in
// its next wait before parking (detail::woke_a_peer below): the woken thread is on its way. And a thread
// that a notify() woke from a short park polls up to kWokenGraceYields more times in its next wait on the
// same strategy before parking again (detail::woken_from_short_park below): its peer is busy, and
// parking again would start a chain of wake-ups.
// The notify side makes a futex syscall only when some thread is registered as parked (or about to
// park), and on Linux pays no fence either: its StoreLoad barrier is the light half of an asymmetric
// pair whose heavy half (membarrier) the parking thread pays (detail/fence.hpp). membarrier's
// process-wide registration (milliseconds) runs when the strategy is constructed, i.e. with its queue,
// never inside the first park.
//
// Protocol (W = waiter, N = notifier; `ready` reads the queue index N publishes):
//   W0 e = epoch_ (acquire)              N1 publish the index (release store in the queue)
//   W1 waiters_ += 1 (RMW)               N2 light StoreLoad
//   W2 heavy StoreLoad                   N3 if waiters_ == 0: done (no syscall, no RMW)
//   W4 if ready(): waiters_ -= 1; done   N4 epoch_ += 1 (release)
//   W5 k = futex_wait(epoch_, e)         N5 k = futex_wake(epoch_, 1, or all for notify_all())
//   W6 if not woken by a wake: waiters_ -= 1     waiters_ -= k (un-counts exactly the threads it woke)
//   W7 if ready(): done; else back to W0
// Why no wake-up is lost: W2 and N2 act as two seq_cst fences, so one precedes the other. If N2 comes
// first, W4 sees N1 and W does not park. If W2 comes first, (a) N3 reads W1's increment or a later value
// of waiters_, and every later value still counts W: each thread's decrement follows its own increment,
// and N5 un-counts only threads it dequeued; so N3 sees waiters_ != 0 and bumps the epoch; (b) W0 read
// an epoch older than N4's bump (else N4 would be coherence-ordered before W0, putting N2 before W2).
// So W's futex_wait either returns at once (the epoch moved) or W sleeps and is queued when N5 runs.
// N5 wakes one queued thread: W, or another waiter that will take the item N1 published (all waiters
// of one strategy wait for the same condition); one item needs one consumer, so the rest stay parked
// (MPMC: one push does not wake every parked consumer, and no loser re-parks with a membarrier).
// close() uses notify_all(). W1 is a read-modify-write, so several waiters arming never cut each
// other's registration short (a plain store of a flag would); W4/W6 un-count the waiter's own
// registration, so a waiter that returned early leaves nothing behind for the next notify() to pay for.
// tests/model/blocking_wait.pml checks this exhaustively with two waiters arming and parking at once,
// and catches its mutants (the barrier missing; an early return not un-counting; a woken waiter
// un-counted twice; a wake not un-counted). Neither grace changes the protocol: each is more polling
// before W0, like the spin phase (which the model folds into "found nothing yet"), and wake_stamp_, the
// hint that decides the woken-side grace, is read and written outside W0..W7/N1..N5's orderings.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>

#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/futex.hpp"

namespace ringkit {

namespace detail {
// Set by a thread whose notify() woke a parked thread; cleared by that thread's next wait. A parked
// thread takes from ~0.1 to several ms to run again on the reference VM (its core has gone idle or to
// another task), far longer than the spin phase. Without this, a producer that woke its consumer fills
// the ring, spins out its phase and parks before the consumer is back; the consumer drains the ring,
// wakes the producer and parks before the producer is back: a convoy in which every ring-full of items
// costs two wake-ups. The waker's next wait that outlasts its spin phase therefore keeps polling with
// yields for kWakeGraceYields more polls (the woken peer is on its way), once per wake.
inline thread_local bool woke_a_peer = false;

// Set by a thread that a notify() (never notify_all()) woke from a short park -- the notify issued its
// wake less than kShortPark after the thread parked -- to the strategy it parked on. Cleared by this
// thread's very next wait, whichever strategy that is on, and honoured only if it is on the same one: that
// wait polls up to kWokenGraceYields more times before parking again. Why: a futex wake costs the waker
// ~25 µs of syscall on the reference VM, longer than the ~20 µs spin phase, and a parked thread takes up to
// milliseconds to run again; a thread woken by a peer that publishes at a high rate would otherwise drain
// what is there, spin out its phase while the peer is inside futex_wake() or descheduled, and park again:
// a chain of wake-ups (measured 86-101 parks per ringbench streaming run on a loaded day). A long park
// (a peer publishing every millisecond, an idle queue) grants nothing, so waiting on a slow peer costs what
// it did without the grace (tests/blocking_cpu_cost_test.cpp pins that; a grace after every wake cost a
// low-rate consumer 20-26 % of a core instead of 1.4-9 %).
inline thread_local const void* woken_from_short_park = nullptr;
}  // namespace detail

// The protocol, with the length of the spin phase as a parameter. Use the aliases below.
template <std::int64_t SpinNanos>
class BlockingWait {
 public:
  static_assert(SpinNanos >= 0);
  static constexpr std::chrono::nanoseconds kSpinFor{SpinNanos};
  static constexpr unsigned kPauses = SpinNanos > 0 ? 64 : 0;
  // Without a deadline the spin phase counts yields instead of reading the clock: a sched_yield() with
  // nothing else runnable takes ~150-470 ns on the reference VM (measured), so kSpinFor / 250 ns yields
  // last about kSpinFor (longer only while other threads run, i.e. while we are not burning the core).
  static constexpr unsigned kYields = static_cast<unsigned>(SpinNanos / 250);
  // After this thread woke a parked peer: polls (with yields) before parking: ~0.6 ms at the ~150 ns a
  // yield takes on an idle core, up to ~6 ms of CPU measured on a loaded 2-vCPU VM (1.4 µs per yield).
  // Per thread, not per strategy object: a producer wakes through not_empty and waits through not_full.
  static constexpr unsigned kWakeGraceYields = SpinNanos > 0 ? 4000 : 0;
  // After a notify() woke this thread less than kShortPark after it parked: polls (with yields) in its next
  // wait on the same strategy before parking again, 8x the spin phase's yields (~0.2 ms of CPU measured on
  // the idle VM). A peer that publishes more than kShortPark after we park grants nothing. The price:
  // a consumer whose producer publishes every ~50-150 µs polls up to that much more per item (measured in
  // docs/queue-fixes.md); below ~20 µs the spin phase catches every item, above ~100 µs nothing changes.
  static constexpr unsigned kWokenGraceYields = SpinNanos > 0 ? 8 * kYields : 0;
  static constexpr std::chrono::nanoseconds kShortPark{SpinNanos > 0 ? 5 * SpinNanos : 0};
  static constexpr std::int64_t kBroadcast = INT64_MIN;  // wake_stamp_ after notify_all(): no grace

  // Registers membarrier for the process now (once per process), so the first park does not pay it.
  BlockingWait() noexcept : asymmetric_(detail::asymmetric_fences_enabled()) {}
  BlockingWait(const BlockingWait&) = delete;
  BlockingWait& operator=(const BlockingWait&) = delete;

  template <class Ready>
  void wait(Ready&& ready) {
    (void)wait_impl(ready, nullptr);
  }

  // Reads the clock only when `deadline` is not time_point::max().
  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (deadline == std::chrono::steady_clock::time_point::max()) return wait_impl(ready, nullptr);
    return wait_impl(ready, &deadline);
  }

  // Call after publishing a change a waiter may be waiting for: wakes one parked waiter, if any.
  void notify() noexcept { wake(1); }

  // Wakes every parked waiter (close(), or a change every waiter must see).
  void notify_all() noexcept { wake(INT_MAX); }

  // Threads registered as parked or about to park (a snapshot; tests and diagnostics).
  [[nodiscard]] std::uint32_t waiters() const noexcept {
    return waiters_.load(std::memory_order_relaxed);  // relaxed: a snapshot that orders nothing
  }

 private:
  template <class Ready>
  bool wait_impl(Ready& ready, const std::chrono::steady_clock::time_point* deadline) {
    // The woken-side grace applies to this wait only, and only on the strategy that granted it.
    const bool woken_grace = detail::woken_from_short_park == this;
    detail::woken_from_short_park = nullptr;
    if (spin(ready, deadline)) return true;
    if (wake_grace(ready, deadline)) return true;
    if (woken_grace && grace(ready, deadline, kWokenGraceYields)) return true;
    for (;;) {
      auto left = std::chrono::nanoseconds::max();
      if (deadline != nullptr) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= *deadline) return ready();  // before W1: an expired wait never pays for membarrier
        left = std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now);
      }
      // W0, acquire: pairs with the release bump at N4 (a moved epoch carries what N published).
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
      // W1, relaxed RMW: ordered before W4 by the barrier W2, which is what N3 relies on (proof above);
      // an RMW, so concurrent waiters add up instead of overwriting each other.
      waiters_.fetch_add(1, std::memory_order_relaxed);
      detail::heavy_store_load_fence();  // W2: pairs with N2 in wake()
      if (ready()) {                     // W4
        // relaxed: un-counts our own registration; a notifier reading a stale count pays one spare wake.
        waiters_.fetch_sub(1, std::memory_order_relaxed);
        return true;
      }
      // Read without a deadline too, on the park path only: it has paid a membarrier (W2) and is about to
      // pay a futex syscall; a steady_clock read costs ~0.1 µs here. Parking (no grace) reads nothing.
      const std::int64_t parked_at = kWokenGraceYields > 0 ? now_ns() : 0;
      const bool woken = detail::futex_wait(epoch_, epoch, left);  // W5: returns at once if the epoch moved
      // W6, relaxed: as at W4. A waker that dequeued us un-counted us already (N5).
      if (!woken) waiters_.fetch_sub(1, std::memory_order_relaxed);
      // Only the last park of this wait counts: a re-park below overwrites the grant.
      detail::woken_from_short_park = woken && woken_soon_after(parked_at) ? this : nullptr;
      if (ready()) return true;  // W7
    }
  }

  // True if a notify() (not notify_all()) issued its wake less than kShortPark after we parked: the peer is
  // publishing at a high rate. Compares the waker's stamp with our own, so the time this thread then took
  // to run again (up to milliseconds on a VM whose idle vCPU the host descheduled) does not count.
  [[nodiscard]] bool woken_soon_after(std::int64_t parked_at) const noexcept {
    if constexpr (kWokenGraceYields == 0) {
      return false;
    } else {
      // relaxed: a hint that decides only whether our next wait polls longer; a stale or overwritten stamp
      // (two wakes at once) costs or saves one grace, never a wake-up: no part of the argument above.
      const std::int64_t woke_at = wake_stamp_.load(std::memory_order_relaxed);
      return woke_at != kBroadcast && woke_at - parked_at < kShortPark.count();
    }
  }

  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void wake(int count) noexcept {
    detail::light_store_load_fence(asymmetric_);  // N2: pairs with W2 in wait_impl()
    // N3, relaxed: ordered after N1 by N2; the proof above is about which value it can read.
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    if constexpr (kWokenGraceYields > 0) {
      // A clock read only here, where a waiter is registered and a futex syscall follows (~25 µs).
      // relaxed: a hint for woken_soon_after(), which says why it needs no ordering.
      wake_stamp_.store(count == 1 ? now_ns() : kBroadcast, std::memory_order_relaxed);
    }
    // N4, release: pairs with the acquire load at W0, carrying N1 with it.
    epoch_.fetch_add(1, std::memory_order_release);
    const int woken = detail::futex_wake(epoch_, count);  // N5
    // relaxed: un-counts the threads the kernel dequeued for us (they do not un-count themselves).
    if (woken > 0) {
      waiters_.fetch_sub(static_cast<std::uint32_t>(woken), std::memory_order_relaxed);
      detail::woke_a_peer = true;  // our next wait gives the woken thread time to get back (wake_grace)
    }
  }

  // Once per wake this thread issued: keep polling (with yields) before parking, long enough for the
  // thread we woke to be running again. Otherwise returns false at once. Reads the clock only with a
  // deadline (every 32 polls).
  template <class Ready>
  static bool wake_grace(Ready& ready, const std::chrono::steady_clock::time_point* deadline) {
    if constexpr (kWakeGraceYields == 0) {
      return false;
    } else {
      if (!detail::woke_a_peer) return false;
      detail::woke_a_peer = false;
      return grace(ready, deadline, kWakeGraceYields);
    }
  }

  // Polls `ready` up to `yields` times with a yield between polls. Reads the clock only with a deadline
  // (every 32 polls).
  template <class Ready>
  static bool grace(Ready& ready, const std::chrono::steady_clock::time_point* deadline, unsigned yields) {
    for (unsigned i = 0; i < yields; ++i) {
      if (ready()) return true;
      if (deadline != nullptr && (i & 31u) == 0 && std::chrono::steady_clock::now() >= *deadline) return false;
      std::this_thread::yield();
    }
    return ready();
  }

  // Up to kSpinFor before parking: kPauses PAUSE-polls first (a peer running on the other core answers
  // within them), then sched_yield() between polls, so that when threads outnumber cores the thread we
  // wait for can have this core instead of watching us spin.
  template <class Ready>
  static bool spin(Ready& ready, const std::chrono::steady_clock::time_point* deadline) {
    if constexpr (SpinNanos == 0) {
      return ready();
    } else {
      for (unsigned i = 0; i < kPauses; ++i) {
        if (ready()) return true;
        detail::cpu_relax();
      }
      if (deadline == nullptr) {  // no clock: a bounded number of yields
        for (unsigned i = 0; i < kYields; ++i) {
          if (ready()) return true;
          std::this_thread::yield();
        }
        return ready();
      }
      const auto spin_end = std::min(*deadline, std::chrono::steady_clock::now() + kSpinFor);
      for (;;) {
        if (ready()) return true;
        if (std::chrono::steady_clock::now() >= spin_end) return false;
        std::this_thread::yield();
      }
    }
  }

  std::atomic<std::uint32_t> waiters_{0};  // registered waiters (W1 .. W4/W6 or the waker's un-count)
  std::atomic<std::uint32_t> epoch_{0};    // the futex word: bumped by each waking notify
  // When the last waking notify() called futex_wake (steady_clock ns), or kBroadcast after notify_all().
  std::atomic<std::int64_t> wake_stamp_{kBroadcast};
  const bool asymmetric_;                  // asymmetric_fences_enabled(), decided once per process
};

// Spins (then yields) about as long as waking a parked thread costs on the reference VM (~20 µs,
// docs/results.md) before parking: the waste is bounded at ~2x while busy hand-offs stay in user space.
using Blocking = BlockingWait<20'000>;

// Parks at once. For pipelines with more threads than cores, where a spinning waiter holds the core
// the thread it waits for needs (docs/ring-buffer-evaluation.md measured this on 2 cores).
using Parking = BlockingWait<0>;

}  // namespace ringkit
