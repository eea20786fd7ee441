// SPDX-License-Identifier: MIT
#pragma once
// A spin-loop hint: tells the core we are spinning (x86 PAUSE / Arm YIELD) so the sibling hyper-thread
// and the memory system are not flooded while we poll.
#include <thread>

namespace ringkit::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Back-off for the short waits that are not the wait strategy's business (a peer is mid-move or
// mid-publish): PAUSE first, then give the core away.
inline void short_backoff(unsigned& i) noexcept {
  if (++i < 64) {
    cpu_relax();
  } else {
    std::this_thread::yield();
  }
}

}  // namespace ringkit::detail
