// SPDX-License-Identifier: MIT
#pragma once
// Wait strategies: how a thread waits for a queue to become non-empty (consumer) or non-full (producer).
//
//   BusySpin  PAUSE-loop forever              lowest latency; collapses under oversubscription
//   Yielding  spin, then sched_yield()        default; survives oversubscription; 100% CPU when idle
//   Sleeping  spin, yield, sleep 1..200 µs    ~0% CPU when idle; up to ~200 µs extra latency after idle
//   Blocking  spin/yield ~20 µs, futex park   0% CPU when idle; a wake-up costs a syscall on each side
//             (the waker's next wait polls up to 4,000 yields more before parking: the woken thread is on its way)
//   Parking   futex park at once              as Blocking, for more threads than cores
//
// A strategy waits for a caller-supplied predicate; the queue calls notify() after each publish and
// notify_all() on close(). Only Blocking and Parking do anything in notify().
#include <chrono>
#include <concepts>

#include "ringkit/wait/blocking.hpp"
#include "ringkit/wait/busy_spin.hpp"
#include "ringkit/wait/sleeping.hpp"
#include "ringkit/wait/yielding.hpp"

namespace ringkit {

namespace detail {
struct AlwaysReady {
  bool operator()() const noexcept { return true; }
};
}  // namespace detail

template <class W>
concept WaitStrategy =
    std::default_initializable<W> &&
    requires(W& w, detail::AlwaysReady ready, std::chrono::steady_clock::time_point deadline) {
      w.wait(ready);
      { w.wait_until(ready, deadline) } -> std::same_as<bool>;
      w.notify();
      w.notify_all();
    };

static_assert(WaitStrategy<BusySpin> && WaitStrategy<Yielding> && WaitStrategy<Sleeping> &&
              WaitStrategy<Blocking> && WaitStrategy<Parking>);

}  // namespace ringkit
