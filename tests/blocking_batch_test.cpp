// SPDX-License-Identifier: MIT
// The blocking batch calls (issue 8): push_batch_wait() waits until at least one item fits,
// pop_batch_wait() until at least one arrives, wait_for_not_empty() waits without popping; all three
// end with 0/false once the queue is closed and drained, and they lose nothing to a racing close().
// Every queue, with Blocking and Parking waits, on a ring smaller than the batches.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

using namespace std::chrono_literals;

template <class Q>
void every_item_once_in_order(unsigned producers, unsigned consumers) {
  Watchdog dog("blocking batches");
  const std::uint64_t per_producer = scaled(200'000);
  Q q(4);
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> ok{true};
  std::atomic<unsigned> producers_left{producers};
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      std::minstd_rand rng(p + 1);
      std::vector<std::uint64_t> batch;
      std::uint64_t next = 0;
      while (next < per_producer) {
        batch.clear();
        const std::uint64_t k = std::min<std::uint64_t>(1 + rng() % 7, per_producer - next);
        for (std::uint64_t i = 0; i < k; ++i) batch.push_back((std::uint64_t{p} << 48) | (next + i));
        std::span<std::uint64_t> rest(batch);
        while (!rest.empty()) {
          const std::size_t n = q.push_batch_wait(rest);
          if (n == 0) {
            ok = false;  // closed while we still had items: nobody closes before the producers finish
            return;
          }
          rest = rest.subspan(n);
        }
        next += k;
      }
      if (producers_left.fetch_sub(1) == 1) q.close();
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::uint64_t> last(producers, 0);
      std::vector<bool> any(producers, false);
      std::vector<std::uint64_t> out(3 + c);
      for (;;) {
        // relaxed: only picks which wait path to exercise; no data is read through the count.
        if ((received.load(std::memory_order_relaxed) & 7) == 0 && !q.wait_for_not_empty()) {
          if (q.pop_batch_wait(out) != 0) ok = false;  // drained for good
          break;
        }
        const std::size_t n = q.pop_batch_wait(out);
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) {
          const auto p = static_cast<unsigned>(out[i] >> 48);
          const std::uint64_t seq = out[i] & ((std::uint64_t{1} << 48) - 1);
          if (p >= producers || (any[p] && seq <= last[p])) ok = false;
          any[p] = true;
          last[p] = seq;
        }
        received += n;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(ok.load()) << "an item came out of order, twice, or a call ended early";
  EXPECT_EQ(received.load(), per_producer * producers) << "items lost";
}

TEST(BlockingBatch, SpscEveryItemOnceInOrder) {
  every_item_once_in_order<SpscQueue<std::uint64_t, Blocking>>(1, 1);
  every_item_once_in_order<SpscQueue<std::uint64_t, Parking>>(1, 1);
}
TEST(BlockingBatch, MpscEveryItemOnceInOrder) {
  every_item_once_in_order<MpscQueue<std::uint64_t, Blocking>>(2, 1);
  every_item_once_in_order<MpscQueue<std::uint64_t, Parking>>(2, 1);
}
TEST(BlockingBatch, MpmcEveryItemOnceInOrder) {
  every_item_once_in_order<MpmcQueue<std::uint64_t, Blocking>>(2, 2);
  every_item_once_in_order<MpmcQueue<std::uint64_t, Parking>>(2, 2);
}

template <class Q>
void wait_for_not_empty_does_not_pop() {
  Watchdog dog("wait_for_not_empty");
  Q q(4);
  std::atomic<bool> woke{false};
  std::thread consumer([&] {
    EXPECT_TRUE(q.wait_for_not_empty());
    woke = true;
  });
  std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(woke.load()) << "returned before anything was pushed";
  ASSERT_EQ(q.push(std::uint64_t{42}), PushResult::Pushed);
  consumer.join();
  std::uint64_t v = 0;
  ASSERT_TRUE(q.try_pop(v)) << "the item is still there";
  EXPECT_EQ(v, 42u);
  std::uint64_t items[2] = {1, 2};
  ASSERT_EQ(q.push_batch_wait(std::span<std::uint64_t>(items, 2)), 2u);
  q.close();
  EXPECT_TRUE(q.wait_for_not_empty()) << "closed, but not drained";
  std::uint64_t out[4] = {};
  EXPECT_EQ(q.pop_batch_wait(std::span<std::uint64_t>(out, 4)), 2u);
  EXPECT_FALSE(q.wait_for_not_empty()) << "closed and drained";
  EXPECT_EQ(q.pop_batch_wait(std::span<std::uint64_t>(out, 4)), 0u);
  EXPECT_EQ(q.push_batch_wait(std::span<std::uint64_t>(items, 2)), 0u) << "closed";
}

TEST(BlockingBatch, WaitForNotEmptyDoesNotPop) {
  wait_for_not_empty_does_not_pop<SpscQueue<std::uint64_t, Blocking>>();
  wait_for_not_empty_does_not_pop<MpscQueue<std::uint64_t, Blocking>>();
  wait_for_not_empty_does_not_pop<MpmcQueue<std::uint64_t, Parking>>();
}

template <class Q>
void close_wakes_batch_waiters() {
  Watchdog dog("close wakes batch waiters");
  Q empty(2);
  std::thread consumer([&] {
    std::uint64_t out[2];
    EXPECT_EQ(empty.pop_batch_wait(std::span<std::uint64_t>(out, 2)), 0u);
  });
  Q full(2);
  std::uint64_t fill[2] = {1, 2};
  ASSERT_EQ(full.push_batch(std::span<std::uint64_t>(fill, 2)), 2u);
  std::thread producer([&] {
    std::uint64_t more[2] = {3, 4};
    EXPECT_EQ(full.push_batch_wait(std::span<std::uint64_t>(more, 2)), 0u);
  });
  std::this_thread::sleep_for(20ms);
  empty.close();
  full.close();
  consumer.join();
  producer.join();
}

TEST(BlockingBatch, CloseWakesBatchWaiters) {
  close_wakes_batch_waiters<SpscQueue<std::uint64_t, Parking>>();
  close_wakes_batch_waiters<MpscQueue<std::uint64_t, Parking>>();
  close_wakes_batch_waiters<MpmcQueue<std::uint64_t, Blocking>>();
}

}  // namespace
}  // namespace ringkit::test
