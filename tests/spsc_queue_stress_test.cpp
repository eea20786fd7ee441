// SPDX-License-Identifier: MIT
// Two-thread stress for SpscQueue: every item arrives exactly once and in order, across single,
// batch, claim/commit, peek/pop_n, consume and blocking paths, on tiny and large rings, with sequences
// that wrap through 2^64, and with correlated payload fields that expose torn reads.
#include "ringkit/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "lifecycle.hpp"
#include "test_scale.hpp"

namespace {

using ringkit::test::Correlated;

// Turns a hang into a failure: aborts the process if not disarmed within `limit`.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread_([limit](std::stop_token st) {
          const auto end = std::chrono::steady_clock::now() + limit;
          while (!st.stop_requested()) {
            if (std::chrono::steady_clock::now() > end) {
              std::fprintf(stderr, "watchdog: stress test hung for %lld s\n", static_cast<long long>(limit.count()));
              std::abort();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }) {}

 private:
  std::jthread thread_;
};

struct Config {
  std::size_t capacity;
  std::uint64_t start;
};

// single_pops_only: the consumer uses only try_pop, pop and front(); it never reloads write_ through a
// batch call, so a single pop that failed to take a published call by its mark would hang (watchdog).
template <class Wait>
void run_mixed_paths(const Config& cfg, std::uint64_t items, unsigned seed, bool single_pops_only = false) {
  ringkit::SpscQueue<Correlated, Wait> q(cfg.capacity, ringkit::Overflow::Block, ringkit::detail::StartSequence{cfg.start});
  std::atomic<bool> failed{false};

  std::thread producer([&] {
    std::mt19937 rng(seed);
    std::vector<Correlated> batch;
    std::uint64_t next = 0;
    while (next < items) {
      switch (rng() % 4) {
        case 0:  // try_push, spinning on full
          if (q.try_push(Correlated::make(0, next))) ++next;
          break;
        case 1:  // blocking push
          if (q.push(Correlated::make(0, next)) != ringkit::PushResult::Pushed) failed = true;
          ++next;
          break;
        case 2: {  // push_batch of up to 7
          batch.clear();
          for (std::uint64_t k = 0; k < 1 + rng() % 7 && next + k < items; ++k) batch.push_back(Correlated::make(0, next + k));
          next += q.push_batch(batch);
          break;
        }
        default: {  // claim + partial commit
          auto spans = q.try_claim(1 + rng() % 9);
          const std::size_t n = std::min<std::uint64_t>(spans.size(), items - next);
          for (std::size_t i = 0; i < n; ++i) spans[i] = Correlated::make(0, next + i);
          q.commit(n);
          next += n;
          break;
        }
      }
    }
    q.close();
  });

  std::mt19937 rng(seed * 7 + 1);
  std::uint64_t expect = 0;
  auto check = [&](const Correlated& c) {
    if (!c.consistent() || c.seq != expect) {
      ADD_FAILURE() << "expected seq " << expect << ", got " << c.seq << (c.consistent() ? "" : " (torn)");
      failed = true;
    }
    ++expect;
  };
  std::vector<Correlated> out(8);
  while (!failed) {
    bool progressed = true;
    switch (single_pops_only ? (rng() % 3 == 2 ? 5 : rng() % 2) : rng() % 5) {
      case 0: {
        Correlated c;
        progressed = q.try_pop(c);
        if (progressed) check(c);
        break;
      }
      case 1: {
        Correlated c;
        if (!q.pop(c)) { progressed = false; break; }
        check(c);
        break;
      }
      case 2: {
        const std::size_t n = q.pop_batch(std::span(out).first(1 + rng() % 8));
        for (std::size_t i = 0; i < n; ++i) check(out[i]);
        progressed = n > 0;
        break;
      }
      case 3: {
        auto spans = q.peek(1 + rng() % 9);
        for (std::size_t i = 0; i < spans.size(); ++i) check(spans[i]);
        q.pop_n(spans.size());
        progressed = !spans.empty();
        break;
      }
      case 5:
        if (Correlated* f = q.front()) {
          check(*f);
          q.pop();
        } else {
          progressed = false;
        }
        break;
      default:
        progressed = q.consume(1 + rng() % 9, check) > 0;
        break;
    }
    if (!progressed && q.closed() && q.empty()) break;
  }
  producer.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(expect, items) << "every item exactly once";
  EXPECT_EQ(q.stats().popped, items);
}

class SpscStress : public ::testing::TestWithParam<Config> {};

TEST_P(SpscStress, EveryItemOnceInOrderAcrossAllPathsYielding) {
  Watchdog dog(std::chrono::seconds(240));
  run_mixed_paths<ringkit::Yielding>(GetParam(), ringkit::test::scaled(1'000'000, 40), 1);
}

TEST_P(SpscStress, EveryItemOnceInOrderAcrossAllPathsBlocking) {
  Watchdog dog(std::chrono::seconds(240));
  run_mixed_paths<ringkit::Blocking>(GetParam(), ringkit::test::scaled(500'000, 40), 2);
}

// Every publishing call stores one mark, on its first slot (its range's end): single pops alone must
// take singles, batches and partial commits across laps and the 2^64 wrap.
TEST_P(SpscStress, EveryItemOnceInOrderWhenTheConsumerOnlyPopsSingly) {
  Watchdog dog(std::chrono::seconds(240));
  run_mixed_paths<ringkit::Yielding>(GetParam(), ringkit::test::scaled(500'000, 40), 3, true);
}

INSTANTIATE_TEST_SUITE_P(
    Capacities, SpscStress,
    ::testing::Values(Config{1, 0}, Config{2, 0}, Config{4, std::numeric_limits<std::uint64_t>::max() - 1000},
                      Config{16, std::numeric_limits<std::uint64_t>::max() - 50},
                      Config{64, 0}, Config{1024, std::numeric_limits<std::uint64_t>::max() - 100'000}),
    [](const auto& param_info) {
      return "cap" + std::to_string(param_info.param.capacity) + (param_info.param.start ? "_wrapping" : "");
    });

TEST(SpscStressLifecycle, NonTrivialItemsAreConstructedAndDestroyedExactlyOnce) {
  Watchdog dog(std::chrono::seconds(240));
  using ringkit::test::life_counts;
  using ringkit::test::Tracked;
  life_counts().reset();
  const std::uint64_t items = ringkit::test::scaled(300'000, 30);
  {
    ringkit::SpscQueue<Tracked, ringkit::Yielding> q(8);
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < items; ++i) (void)q.push(Tracked(static_cast<long>(i)));
      // leave a few inside for the destructor
      for (long i = 0; i < 3; ++i) (void)q.push(Tracked(-2));
    });
    Tracked t;
    for (std::uint64_t i = 0; i < items; ++i) {
      ASSERT_TRUE(q.pop(t));
      ASSERT_EQ(t.value(), static_cast<long>(i));
    }
    producer.join();
  }
  EXPECT_EQ(life_counts().alive(), 0);
}

}  // namespace
