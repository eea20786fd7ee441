#pragma once
// Thread pinning for benchmarks (Linux). Pinning is best effort: on failure the thread stays unpinned
// and the benchmark reports it.
#include <pthread.h>
#include <sched.h>

#include <thread>

namespace ringkit::bench {

inline bool pin_current_thread(unsigned cpu) {
  const unsigned n = std::thread::hardware_concurrency();
  if (n == 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace ringkit::bench
