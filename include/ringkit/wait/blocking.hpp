// SPDX-License-Identifier: MIT
#pragma once
// Blocking: spin, then yield, for up to about kSpinFor; then park on a futex. Idle costs no CPU; while
// the peer keeps the queue busy, hand-offs complete before parking and never pay the ~25 µs wake-up of
// a parked thread. A thread whose notify() woke a parked thread polls up to kWakeGraceYields more times in
// its next wait before parking (detail::woke_a_peer below): the woken thread is on its way.
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
// un-counted twice; a wake not un-counted). The wake grace does not change the protocol: it is more
// polling before W0, like the spin phase (which the model folds into "found nothing yet").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>
#include <utility>

#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/futex.hpp"

namespace ringkit {

namespace detail {
// Set by a thread whose notify()/notify_all() on a strategy with a wake grace (Blocking, not Parking) woke
// exactly one parked thread; taken (read and cleared) by that thread's next wait on any BlockingWait
// strategy, whether or not that wait outlasts its spin phase, so a stale flag never grants. A parked
// thread takes from ~0.1 to several ms to run again on the reference VM (its core has gone idle or to
// another task), far longer than the spin phase. Without this, a producer that woke its consumer fills
// the ring, spins out its phase and parks before the consumer is back; the consumer drains the ring,
// wakes the producer and parks before the producer is back: a convoy in which every ring-full of items
// costs two wake-ups. The waker's next wait that outlasts its spin phase therefore keeps polling with
// yields for kWakeGraceYields more polls (the woken peer is on its way), once per wake.
inline thread_local bool woke_a_peer = false;
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
    // The wake grace belongs to this wait only: the one right after our notify() woke a peer.
    // Taken on every strategy (Parking too), so a grant never outlives the waker's next wait.
    const bool after_wake = std::exchange(detail::woke_a_peer, false) && kWakeGraceYields > 0;
    if (spin(ready, deadline)) return true;
    if (after_wake && wake_grace(ready, deadline)) return true;
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
      const bool woken = detail::futex_wait(epoch_, epoch, left);  // W5: returns at once if the epoch moved
      // W6, relaxed: as at W4. A waker that dequeued us un-counted us already (N5).
      if (!woken) waiters_.fetch_sub(1, std::memory_order_relaxed);
      if (ready()) return true;  // W7
    }
  }

  void wake(int count) noexcept {
    detail::light_store_load_fence(asymmetric_);  // N2: pairs with W2 in wait_impl()
    // N3, relaxed: ordered after N1 by N2; the proof above is about which value it can read.
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    // N4, release: pairs with the acquire load at W0, carrying N1 with it.
    epoch_.fetch_add(1, std::memory_order_release);
    const int woken = detail::futex_wake(epoch_, count);  // N5
    // relaxed: un-counts the threads the kernel dequeued for us (they do not un-count themselves).
    if (woken > 0) {
      waiters_.fetch_sub(static_cast<std::uint32_t>(woken), std::memory_order_relaxed);
      // Our next wait gives the woken thread time to get back (wake_grace). Only when the kernel woke
      // exactly one thread (a notify(), or a notify_all() that found one parked: MpscQueue's batches): a
      // one-to-one hand-off, the convoy's shape. Waking several is no convoy of two.
      if constexpr (kWakeGraceYields > 0) {
        if (woken == 1) detail::woke_a_peer = true;
      }
    }
  }

  // In the wait right after this thread's notify() woke a peer: keep polling (with yields) before parking,
  // long enough for the thread we woke to be running again. Reads the clock only with a deadline (every
  // 32 polls).
  template <class Ready>
  static bool wake_grace(Ready& ready, const std::chrono::steady_clock::time_point* deadline) {
    if constexpr (kWakeGraceYields == 0) {
      return false;
    } else {
      for (unsigned i = 0; i < kWakeGraceYields; ++i) {
        if (ready()) return true;
        if (deadline != nullptr && (i & 31u) == 0 && std::chrono::steady_clock::now() >= *deadline) return false;
        std::this_thread::yield();
      }
      return ready();
    }
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
  const bool asymmetric_;                  // asymmetric_fences_enabled(), decided once per process
};

// Spins (then yields) about as long as waking a parked thread costs on the reference VM (~20 µs,
// docs/results.md) before parking: the waste is bounded at ~2x while busy hand-offs stay in user space.
using Blocking = BlockingWait<20'000>;

// Parks at once. For pipelines with more threads than cores, where a spinning waiter holds the core
// the thread it waits for needs (docs/ring-buffer-evaluation.md measured this on 2 cores).
using Parking = BlockingWait<0>;

}  // namespace ringkit
