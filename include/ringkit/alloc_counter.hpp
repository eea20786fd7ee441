// SPDX-License-Identifier: MIT
#pragma once
// Counting a program's heap allocations, to show that a hot path allocates nothing (the queues' claim,
// checked by ringkit's tests and reported as allocs_per_op by its benchmarks). The counting replacements
// of the global operator new/delete (every form; they allocate with malloc/aligned_alloc and free with
// free) are defined once per program, in one of two ways:
//   * link the target ringkit::alloc_counter (src/alloc_counter.cpp), or
//   * in exactly one translation unit, #define RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS before including
//     this header (tests/support/counting_allocator.hpp does this for ringkit's own tests).
// Then bracket the code:
//
//   const ringkit::AllocationCounter c;
//   hot_path();
//   assert(c.allocations() == 0);
//
// For tests and benchmarks: the replacement takes over the whole executable (and hides new/delete
// mismatches from AddressSanitizer there), so define it only where allocations are counted.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ringkit {
namespace detail {
// Relaxed: plain event counters; a reader that needs them ordered with other work synchronizes with the
// allocating threads some other way (joining them, or the queue hand-off being measured).
inline std::atomic<long> g_allocations{0};
inline std::atomic<long> g_allocated_bytes{0};
}  // namespace detail

// operator new calls since the program started (every thread), and the bytes they asked for.
inline long allocation_count() noexcept { return detail::g_allocations.load(std::memory_order_relaxed); }
inline long allocated_bytes() noexcept { return detail::g_allocated_bytes.load(std::memory_order_relaxed); }

struct AllocationCounter {
  long start_count = allocation_count();
  long start_bytes = allocated_bytes();
  long allocations() const noexcept { return allocation_count() - start_count; }
  long bytes() const noexcept { return allocated_bytes() - start_bytes; }
};

namespace detail {
inline void* counted_alloc(std::size_t n, std::size_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);  // relaxed: see the counters above
  g_allocated_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n)
                                               : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  return p;
}
inline void* counted_alloc_nothrow(std::size_t n, std::size_t align) noexcept {
  try {
    return counted_alloc(n, align);
  } catch (...) {
    return nullptr;
  }
}
}  // namespace detail
}  // namespace ringkit

#if defined(RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS)
// GCC (-O1, the ASan preset) mistakes malloc/free inside these replacements for a mismatched pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) { return ringkit::detail::counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return ringkit::detail::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return ringkit::detail::counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return ringkit::detail::counted_alloc(n, static_cast<std::size_t>(a)); }
// The nothrow forms too: otherwise a library's `new (std::nothrow)` gets the runtime's (under ASan, its
// own allocator) and is freed by the delete below: ASan reports alloc-dealloc-mismatch (gRPC does this).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return ringkit::detail::counted_alloc_nothrow(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return ringkit::detail::counted_alloc_nothrow(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ringkit::detail::counted_alloc_nothrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ringkit::detail::counted_alloc_nothrow(n, static_cast<std::size_t>(a));
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#endif  // RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS
