// SPDX-License-Identifier: MIT
#pragma once
// detail::LaneMemory: the one block of memory a byte lane lives in (its flight index, then its ring),
// optionally on transparent huge pages.
//
// Why huge pages: a thread that logs in bursts (a request, a tick, a frame) starts each burst with its
// lane's lines and their page translations cold. On the reference KVM guest a translation miss walks
// two page tables (the guest's and the host's) and costs hundreds of cycles; the ring and the flight
// index on 4 KiB pages are two such walks per burst, on one 2 MiB page at most one. Measured in one
// process, alternating bursts between two otherwise identical loggers (lane_call_cost h): p50 per call
// lower with huge pages in 16 of 19 runs, by 1-16 % (docs/telemetry.md, "Huge pages"); hence opt-in.
//
// How: an anonymous mapping of the block rounded up to 2 MiB, aligned to 2 MiB (the slack of the
// over-sized mapping is unmapped again), advised MADV_HUGEPAGE before its first touch. Whether the
// kernel then backs it with huge pages is its decision (THP "always" or "madvise" in
// /sys/kernel/mm/transparent_hugepage/enabled, and free 2 MiB pages); with 4 KiB pages it works the same.
// Blocks below kHugeMinBytes use the ordinary allocator: rounding a small lane up to 2 MiB would
// multiply its memory, for a translation the rest of the thread's hot data keeps warm anyway.
#include <cstddef>
#include <cstdint>
#include <new>

#include "ringkit/detail/aligned_new.hpp"
#include "ringkit/detail/cache_line.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ringkit::telemetry::detail {

class LaneMemory {
 public:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeMinBytes = std::size_t{1} << 20;  // huge pages only from 1 MiB up
  static constexpr std::size_t kAlign = ringkit::detail::kFalseSharingRange;

  LaneMemory() noexcept = default;
  // bytes > 0. Throws std::bad_alloc if neither the mapping nor the allocator can provide it.
  LaneMemory(std::size_t bytes, bool huge_pages) : bytes_(bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge_pages && bytes >= kHugeMinBytes && map_huge()) return;
#else
    (void)huge_pages;
#endif
    base_ = static_cast<std::byte*>(ringkit::detail::aligned_allocate(bytes, kAlign));
  }
  ~LaneMemory() { release(); }
  LaneMemory(const LaneMemory&) = delete;
  LaneMemory& operator=(const LaneMemory&) = delete;

  [[nodiscard]] std::byte* data() const noexcept { return base_; }
  // True if the block is a 2 MiB-aligned mapping advised MADV_HUGEPAGE (the kernel accepted the advice;
  // whether it found huge pages is in /proc/self/smaps, AnonHugePages).
  [[nodiscard]] bool huge_pages_advised() const noexcept { return mapped_ != 0; }

 private:
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  bool map_huge() noexcept {
    const std::size_t len = (bytes_ + kHugePage - 1) / kHugePage * kHugePage;
    void* m = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    const auto start = reinterpret_cast<std::uintptr_t>(m);
    const std::uintptr_t aligned = (start + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
    // Give back the slack on both sides of the aligned block (each a multiple of 4 KiB).
    if (aligned > start) ::munmap(m, aligned - start);
    const std::uintptr_t end = start + len + kHugePage;
    if (end > aligned + len) ::munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
    if (::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE) != 0) {
      ::munmap(reinterpret_cast<void*>(aligned), len);  // no THP in this kernel: the ordinary allocator
      return false;
    }
    base_ = reinterpret_cast<std::byte*>(aligned);
    mapped_ = len;
    return true;
  }
#endif
  void release() noexcept {
    if (base_ == nullptr) return;
#if defined(__linux__)
    if (mapped_ != 0) {
      ::munmap(base_, mapped_);
      return;
    }
#endif
    ringkit::detail::aligned_deallocate(base_, bytes_, kAlign);
  }

  std::byte* base_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t mapped_ = 0;  // length of the huge-page mapping, 0 if the allocator's
};

}  // namespace ringkit::telemetry::detail
