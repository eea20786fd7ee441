// SPDX-License-Identifier: MIT
#pragma once
// The two fences of the telemetry seqlocks (the flight recorders): the writer's release fence between
// "mark the record as being rewritten" and the data stores, the reader's acquire fence between the data
// loads and the re-check. ThreadSanitizer does not model stand-alone fences (and GCC's -Wtsan rejects them
// under -Werror), so under TSan each is a seq_cst read-modify-write of one process-wide word instead:
// if a reader's data load saw a writer's later store, the reader's RMW comes after the writer's in the
// word's modification order (otherwise the load would happen-before the store it read) and reads it, so
// the writer's mark happens-before the reader's re-check — the fence pair's guarantee, in a form TSan sees.
#include <atomic>

namespace ringkit::telemetry::detail {

#if defined(__SANITIZE_THREAD__)
inline void tsan_fence_rmw() noexcept {
  static std::atomic<unsigned> word{0};
  word.fetch_add(1, std::memory_order_seq_cst);  // seq_cst RMW: pairs with the other side's RMW (above)
}
#endif

// Writer: orders the mark before the data stores; pairs with seqlock_acquire_fence() in the reader.
inline void seqlock_release_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  tsan_fence_rmw();
#else
  std::atomic_thread_fence(std::memory_order_release);  // release: pairs with the reader's acquire fence
#endif
}

// Reader: orders the data loads before the re-check; pairs with seqlock_release_fence() in the writer.
inline void seqlock_acquire_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  tsan_fence_rmw();
#else
  std::atomic_thread_fence(std::memory_order_acquire);  // acquire: pairs with the writer's release fence
#endif
}

}  // namespace ringkit::telemetry::detail
