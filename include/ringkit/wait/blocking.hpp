#pragma once
// Blocking: spin, then yield, for up to kSpinFor; then park on a futex. Idle costs no CPU; while the
// peer keeps the queue busy, hand-offs complete before parking and never pay the ~25 µs wake-up of a
// parked thread.
// The notify side makes a futex syscall only when some thread is parked (or about to park), and on
// Linux pays no fence either: its StoreLoad barrier is the light half of an asymmetric pair whose heavy
// half (membarrier) the parking thread pays (detail/fence.hpp).
//
// Lost-wake-up argument (W = waiter, N = notifier; `ready` reads the queue index N publishes):
//   W0 e = epoch_                  N1 publish the index (release store in the queue)
//   W1 parked_ = 1 (release)       N2 light StoreLoad
//   W2 heavy StoreLoad             N3 if parked_ != 0 and exchange(parked_, 0) != 0 (acq_rel):
//   W4 if ready(): done            N4     epoch_ += 1; futex_wake_all(epoch_)
//   W5 futex_wait(epoch_, e), then back to W0
// W2 and N2 together act as two seq_cst fences (membarrier makes N's CPU execute a full barrier at
// some point during W2), so one is ordered before the other. If N2 comes first, W4 sees N1 and W does
// not park. If W2 comes first, N3 reads W1's flag, or a later re-arm, or 0 because another notifier
// consumed it first; whichever notifier consumed it read W1 or later, so by the release at W1 and the
// acquire at N3 its bump at N4 happens after W0: the epoch moves past e and the futex at W5 returns
// or is woken. Either way no wake-up is lost. Reading e before arming (W0 before W1) matters when
// waiters compete (MPMC): a waiter whose flag was consumed by a wake meant for an item another
// consumer then took still holds the old e, so its futex_wait returns and it re-arms.
// The flag is consumed by the notifier that wakes (N3's exchange), so a burst of pushes while a woken
// thread is still being scheduled makes one wake syscall, not one per push. A waiter that returns at
// W4 leaves its flag set (clearing it could erase another waiter's); that costs at most one spare wake.
// tests/model/blocking_wait.pml checks this protocol exhaustively with two competing consumers, and
// must catch its mutants (the epoch read after arming; the StoreLoad barrier missing).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/futex.hpp"

namespace ringkit {

// The protocol, with the length of the spin phase as a parameter. Use the aliases below.
template <std::int64_t SpinNanos>
class BlockingWait {
 public:
  static_assert(SpinNanos >= 0);
  static constexpr std::chrono::nanoseconds kSpinFor{SpinNanos};
  static constexpr unsigned kPauses = SpinNanos > 0 ? 64 : 0;

  template <class Ready>
  void wait(Ready&& ready) {
    (void)wait_until(ready, std::chrono::steady_clock::time_point::max());
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (spin(ready, deadline)) return true;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return ready();  // before W1: an expired wait never pays for membarrier
      // W0, acquire: pairs with the release bump in notify() (a moved epoch carries what N published).
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
      // W1, release: pairs with the acq_rel exchange in notify(); the notifier that consumes this flag
      // bumps the epoch after our W0, so our futex_wait cannot sleep through that bump.
      parked_.store(1, std::memory_order_release);
      detail::heavy_store_load_fence();  // W2: pairs with N2 in notify()
      if (ready()) return true;          // W4
      const auto left = deadline == std::chrono::steady_clock::time_point::max()
                            ? std::chrono::nanoseconds::max()
                            : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      detail::futex_wait(epoch_, epoch, left);  // W5: returns at once if the epoch already moved
      if (ready()) return true;
    }
  }

  // Call after publishing a change some waiter may be waiting for.
  void notify() noexcept {
    detail::light_store_load_fence();  // N2: pairs with W2 in wait_until()
    // relaxed load: ordered after N1 by N2, and only a filter for the exchange. acq_rel exchange: one
    // notifier consumes the flag; the acquire pairs with the release at W1 (the bump follows the W0 of
    // every waiter whose flag it consumed).
    if (parked_.load(std::memory_order_relaxed) != 0 && parked_.exchange(0, std::memory_order_acq_rel) != 0) {
      // release: pairs with the acquire load at W0, carrying N1 with it.
      epoch_.fetch_add(1, std::memory_order_release);
      detail::futex_wake_all(epoch_);
    }
  }

  void notify_all() noexcept { notify(); }

  private:
  // Up to kSpinFor before parking: kPauses PAUSE-polls first (a peer running on the other core answers
  // within them), then sched_yield() between polls, so that when threads outnumber cores the thread we
  // wait for can have this core instead of watching us spin.
  template <class Ready>
  static bool spin(Ready& ready, std::chrono::steady_clock::time_point deadline) {
    if constexpr (SpinNanos == 0) {
      return ready();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return ready();
    const auto spin_end = std::min(deadline, now + kSpinFor);
    for (unsigned i = 0; i < kPauses; ++i) {
      if (ready()) return true;
      detail::cpu_relax();
    }
    for (;;) {
      if (ready()) return true;
      if (std::chrono::steady_clock::now() >= spin_end) return false;
      std::this_thread::yield();
    }
  }

  std::atomic<std::uint32_t> parked_{0};  // 1: some thread may be parked or about to park
  std::atomic<std::uint32_t> epoch_{0};   // the futex word: bumped by each waking notify()
};

// Spins (then yields) about as long as waking a parked thread costs on the reference VM (~20 µs,
// docs/results.md) before parking: the waste is bounded at ~2x while busy hand-offs stay in user space.
using Blocking = BlockingWait<20'000>;

// Parks at once. For pipelines with more threads than cores, where a spinning waiter holds the core
// the thread it waits for needs (docs/ring-buffer-evaluation.md measured this on 2 cores).
using Parking = BlockingWait<0>;

}  // namespace ringkit
