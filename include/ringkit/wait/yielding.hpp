// SPDX-License-Identifier: MIT
#pragma once
// Yielding: spin briefly, then sched_yield() between polls. Near-spin latency while a peer is running,
// and a descheduled peer gets the core back at once; it still shows as 100% CPU while idle.
#include <chrono>
#include <thread>

#include "ringkit/detail/cpu_relax.hpp"

namespace ringkit {

struct Yielding {
  static constexpr unsigned kSpins = 128;

  template <class Ready>
  void wait(Ready&& ready) {
    for (unsigned i = 0; !ready(); ++i) {
      if (i < kSpins) {
        detail::cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    if (deadline == std::chrono::steady_clock::time_point::max()) {  // no deadline: no clock reads
      wait(ready);
      return true;
    }
    for (unsigned i = 0;; ++i) {
      if (ready()) return true;
      if (i >= kSpins || (i & 31u) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) return ready();
      }
      if (i < kSpins) {
        detail::cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

  void notify() noexcept {}
  void notify_all() noexcept {}
};

}  // namespace ringkit
