#pragma once
// Blocking: spin for up to kSpinFor, then park on a futex. Idle costs no CPU; while the peer keeps the
// queue busy, hand-offs complete in the spin phase and never pay the ~25 µs wake-up of a parked thread.
// The notify side makes a futex syscall only when some thread is parked (or about to park), and on
// Linux pays no fence either: its StoreLoad barrier is the light half of an asymmetric pair whose heavy
// half (membarrier) the parking thread pays (detail/fence.hpp).
//
// Lost-wake-up argument (W = waiter, N = notifier; `ready` reads the queue index N publishes):
//   W1 waiters_ += 1          N1 publish the index (release store in the queue)
//   W2 heavy StoreLoad        N2 light StoreLoad
//   W3 e = epoch_             N3 if waiters_ != 0:
//   W4 if ready(): done       N4     epoch_ += 1; futex_wake(epoch_)
//   W5 futex_wait(epoch_, e)
// W2 and N2 together act as two seq_cst fences (membarrier makes N's CPU execute a full barrier at
// some point during W2), so one is ordered before the other. If W2 comes first, N3 reads W1's increment
// and N bumps the epoch; W either read the bumped epoch at W3 (then, by the acquire at W3 synchronizing
// with the release at N4, W4 sees N1) or the futex sees epoch_ != e and returns at W5. If N2 comes
// first, W4 sees N1 and W never parks. Either way no wake-up is lost. tests/model/blocking_wait.pml
// checks this protocol exhaustively (with a mutant that reads the epoch too late, which it catches).
#include <atomic>
#include <chrono>
#include <cstdint>

#include "ringkit/detail/cpu_relax.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/futex.hpp"

namespace ringkit {

class Blocking {
 public:
  // About the cost of waking a parked thread on the reference VM (docs/results.md): spinning that
  // long before parking bounds the waste at 2x while keeping busy hand-offs in user space.
  static constexpr std::chrono::nanoseconds kSpinFor{20'000};

  template <class Ready>
  void wait(Ready&& ready) {
    (void)wait_until(ready, std::chrono::steady_clock::time_point::max());
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (spin(ready, deadline)) return true;
    for (;;) {
      // seq_cst RMW + W2: see the argument above (pairs with N2 in notify()).
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      detail::heavy_store_load_fence();
      // acquire: pairs with the release bump in notify(); seeing it implies seeing what N published.
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
      if (ready()) {
        // relaxed: the count only gates syscalls; a late decrement costs at most one spare wake.
        waiters_.fetch_sub(1, std::memory_order_relaxed);
        return true;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        waiters_.fetch_sub(1, std::memory_order_relaxed);
        return false;
      }
      const auto left = deadline == std::chrono::steady_clock::time_point::max()
                            ? std::chrono::nanoseconds::max()
                            : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      detail::futex_wait(epoch_, epoch, left);
      waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
      if (ready()) return true;
    }
  }

  // Call after publishing a change some waiter may be waiting for.
  void notify() noexcept {
    detail::light_store_load_fence();  // N2: pairs with W2 in wait_until()
    // relaxed: ordered after N1 by the fence above.
    if (waiters_.load(std::memory_order_relaxed) != 0) {
      // release: pairs with the acquire load at W3, carrying N1 with it.
      epoch_.fetch_add(1, std::memory_order_release);
      detail::futex_wake_all(epoch_);
    }
  }

  void notify_all() noexcept { notify(); }

  // Racy observer, for tests and stats: threads parked or about to park right now.
  [[nodiscard]] std::uint32_t waiters_approx() const noexcept {
    return waiters_.load(std::memory_order_relaxed);  // relaxed: a snapshot, orders nothing
  }

 private:
  template <class Ready>
  static bool spin(Ready& ready, std::chrono::steady_clock::time_point deadline) {
    const auto spin_end = std::min(deadline, std::chrono::steady_clock::now() + kSpinFor);
    for (unsigned i = 1;; ++i) {
      if (ready()) return true;
      if ((i & 63u) == 0 && std::chrono::steady_clock::now() >= spin_end) return false;
      detail::cpu_relax();
    }
  }

  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<std::uint32_t> epoch_{0};
};

}  // namespace ringkit
