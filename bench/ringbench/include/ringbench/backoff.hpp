// SPDX-License-Identifier: MIT
#pragma once
// The one retry policy the harness applies to every try-only API: spin with a PAUSE hint, then yield
// (the same shape as ringkit's Yielding strategy), so no contender wins by being allowed to spin
// forever on an oversubscribed machine and none loses by sleeping.
#include <thread>

#include <ringkit/cpu.hpp>

namespace ringbench {

using ringkit::cpu_relax;  // the one spin-loop hint in the tree (<ringkit/cpu.hpp>)

class Backoff {
 public:
  static constexpr unsigned kSpins = 128;
  void pause() noexcept {
    if (n_ < kSpins) {
      ++n_;
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  void reset() noexcept { n_ = 0; }

 private:
  unsigned n_ = 0;
};

// Calls f() until it returns true, backing off between tries.
template <class F>
inline void retry(F&& f) {
  Backoff b;
  while (!f()) b.pause();
}

}  // namespace ringbench
