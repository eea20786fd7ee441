// SPDX-License-Identifier: MIT
#pragma once
// Sleeping: spin, then yield, then sleep with an exponential backoff capped at kMaxSleep. Idle costs
// almost no CPU and nothing has to be woken (no syscall on the notify side), at the price of up to
// kMaxSleep (plus the timer slack) of extra latency after an idle period.
#include <algorithm>
#include <chrono>
#include <thread>

#include "ringkit/detail/cpu_relax.hpp"

namespace ringkit {

struct Sleeping {
  static constexpr unsigned kSpins = 64;
  static constexpr unsigned kYields = 64;
  static constexpr std::chrono::microseconds kMinSleep{1};
  static constexpr std::chrono::microseconds kMaxSleep{200};

  template <class Ready>
  void wait(Ready&& ready) {
    (void)wait_until(ready, std::chrono::steady_clock::time_point::max());
  }

  template <class Ready>
  bool wait_until(Ready&& ready, std::chrono::steady_clock::time_point deadline) {
    auto sleep = kMinSleep;
    for (unsigned i = 0;; ++i) {
      if (ready()) return true;
      if (i < kSpins) {
        detail::cpu_relax();
        continue;
      }
      if (i < kSpins + kYields && deadline == std::chrono::steady_clock::time_point::max()) {
        std::this_thread::yield();  // no deadline: no clock read before the sleeps
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return ready();
      if (i < kSpins + kYields) {
        std::this_thread::yield();
        continue;
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(sleep, deadline - now));
      sleep = std::min(sleep * 2, kMaxSleep);
    }
  }

  void notify() noexcept {}
  void notify_all() noexcept {}
};

}  // namespace ringkit
