// SPDX-License-Identifier: MIT
// MpscLaneQueue's close() against a producer inside its claim/publish window, forced deterministically
// with the detail::MpscLaneClaimHook test hook (the stress test, tests/mpsc_lane_queue_stress_test.cpp,
// reaches this interleaving only by chance). The producer has claimed its position (its CAS succeeded, so
// its push will report Pushed) but not yet published the item when close() runs and the consumer drains:
// the consumer must wait for that item and return it before pop() says false.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "ringkit/mpsc_lane_queue.hpp"

namespace ringkit::test {

struct Hooked {
  std::uint64_t v = 0;
};
using HookedQueue = MpscLaneQueue<Hooked, Yielding>;

// What the hook does, and what it saw.
struct ClaimWindow {
  HookedQueue* q = nullptr;
  bool armed = false;
  std::thread consumer;
  std::vector<std::uint64_t> popped;  // written by the consumer thread, read after join
  std::atomic<bool> consumer_done{false};
  bool consumer_done_before_publish = false;
};
ClaimWindow g_window;

}  // namespace ringkit::test

namespace ringkit::detail {
// Inside the window: close() from this thread, start the consumer, and give it 200 ms to finish. A correct
// consumer cannot finish (it waits for the claimed item, published only after this returns).
template <>
struct MpscLaneClaimHook<test::Hooked> {
  static void after_claim() noexcept {
    auto& w = test::g_window;
    if (!w.armed) return;
    w.armed = false;
    w.q->close();
    w.consumer = std::thread([] {
      auto& cw = test::g_window;
      test::Hooked h;
      while (cw.q->pop(h)) cw.popped.push_back(h.v);
      cw.consumer_done.store(true, std::memory_order_release);  // release: pairs with the acquire below
    });
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    // acquire: pairs with the release in the consumer (popped is read only after join anyway).
    while (!w.consumer_done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    w.consumer_done_before_publish = w.consumer_done.load(std::memory_order_acquire);  // acquire: as above
  }
};
}  // namespace ringkit::detail

namespace ringkit::test {
namespace {

void reset(HookedQueue& q) {
  g_window.q = &q;
  g_window.popped.clear();
  g_window.consumer_done = false;
  g_window.consumer_done_before_publish = false;
  g_window.armed = true;
}

TEST(MpscLaneQueueCloseWindow, ConsumerWaitsForAnItemClaimedBeforeCloseAndReturnsIt) {
  HookedQueue q(2, 8);
  auto p = q.make_producer();
  ASSERT_TRUE(p.try_push(Hooked{1}));  // published before the window: drained first
  reset(q);
  ASSERT_TRUE(p.try_push(Hooked{2})) << "the claim succeeded before close(): the push must report success";
  g_window.consumer.join();
  EXPECT_FALSE(g_window.consumer_done_before_publish) << "pop() returned false while a claimed item was unpublished";
  EXPECT_EQ(g_window.popped, (std::vector<std::uint64_t>{1, 2}));
}

TEST(MpscLaneQueueCloseWindow, ConsumerWaitsForABatchClaimedBeforeClose) {
  HookedQueue q(1, 8);
  auto p = q.make_producer();
  std::vector<Hooked> batch{{10}, {11}, {12}};
  reset(q);
  ASSERT_EQ(p.push_batch(std::span<Hooked>(batch)), 3u);
  g_window.consumer.join();
  EXPECT_FALSE(g_window.consumer_done_before_publish) << "pop() returned false while a claimed batch was unpublished";
  EXPECT_EQ(g_window.popped, (std::vector<std::uint64_t>{10, 11, 12}));
}

}  // namespace
}  // namespace ringkit::test
