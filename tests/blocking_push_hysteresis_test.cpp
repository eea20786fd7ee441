// SPDX-License-Identifier: MIT
// push()'s resume hysteresis (issue 8, detail/resume_hysteresis.hpp): a producer that found the ring
// full spins until capacity/8 slots are free before it pushes again, but only while the consumer keeps
// making progress. A consumer that frees one slot and then waits for this very push (a caller waiting
// for its peer with the ring nearly full) must not deadlock it: push() falls back to "one slot free".
// try_push stays exact. Every queue, with a spinning, a yielding and a parking strategy.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "stress_support.hpp"

namespace ringkit::test {
namespace {

constexpr std::size_t kCapacity = 64;  // threshold: 8 free slots

// The consumer frees exactly one slot, then waits until the producer's push() has returned: a push
// that insisted on 8 free slots would wait forever (the watchdog would abort).
template <class Q>
void push_resumes_with_one_free_slot_when_the_consumer_waits_for_it() {
  Watchdog dog("push hysteresis: one free slot, consumer waiting for the push");
  Q q(kCapacity);
  for (std::uint64_t i = 0; i < kCapacity; ++i) ASSERT_TRUE(q.try_push(i));
  std::atomic<bool> pushed{false};
  std::uint64_t got = 0, next = 0;
  bool in_order = true;
  std::thread consumer([&] {
    std::uint64_t v = 0;
    ASSERT_TRUE(q.pop(v));
    in_order = in_order && v == next++;
    while (!pushed.load(std::memory_order_acquire)) std::this_thread::yield();  // acquire: the push below
    while (next <= kCapacity) {
      ASSERT_TRUE(q.pop(v));
      in_order = in_order && v == next++;
    }
    got = next;
  });
  for (int round = 0; round < 3; ++round) std::this_thread::yield();
  ASSERT_EQ(q.push(std::uint64_t{kCapacity}), PushResult::Pushed);
  pushed.store(true, std::memory_order_release);  // release: pairs with the consumer's acquire
  consumer.join();
  EXPECT_EQ(got, kCapacity + 1);
  EXPECT_TRUE(in_order);
}

// A ring with exactly one free slot takes a try_push at once (no hysteresis on the try path).
template <class Q>
void try_push_stays_exact() {
  Q q(kCapacity);
  for (std::uint64_t i = 0; i < kCapacity; ++i) ASSERT_TRUE(q.try_push(i));
  EXPECT_FALSE(q.try_push(std::uint64_t{99}));
  std::uint64_t v = 0;
  ASSERT_TRUE(q.try_pop(v));
  EXPECT_TRUE(q.try_push(std::uint64_t{kCapacity}));
}

// A consumer much slower than its producer: every item arrives once, in order (the producer goes
// through the hysteresis phase on nearly every push).
template <class Q>
void slow_consumer_gets_every_item_in_order() {
  Watchdog dog("push hysteresis: slow consumer");
  Q q(kCapacity);
  constexpr std::uint64_t kItems = 20'000;
  std::thread consumer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) {
      std::uint64_t v = 0;
      ASSERT_TRUE(q.pop(v));
      ASSERT_EQ(v, i);
      if (i % 64 == 0) std::this_thread::yield();
    }
  });
  for (std::uint64_t i = 0; i < kItems; ++i) ASSERT_EQ(q.push(std::uint64_t{i}), PushResult::Pushed);
  consumer.join();
}

template <class Q>
void all_cases() {
  push_resumes_with_one_free_slot_when_the_consumer_waits_for_it<Q>();
  try_push_stays_exact<Q>();
  slow_consumer_gets_every_item_in_order<Q>();
}

TEST(PushHysteresis, Spsc) {
  all_cases<SpscQueue<std::uint64_t, BusySpin>>();
  all_cases<SpscQueue<std::uint64_t, Yielding>>();
  all_cases<SpscQueue<std::uint64_t, Blocking>>();
  all_cases<SpscQueue<std::uint64_t, Parking>>();
}

TEST(PushHysteresis, Mpsc) {
  all_cases<MpscQueue<std::uint64_t, BusySpin>>();
  all_cases<MpscQueue<std::uint64_t, Yielding>>();
  all_cases<MpscQueue<std::uint64_t, Blocking>>();
  all_cases<MpscQueue<std::uint64_t, Parking>>();
}

TEST(PushHysteresis, Mpmc) {
  all_cases<MpmcQueue<std::uint64_t, BusySpin>>();
  all_cases<MpmcQueue<std::uint64_t, Yielding>>();
  all_cases<MpmcQueue<std::uint64_t, Blocking>>();
  all_cases<MpmcQueue<std::uint64_t, Parking>>();
}

}  // namespace
}  // namespace ringkit::test
