// SPDX-License-Identifier: MIT
// SpillingMpmcQueue with a parking strategy: when one consumer's ring claim is what drains the ring, the
// spilled items become readable; a second consumer parked meanwhile must be woken to take them (the
// notify() calls made when they were spilled may have found nobody parked). Before the fix the parked
// consumer slept until the next push or close() (found by review, 2026-12-02).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "ringkit/spilling_queue.hpp"
#include "ringkit/wait_strategy.hpp"
#include "spill_test_support.hpp"

namespace ringkit::test {
namespace {

std::atomic<bool> slow_next_move{false};

// An item whose next move-construction (the producer's move into its claimed slot) stalls, standing in
// for a producer preempted between claiming a ring position and publishing it.
struct StallingItem {
  int v = 0;
  StallingItem() = default;
  explicit StallingItem(int x) : v(x) {}
  StallingItem(const StallingItem&) = default;
  StallingItem(StallingItem&& o) noexcept : v(o.v) {
    if (slow_next_move.exchange(false)) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  StallingItem& operator=(const StallingItem&) = default;
  StallingItem& operator=(StallingItem&& o) noexcept {
    v = o.v;
    return *this;
  }
};

struct StallingItemCodec {
  void encode(const StallingItem& s, std::vector<std::byte>& out) const {
    const std::size_t at = out.size();
    out.resize(at + sizeof s.v);
    std::memcpy(out.data() + at, &s.v, sizeof s.v);
  }
  std::optional<StallingItem> decode(std::span<const std::byte> in) const {
    if (in.size() != sizeof(int)) return std::nullopt;
    int v = 0;
    std::memcpy(&v, in.data(), sizeof v);
    return StallingItem(v);
  }
};

template <class Wait>
void expect_parked_consumer_takes_spill_once_ring_drains() {
  ScratchDir dir;
  SpillingMpmcQueue<StallingItem, Wait> q(2, SpillOptions{.directory = dir.path()}, StallingItemCodec{});
  ASSERT_EQ(q.push(StallingItem(1)), PushResult::Pushed);  // ring position 0
  slow_next_move = true;
  std::thread producer([&] { (void)q.push(StallingItem(2)); });  // claims position 1, publishes ~300 ms later
  while (slow_next_move.load()) std::this_thread::yield();  // the producer is inside its stalled move
  ASSERT_EQ(q.push(StallingItem(3)), PushResult::Spilled);  // the ring is full (one position unpublished)
  ASSERT_EQ(q.push(StallingItem(4)), PushResult::Spilled);

  // Two consumers, two items each: both park (the spill is not readable while position 1 is claimed);
  // the publish wakes one, whose claim drains the ring; the other must be woken for the spill.
  std::atomic<int> received{0};
  auto consume_two = [&] {
    StallingItem s;
    for (int i = 0; i < 2 && q.pop(s); ++i) received.fetch_add(1);
  };
  std::thread c1(consume_two);
  std::thread c2(consume_two);
  producer.join();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);  // liveness bound only
  while (received.load() < 4 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int before_close = received.load();
  q.close();  // releases a consumer still parked, so the test ends either way
  c1.join();
  c2.join();
  EXPECT_EQ(before_close, 4) << "a consumer stayed parked with spilled items readable until close()";
  EXPECT_EQ(received.load(), 4);
}

TEST(SpillingMpmcWake, ParkedConsumerTakesTheSpillOnceAnotherClaimDrainsTheRingBlocking) {
  expect_parked_consumer_takes_spill_once_ring_drains<Blocking>();
}

TEST(SpillingMpmcWake, ParkedConsumerTakesTheSpillOnceAnotherClaimDrainsTheRingParking) {
  expect_parked_consumer_takes_spill_once_ring_drains<Parking>();
}

}  // namespace
}  // namespace ringkit::test
