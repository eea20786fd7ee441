// SPDX-License-Identifier: MIT
#pragma once
// The StoreLoad barriers ringkit uses, in one place.
//
// ThreadSanitizer does not model stand-alone fences (nor membarrier): under TSan the asymmetric pair is
// off and store_load_fence() is an RMW TSan understands, so users' -fsanitize=thread -Werror builds are
// clean. Every use here orders atomics against atomics only (a "did anyone
// park?" check against a published index), never plain data: element hand-off is always an
// acquire/release pair on an index, which TSan does see.
//
// An asymmetric pair (the trick folly's asymmetricLightBarrier/HeavyBarrier and userspace RCU use):
// the frequent side (notify on every push/pop) pays only a compiler barrier, and the rare side (a thread
// about to park, which is about to spend ~25 µs anyway) pays a membarrier(PRIVATE_EXPEDITED) syscall,
// which makes every running thread of the process execute a full barrier before it returns. Between
// them they order "store X; load Y" on one side against "store Y; load X" on the other, as a pair of
// seq_cst fences would. Where membarrier is unavailable both sides use a seq_cst fence.
#include <atomic>
#include <cstdio>
#include <cstdlib>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ringkit::detail {

// Symmetric StoreLoad barrier: a store sequenced before it is visible to any thread whose own seq_cst
// fence follows this one in the single total order S, before that thread's subsequent loads.
// Under ThreadSanitizer (which does not model stand-alone fences, and with which GCC's -Wtsan rejects
// one under -Werror) every barrier is a seq_cst read-modify-write of one process-wide word instead: the
// RMWs are totally ordered and each reads the previous one, so the earlier side's stores happen-before
// the later side's loads — the fence pair's guarantee, in a form TSan sees (no -Wno-tsan needed).
inline void store_load_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  static std::atomic<unsigned> tsan_fence_word{0};
  tsan_fence_word.fetch_add(1, std::memory_order_seq_cst);  // seq_cst RMW: pairs with every other thread's
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);  // seq_cst: pairs with the other side's fence in S
#endif
}

// Decided once per process (a function-local static: every thread sees the same answer, so the light
// and heavy sides can never disagree about which scheme is in force).
inline bool asymmetric_fences_enabled() noexcept {
#if defined(__linux__) && defined(__NR_membarrier) && !defined(__SANITIZE_THREAD__)
  static const bool enabled = [] {
    const long supported = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
    return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  }();
  return enabled;
#else
  return false;
#endif
}

// The frequent side of an asymmetric StoreLoad pair; pairs with heavy_store_load_fence().
inline void light_store_load_fence() noexcept {
  if (asymmetric_fences_enabled()) {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // compiler-only: the heavy side orders the CPU
  } else {
    store_load_fence();
  }
}

// As above, with asymmetric_fences_enabled()'s answer passed in (a copy the caller took once, e.g. at
// construction), so a hot path pays no guard check of the function-local static.
inline void light_store_load_fence(bool asymmetric) noexcept {
  if (asymmetric) {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // compiler-only: the heavy side orders the CPU
  } else {
    store_load_fence();
  }
}

// The rare side of an asymmetric StoreLoad pair; pairs with light_store_load_fence().
inline void heavy_store_load_fence() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
  if (asymmetric_fences_enabled()) {
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
      // Cannot happen once registered; continuing would risk a lost wake-up, so stop loudly.
      std::fputs("ringkit: membarrier(PRIVATE_EXPEDITED) failed after registration\n", stderr);
      std::abort();
    }
    return;
  }
#endif
  store_load_fence();
}

}  // namespace ringkit::detail
