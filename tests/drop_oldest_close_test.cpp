// SPDX-License-Identifier: MIT
// DropOldest and close() (issue 8, item 2): a push() must not evict the oldest item and then return
// Closed without inserting its own: the evicted item would be destroyed for nothing. After an
// eviction the push completes (or the eviction does not happen).
//
// The deterministic case uses the evicted item's destructor (run by the evicting producer) as the hook
// that closes the queue, so close() lands exactly between the eviction and the insert. Before the fix
// push() returned Closed there; the stress case checks the accounting under a real third-thread close:
// every evicted item made room for an item that went in (popped + evicted == items pushed).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

std::function<void()> g_on_destroy;  // set by the test while the queue is full

struct CloseOnDestroy {
  long v = 0;
  bool armed = false;  // only the items the test pushes (not moved-from shells or pop targets) fire
  CloseOnDestroy() = default;
  explicit CloseOnDestroy(long x, bool arm = false) : v(x), armed(arm) {}
  CloseOnDestroy(CloseOnDestroy&& o) noexcept : v(o.v), armed(o.armed) { o.armed = false; }
  CloseOnDestroy& operator=(CloseOnDestroy&& o) noexcept {
    v = o.v;
    armed = o.armed;
    o.armed = false;
    return *this;
  }
  ~CloseOnDestroy() {
    if (armed && g_on_destroy) {
      auto fn = std::move(g_on_destroy);
      g_on_destroy = nullptr;
      fn();
    }
  }
};

template <class Q>
void eviction_then_close_still_inserts() {
  Q q(4, Overflow::DropOldest);
  for (long i = 0; i < 4; ++i) ASSERT_EQ(q.push(CloseOnDestroy(i, true)), PushResult::Pushed);
  g_on_destroy = [&] { q.close(); };  // runs when the oldest item is evicted (destroyed)
  const PushResult r = q.push(CloseOnDestroy(100));
  g_on_destroy = nullptr;
  const QueueStats s = q.stats();
  if (s.evicted == 1) {
    EXPECT_EQ(r, PushResult::Pushed) << "the oldest item was evicted, then the push gave up: the item is lost";
  } else {
    EXPECT_EQ(s.evicted, 0u);
    EXPECT_EQ(r, PushResult::Closed);
  }
  std::vector<long> out;
  CloseOnDestroy x;
  while (q.pop(x)) out.push_back(x.v);
  if (r == PushResult::Pushed) {
    EXPECT_EQ(out, (std::vector<long>{1, 2, 3, 100}));
  } else {
    EXPECT_EQ(out, (std::vector<long>{0, 1, 2, 3}));
  }
}

TEST(DropOldestClose, MpscEvictionThenCloseStillInserts) {
  eviction_then_close_still_inserts<MpscQueue<CloseOnDestroy>>();
}
TEST(DropOldestClose, MpmcEvictionThenCloseStillInserts) {
  eviction_then_close_still_inserts<MpmcQueue<CloseOnDestroy>>();
}

// Third-thread close against two DropOldest producers and a consumer: every eviction must be paid for
// by an insert, so popped + evicted == the number of push() calls that returned Pushed.
template <class Q>
void evictions_are_always_followed_by_an_insert(unsigned consumers) {
  const std::uint64_t trials = scaled(1000, 10);
  Watchdog dog("DropOldest close stress");
  std::mt19937 rng(777);
  for (std::uint64_t t = 0; t < trials; ++t) {
    Q q(4, Overflow::DropOldest);
    StartGate gate;
    std::atomic<std::uint64_t> pushed{0}, popped{0};
    const auto delay = static_cast<unsigned>(rng() % 3000);
    std::vector<std::thread> threads;
    for (int p = 0; p < 2; ++p) {
      threads.emplace_back([&] {
        gate.wait();
        std::uint64_t n = 0;
        while (q.push(std::uint64_t{n}) == PushResult::Pushed) ++n;
        pushed += n;
      });
    }
    for (unsigned c = 0; c < consumers; ++c) {
      threads.emplace_back([&] {
        gate.wait();
        std::uint64_t v = 0, n = 0;
        while (q.pop(v)) ++n;
        popped += n;
      });
    }
    threads.emplace_back([&] {
      gate.wait();
      for (unsigned i = 0; i < delay; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);  // a delay loop
      q.close();
    });
    gate.open();
    for (auto& th : threads) th.join();
    const QueueStats s = q.stats();
    ASSERT_EQ(popped.load() + s.evicted, pushed.load())
        << "trial " << t << ": " << s.evicted << " evicted, " << popped.load() << " popped, " << pushed.load()
        << " pushes returned Pushed";
  }
}

TEST(DropOldestClose, MpscEvictionsAreAlwaysFollowedByAnInsert) {
  evictions_are_always_followed_by_an_insert<MpscQueue<std::uint64_t>>(1);
}
TEST(DropOldestClose, MpmcEvictionsAreAlwaysFollowedByAnInsert) {
  evictions_are_always_followed_by_an_insert<MpmcQueue<std::uint64_t>>(2);
}

}  // namespace
}  // namespace ringkit::test
