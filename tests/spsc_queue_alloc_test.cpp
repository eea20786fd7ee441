// SPDX-License-Identifier: MIT
// Zero allocation after construction: a counting global allocator watches every SpscQueue hot path.
#include "counting_allocator.hpp"  // replaces global operator new for this executable
#include "ringkit/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <thread>

namespace {

using ringkit::test::AllocationCounter;

TEST(SpscQueueAllocation, ConstructionAllocatesTheSlotsAndTheirMarksOnceEach) {
  AllocationCounter c;
  ringkit::SpscQueue<std::uint64_t> q(1024);
  EXPECT_EQ(c.allocations(), 2);
  EXPECT_GE(c.bytes(), static_cast<long>(1024 * (sizeof(std::uint64_t) + sizeof(std::uint64_t))));
}

TEST(SpscQueueAllocation, PushPopBatchClaimPeekAllocateNothing) {
  ringkit::SpscQueue<std::uint64_t, ringkit::Blocking> q(64);
  std::array<std::uint64_t, 16> batch{};
  AllocationCounter c;
  for (std::uint64_t round = 0; round < 1000; ++round) {
    ASSERT_TRUE(q.try_push(round));
    ASSERT_TRUE(q.try_emplace(round));
    ASSERT_EQ(q.push(round), ringkit::PushResult::Pushed);
    std::uint64_t x = 0;
    ASSERT_TRUE(q.try_pop(x));
    ASSERT_TRUE(q.try_pop().has_value());
    ASSERT_TRUE(q.pop(x));
    ASSERT_EQ(q.push_batch(batch), 16u);
    ASSERT_EQ(q.pop_batch(batch), 16u);
    auto claim = q.try_claim(8);
    for (std::size_t i = 0; i < claim.size(); ++i) claim[i] = i;
    q.commit(claim.size());
    ASSERT_EQ(q.peek(4).size(), 4u);
    q.pop_n(4);
    ASSERT_EQ(q.consume(8, [](std::uint64_t& v) { v = 0; }), 4u);
    (void)q.size();
    (void)q.stats();
  }
  EXPECT_EQ(c.allocations(), 0) << "hot paths must not allocate";
}

TEST(SpscQueueAllocation, TwoThreadTransferAllocatesNothingAfterConstruction) {
  ringkit::SpscQueue<std::uint64_t, ringkit::Blocking> q(256);
  std::uint64_t sum = 0;
  long allocations = -1;
  {
    std::jthread consumer([&] {
      std::uint64_t x = 0;
      while (q.pop(x)) sum += x;
    });
    AllocationCounter c;  // started after std::jthread's own launch allocation; counts both threads
    for (std::uint64_t i = 0; i < 100'000; ++i) ASSERT_EQ(q.push(i), ringkit::PushResult::Pushed);
    q.close();
    consumer.join();
    allocations = c.allocations();
  }
  EXPECT_EQ(sum, 100'000ull * 99'999ull / 2);
  EXPECT_EQ(allocations, 0);
}

}  // namespace
