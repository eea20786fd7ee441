// SPDX-License-Identifier: MIT
#pragma once
// ShardedCounter: an event counter that many threads bump without writing a shared cache line.
//
// Each thread picks one of kShards cells (round-robin at its first use, then fixed) and does a relaxed
// fetch_add on it; each cell sits on its own kFalseSharingRange block. With up to kShards threads
// bumping at once no two write the same line; load() sums the cells (a racy snapshot, never torn).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ringkit/detail/cache_line.hpp"

namespace ringkit::detail {

inline std::size_t this_thread_shard() noexcept {
  static std::atomic<std::size_t> next{0};
  // relaxed: only the uniqueness of each thread's ticket matters, nothing is published with it.
  thread_local const std::size_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard;
}

template <std::size_t kShards = 8>
class ShardedCounter {
  static_assert(kShards > 0 && (kShards & (kShards - 1)) == 0, "kShards must be a power of two");

 public:
  void add(std::uint64_t n = 1) noexcept {
    // relaxed: a statistic; it orders nothing and pairs with nothing.
    cells_[this_thread_shard() & (kShards - 1)].value.fetch_add(n, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t load() const noexcept {
    std::uint64_t sum = 0;
    // relaxed: a snapshot of independent counters (see QueueStats: not one atomic cut).
    for (const Cell& c : cells_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(kFalseSharingRange) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  Cell cells_[kShards];
};

static_assert(sizeof(ShardedCounter<8>) == 8 * kFalseSharingRange);

}  // namespace ringkit::detail
