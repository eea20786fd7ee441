// SPDX-License-Identifier: MIT
#pragma once
// Thread placement for the code around a queue (benchmarks, latency-sensitive producers and consumers):
// pin a thread to one CPU, and the spin-loop hint ringkit's own wait strategies use. The one copy of
// each in the tree: bench/, bench/ringbench and the systems use these.
#include <pthread.h>
#include <sched.h>

#include <cerrno>

#include "ringkit/detail/cpu_relax.hpp"

namespace ringkit {

// Pins the calling thread to CPU `cpu` (Linux, pthread_setaffinity_np). Returns 0, or an error number:
// EINVAL when `cpu` is outside this process's allowed CPU set (or beyond CPU_SETSIZE).
inline int pin_this_thread(unsigned cpu) noexcept {
  if (cpu >= CPU_SETSIZE) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
}

// Spin-loop hint (x86 PAUSE, Arm YIELD): for a caller's own polling loop, as in ringkit's wait strategies.
using detail::cpu_relax;

}  // namespace ringkit
