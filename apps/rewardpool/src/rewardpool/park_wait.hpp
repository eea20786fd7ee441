#pragma once
// ParkWait: ringkit's Blocking wait protocol without its ~20 µs spin phase. A waiter that finds the
// predicate false parks on the futex at once. Written for the evaluation: on a machine with fewer cores
// than pipeline threads (client, actor, flusher), a spinning waiter holds the core the thread it waits
// for needs, so Blocking pays the spin and then parks anyway. Satisfies ringkit::WaitStrategy.
//
// Lost-wake-up argument: the one in include/ringkit/wait/blocking.hpp, unchanged (W1-W5 / N1-N4); the
// spin phase removed here precedes W1 and plays no part in it.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "ringkit/detail/fence.hpp"
#include "ringkit/detail/futex.hpp"
#include "ringkit/wait_strategy.hpp"

namespace rewardpool {

class ParkWait {
 public:
  template <class Ready>
  void wait(Ready&& ready) {
    (void)wait_until(ready, std::chrono::steady_clock::time_point::max());
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (ready()) return true;
    for (;;) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);  // W1
      ringkit::detail::store_load_fence();               // W2: pairs with N2 in notify()
      // acquire: pairs with the release bump in notify(); seeing it implies seeing what N published.
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);  // W3
      if (ready()) {                                                       // W4
        waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only gates syscalls
        return true;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
        return false;
      }
      const auto left = deadline == std::chrono::steady_clock::time_point::max()
                            ? std::chrono::nanoseconds::max()
                            : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      ringkit::detail::futex_wait(epoch_, epoch, left);  // W5
      waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
      if (ready()) return true;
    }
  }

  void notify() noexcept {
    ringkit::detail::store_load_fence();  // N2: pairs with W2 in wait_until()
    // relaxed: ordered after N1 (the queue's publishing store) by the fence above.
    if (waiters_.load(std::memory_order_relaxed) != 0) {
      epoch_.fetch_add(1, std::memory_order_release);  // release: pairs with the acquire at W3
      ringkit::detail::futex_wake_all(epoch_);
    }
  }

  void notify_all() noexcept { notify(); }

 private:
  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<std::uint32_t> epoch_{0};
};

static_assert(ringkit::WaitStrategy<ParkWait>);

}  // namespace rewardpool
