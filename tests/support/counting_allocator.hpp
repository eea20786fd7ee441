#pragma once
// A counting global allocator. Include this header in exactly ONE translation unit of a test
// executable: it replaces the global operator new/delete for that whole program. Tests then bracket a
// hot path with AllocationCounter and assert that nothing was allocated.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ringkit::test {

inline std::atomic<long> g_allocations{0};
inline std::atomic<long> g_allocated_bytes{0};

struct AllocationCounter {
  long start_count = g_allocations.load();
  long start_bytes = g_allocated_bytes.load();
  long allocations() const { return g_allocations.load() - start_count; }
  long bytes() const { return g_allocated_bytes.load() - start_bytes; }
};

inline void* counted_alloc(std::size_t n, std::size_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n)
                                               : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace ringkit::test

// GCC (-O1, the ASan preset) mistakes malloc/free inside these replacements for a mismatched pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) { return ringkit::test::counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return ringkit::test::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return ringkit::test::counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return ringkit::test::counted_alloc(n, static_cast<std::size_t>(a)); }
// The nothrow forms too: otherwise a library's `new (std::nothrow)` gets the runtime's (under ASan, its
// own allocator) and is freed by the delete below: ASan reports alloc-dealloc-mismatch (gRPC does this).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return ringkit::test::counted_alloc(n, 0); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return ringkit::test::counted_alloc(n, 0); } catch (...) { return nullptr; }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try { return ringkit::test::counted_alloc(n, static_cast<std::size_t>(a)); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try { return ringkit::test::counted_alloc(n, static_cast<std::size_t>(a)); } catch (...) { return nullptr; }
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
