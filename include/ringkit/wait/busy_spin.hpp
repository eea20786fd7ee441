// SPDX-License-Identifier: MIT
#pragma once
// BusySpin: poll forever with a PAUSE hint. Lowest hand-off latency while every thread has its own core;
// under oversubscription a spinning thread burns its whole time slice while the thread it waits for is
// descheduled, so throughput collapses to what the scheduler's preemption allows (see docs/results.md).
#include <chrono>

#include "ringkit/detail/cpu_relax.hpp"

namespace ringkit {

struct BusySpin {
  template <class Ready>
  void wait(Ready&& ready) noexcept(noexcept(ready())) {
    while (!ready()) detail::cpu_relax();
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (deadline == std::chrono::steady_clock::time_point::max()) {  // no deadline: no clock reads
      wait(ready);
      return true;
    }
    for (unsigned i = 0;; ++i) {
      if (ready()) return true;
      if ((i & 63u) == 0 && std::chrono::steady_clock::now() >= deadline) return ready();
      detail::cpu_relax();
    }
  }

  // Nothing parks, so there is nobody to wake.
  void notify() noexcept {}
  void notify_all() noexcept {}
};

}  // namespace ringkit
