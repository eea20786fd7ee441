// SPDX-License-Identifier: MIT
// MpscLaneQueue under real threads:
//   * every item exactly once and each producer's items in its push order, for 1..4 producers with
//     push(), try_push() and push_batch(), consumers with pop() and pop_batch(), on tiny and larger lanes,
//     for BusySpin, Yielding and Blocking waits;
//   * close() from a third thread strands nothing: once pop() returned false, every push that returned
//     Pushed was popped, and nothing is popped that was not pushed (the issue-8 contract, as
//     tests/close_race_stress_test.cpp pins it for the other queues);
//   * handles released and re-acquired while the consumer drains: every item exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/mpsc_lane_queue.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

enum class PushCall { Push, TryPush, Batch };
enum class PopCall { Pop, Batch };

std::uint64_t tag(unsigned producer, std::uint64_t seq) { return (std::uint64_t{producer} << 40) | seq; }

template <class Wait>
void stream(unsigned producers, std::size_t lane_capacity, PushCall push, PopCall pop, std::uint64_t per) {
  Watchdog dog("MpscLaneQueue stream");
  MpscLaneQueue<std::uint64_t, Wait> q(producers, lane_capacity);
  StartGate gate;
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      auto h = q.make_producer();
      gate.wait();
      std::vector<std::uint64_t> buf(7);
      for (std::uint64_t i = 0; i < per;) {
        if (push == PushCall::Push) {
          ASSERT_EQ(h.push(tag(p, i)), PushResult::Pushed);
          ++i;
        } else if (push == PushCall::TryPush) {
          if (h.try_push(tag(p, i))) {
            ++i;
          } else {
            std::this_thread::yield();
          }
        } else {
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), per - i));
          for (std::size_t k = 0; k < n; ++k) buf[k] = tag(p, i + k);
          std::size_t done = 0;
          while (done < n) {
            const std::size_t m = h.push_batch(std::span(buf).subspan(done, n - done));
            if (m == 0) std::this_thread::yield();
            done += m;
          }
          i += n;
        }
      }
    });
  }
  std::vector<std::uint64_t> next(producers, 0);
  std::uint64_t got = 0, bad = 0;
  const auto see = [&](std::uint64_t v) {
    const auto p = static_cast<unsigned>(v >> 40);
    if (p >= producers || (v & ((std::uint64_t{1} << 40) - 1)) != next[p]) {
      ++bad;
      return;
    }
    ++next[p];
    ++got;
  };
  gate.open();
  const std::uint64_t total = per * producers;
  std::vector<std::uint64_t> out(13);
  while (got + bad < total) {
    if (pop == PopCall::Pop) {
      std::uint64_t v = 0;
      ASSERT_TRUE(q.pop(v));
      see(v);
    } else {
      const std::size_t n = q.pop_batch(out);
      if (n == 0) std::this_thread::yield();
      for (std::size_t k = 0; k < n; ++k) see(out[k]);
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(got, total);
  for (unsigned p = 0; p < producers; ++p) EXPECT_EQ(next[p], per) << "producer " << p;
  std::uint64_t v = 0;
  EXPECT_FALSE(q.try_pop(v));  // nothing extra
}

// BusySpin collapses when spinning threads outnumber cores (docs/mpmc-results.md): a small count.
TEST(MpscLaneQueueStress, EveryItemOnceInEachProducersOrderBusySpin) {
  const std::uint64_t per = scaled(2'000, 4);
  for (unsigned producers : {1u, 2u}) {
    stream<BusySpin>(producers, 2, PushCall::TryPush, PopCall::Pop, per / producers);
    stream<BusySpin>(producers, 64, PushCall::Batch, PopCall::Batch, per / producers);
  }
}

TEST(MpscLaneQueueStress, EveryItemOnceInEachProducersOrderYielding) {
  const std::uint64_t per = scaled(60'000);
  for (unsigned producers : {1u, 2u, 3u, 4u}) {
    stream<Yielding>(producers, 1, PushCall::Push, PopCall::Pop, per / producers);
    stream<Yielding>(producers, 16, PushCall::Batch, PopCall::Pop, per);
    stream<Yielding>(producers, 1024, PushCall::Push, PopCall::Batch, per);
  }
}

TEST(MpscLaneQueueStress, EveryItemOnceInEachProducersOrderBlocking) {
  const std::uint64_t per = scaled(100'000);
  for (unsigned producers : {1u, 2u, 4u}) {
    stream<Blocking>(producers, 4, PushCall::Push, PopCall::Pop, per / producers);
    stream<Blocking>(producers, 256, PushCall::Push, PopCall::Pop, per);
  }
}

// The close contract, with close() from a third thread at a random moment.
template <class Wait>
void close_trials(unsigned producers, PushCall call, unsigned trials) {
  std::mt19937 rng(12345 + producers);
  for (unsigned trial = 0; trial < trials; ++trial) {
    MpscLaneQueue<std::uint64_t, Wait> q(producers, 4);
    StartGate gate;
    std::vector<std::uint64_t> pushed(producers, 0);
    const auto delay = static_cast<unsigned>(rng() % 4000);
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        auto h = q.make_producer();
        gate.wait();
        std::uint64_t n = 0;
        std::vector<std::uint64_t> buf(3);
        for (;;) {
          if (call == PushCall::Push) {
            if (h.push(tag(p, n)) != PushResult::Pushed) break;
            ++n;
          } else if (call == PushCall::TryPush) {
            if (h.try_push(tag(p, n))) {
              ++n;
            } else if (q.closed()) {
              break;
            }
          } else {
            for (std::size_t k = 0; k < buf.size(); ++k) buf[k] = tag(p, n + k);
            const std::size_t m = h.push_batch(buf);
            n += m;
            if (m == 0 && q.closed()) break;
          }
        }
        pushed[p] = n;
      });
    }
    threads.emplace_back([&] {
      gate.wait();
      for (unsigned i = 0; i < delay; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);
      q.close();
    });
    std::vector<std::uint64_t> next(producers, 0);
    bool order_ok = true;
    gate.open();
    std::uint64_t v = 0;
    while (q.pop(v)) {
      const auto p = static_cast<unsigned>(v >> 40);
      if (p >= producers || (v & 0xffffffffffu) != next[p]) order_ok = false;
      if (p < producers) ++next[p];
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(order_ok) << "trial " << trial;
    for (unsigned p = 0; p < producers; ++p) {
      ASSERT_EQ(next[p], pushed[p]) << "trial " << trial << " producer " << p << ": popped vs Pushed";
    }
    EXPECT_FALSE(q.try_pop(v)) << "trial " << trial << ": an item after pop() returned false";
  }
}

TEST(MpscLaneQueueStress, CloseFromAThirdThreadStrandsNoPushedItem) {
  const auto trials = static_cast<unsigned>(scaled(400, 10));
  close_trials<Yielding>(1, PushCall::Push, trials);
  close_trials<Yielding>(2, PushCall::Push, trials);
  close_trials<BusySpin>(2, PushCall::TryPush, trials);
  close_trials<Yielding>(3, PushCall::Batch, trials);
  close_trials<Blocking>(2, PushCall::Push, trials / 3 + 1);
}

TEST(MpscLaneQueueStress, HandlesReleasedAndReacquiredLoseNothing) {
  Watchdog dog("MpscLaneQueue handle churn");
  constexpr unsigned kThreads = 3;
  const std::uint64_t per = scaled(60'000);
  MpscLaneQueue<std::uint64_t, Yielding> q(2, 8);  // fewer lanes than threads: they take turns
  StartGate gate;
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < kThreads; ++p) {
    threads.emplace_back([&, p] {
      gate.wait();
      for (std::uint64_t i = 0; i < per;) {
        auto h = q.try_make_producer();
        if (!h) {
          std::this_thread::yield();
          continue;
        }
        for (int k = 0; k < 50 && i < per; ++k, ++i) ASSERT_EQ(h->push(tag(p, i)), PushResult::Pushed);
      }
    });
  }
  gate.open();
  std::vector<std::vector<char>> seen(kThreads, std::vector<char>(per, 0));
  std::uint64_t got = 0, dup = 0;
  while (got < per * kThreads) {
    std::uint64_t v = 0;
    ASSERT_TRUE(q.pop(v));
    const auto p = static_cast<unsigned>(v >> 40);
    const std::uint64_t i = v & 0xffffffffffu;
    ASSERT_LT(p, kThreads);
    ASSERT_LT(i, per);
    if (seen[p][i]) ++dup;
    seen[p][i] = 1;
    ++got;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(dup, 0u);
  std::uint64_t v = 0;
  EXPECT_FALSE(q.try_pop(v));
}

}  // namespace
}  // namespace ringkit::test
