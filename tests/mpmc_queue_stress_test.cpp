// SPDX-License-Identifier: MIT
// Multi-threaded stress for MpscQueue and MpmcQueue (RELIABILITY rows 5, 6 and 10):
// P x C in {1,2,4} x {1 (MPSC), 2 (MPMC)}, rings of 1, 2, 4 and 1024 slots, try_* loops and blocking
// calls, Correlated payloads (a torn read breaks seq/seq+13/seq-7). Asserts: every item exactly once,
// per-producer FIFO as seen by each consumer, no torn payload, and stats() agreeing with what was seen.
// DropOldest: consumed + evicted == pushed and every producer's consumed items in order.
// 4 producers on the 2-core VM is oversubscription on purpose. Counts are scaled under sanitizers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lifecycle.hpp"
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

enum class Mode { Try, Blocking, Batch };

const char* name(Mode m) { return m == Mode::Try ? "try" : m == Mode::Blocking ? "blocking" : "batch"; }

struct Seen {
  explicit Seen(std::size_t producers, std::uint64_t per) : per_producer(per), marks(producers * per) {}
  std::uint64_t per_producer;
  std::vector<std::atomic<std::uint8_t>> marks;
  std::atomic<std::uint64_t> torn{0}, duplicates{0}, out_of_order{0}, bad_producer{0};
  void take(const Correlated& c, std::vector<std::int64_t>& last) {
    if (!c.consistent()) {
      torn++;
      return;
    }
    if (c.producer >= last.size() || c.seq >= per_producer) {
      bad_producer++;
      return;
    }
    auto& l = last[c.producer];
    if (static_cast<std::int64_t>(c.seq) <= l) out_of_order++;
    l = static_cast<std::int64_t>(c.seq);
    // relaxed: counting marks; the test reads them after join().
    if (marks[c.producer * per_producer + c.seq].fetch_add(1, std::memory_order_relaxed) != 0) duplicates++;
  }
};

template <class Q>
void run(std::size_t producers, std::size_t consumers, std::size_t capacity, Mode mode, Overflow overflow,
         std::uint64_t per_producer) {
  const std::string what = std::to_string(producers) + "P x " + std::to_string(consumers) + "C, capacity " +
                           std::to_string(capacity) + ", " + name(mode) + ", " + std::string(to_string(overflow));
  SCOPED_TRACE(what);
  Watchdog dog(what);
  Q q(capacity, overflow);
  Seen seen(producers, per_producer);
  StartGate gate;
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<std::size_t> producers_left{producers};
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      gate.wait();
      std::vector<Correlated> batch;
      for (std::uint64_t s = 0; s < per_producer;) {
        if (mode == Mode::Try) {
          if (q.try_push(Correlated::make(p, s))) {
            ++s;
          } else {
            std::this_thread::yield();
          }
        } else if (mode == Mode::Blocking || overflow == Overflow::DropOldest) {
          ASSERT_EQ(q.push(Correlated::make(p, s)), PushResult::Pushed);
          ++s;
        } else {  // Batch
          batch.clear();
          for (std::uint64_t k = s; k < per_producer && k < s + 7; ++k) batch.push_back(Correlated::make(p, k));
          const std::size_t n = q.push_batch(batch);
          s += n;
          if (n == 0) std::this_thread::yield();
        }
      }
      if (producers_left.fetch_sub(1) == 1) q.close();
    });
  }
  for (std::size_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      gate.wait();
      std::vector<std::int64_t> last(producers, -1);
      std::uint64_t mine = 0;
      Correlated item;
      if (mode == Mode::Try) {
        for (;;) {
          if (q.try_pop(item)) {
            seen.take(item, last);
            ++mine;
          } else if (q.closed()) {
            while (q.pop(item)) {  // drain the rest
              seen.take(item, last);
              ++mine;
            }
            break;
          } else {
            std::this_thread::yield();
          }
        }
      } else if (mode == Mode::Blocking) {
        while (q.pop(item)) {
          seen.take(item, last);
          ++mine;
        }
      } else {
        std::vector<Correlated> out(5);
        for (;;) {
          const std::size_t n = q.pop_batch(out);
          for (std::size_t i = 0; i < n; ++i) seen.take(out[i], last);
          mine += n;
          if (n == 0) {
            if (q.closed()) {  // drain what is left with the blocking pop, then stop
              if (!q.pop(item)) break;
              seen.take(item, last);
              ++mine;
              continue;
            }
            std::this_thread::yield();
          }
        }
      }
      consumed += mine;
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  gate.open();
  for (auto& t : threads) t.join();
  if (std::getenv("RINGKIT_STRESS_VERBOSE") != nullptr) {
    std::printf("%-50s %8.1f ms\n", what.c_str(),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }

  EXPECT_EQ(seen.torn.load(), 0u);
  EXPECT_EQ(seen.duplicates.load(), 0u);
  EXPECT_EQ(seen.out_of_order.load(), 0u);
  EXPECT_EQ(seen.bad_producer.load(), 0u);
  const QueueStats s = q.stats();
  const std::uint64_t total = producers * per_producer;
  EXPECT_EQ(s.pushed, total);
  EXPECT_EQ(s.popped, consumed.load());
  if (overflow == Overflow::DropOldest) {
    EXPECT_EQ(consumed.load() + s.evicted, total);  // every item consumed or counted evicted
    EXPECT_EQ(s.dropped, 0u);
  } else {
    EXPECT_EQ(consumed.load(), total);
    EXPECT_EQ(s.evicted, 0u);
    std::uint64_t missing = 0;
    for (auto& m : seen.marks) missing += m.load() == 0;
    EXPECT_EQ(missing, 0u);
  }
}

std::uint64_t per_producer(std::size_t producers, std::size_t capacity) {
  // Tiny rings hand off one item per context switch on the 2-core VM: keep their totals smaller.
  const std::uint64_t total = capacity <= 4 ? 24'000 : 120'000;
  return scaled(total / producers);
}

struct Case {
  std::size_t producers, capacity;
  Mode mode;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (std::size_t p : {1u, 2u, 4u})
    for (std::size_t cap : {1u, 2u, 4u, 1024u})
      for (Mode m : {Mode::Try, Mode::Blocking, Mode::Batch}) out.push_back({p, cap, m});
  return out;
}

TEST(MpscQueueStress, ProducersByOneConsumer) {
  for (const Case& c : cases()) {
    run<MpscQueue<Correlated>>(c.producers, 1, c.capacity, c.mode, Overflow::Block,
                               per_producer(c.producers, c.capacity));
  }
}

TEST(MpmcQueueStress, ProducersByTwoConsumers) {
  for (const Case& c : cases()) {
    run<MpmcQueue<Correlated>>(c.producers, 2, c.capacity, c.mode, Overflow::Block,
                               per_producer(c.producers, c.capacity));
  }
}

TEST(MpmcQueueStress, BlockingStrategyOversubscribed) {
  run<MpmcQueue<Correlated, Blocking>>(4, 2, 2, Mode::Blocking, Overflow::Block, per_producer(4, 2));
  run<MpscQueue<Correlated, Blocking>>(4, 1, 64, Mode::Blocking, Overflow::Block, per_producer(4, 64));
}

// Evicting producers race the consumer(s) for the oldest slot: the turn + head CAS decide who owns it.
TEST(MpscQueueStress, DropOldestAccounting) {
  for (std::size_t p : {1u, 2u, 4u})
    for (std::size_t cap : {1u, 2u, 4u, 64u})
      run<MpscQueue<Correlated>>(p, 1, cap, Mode::Blocking, Overflow::DropOldest, per_producer(p, 1024));
}

TEST(MpmcQueueStress, DropOldestAccounting) {
  for (std::size_t p : {1u, 2u, 4u})
    for (std::size_t cap : {1u, 2u, 4u, 64u})
      run<MpmcQueue<Correlated>>(p, 2, cap, Mode::Blocking, Overflow::DropOldest, per_producer(p, 1024));
}

// DropOldest with a Tracked element: every constructed item destroyed exactly once under the race.
TEST(MpmcQueueStress, DropOldestLifecycle) {
  life_counts().reset();
  {
    Watchdog dog("DropOldestLifecycle");
    MpmcQueue<Tracked> q(2, Overflow::DropOldest);
    const long n = static_cast<long>(scaled(50'000));
    std::atomic<long> got{0};
    std::thread c([&] {
      Tracked t;
      while (q.pop(t)) got++;
    });
    std::vector<std::thread> ps;
    for (int p = 0; p < 3; ++p)
      ps.emplace_back([&] {
        for (long i = 0; i < n; ++i) q.push(Tracked(i));
      });
    for (auto& t : ps) t.join();
    q.close();
    c.join();
    EXPECT_EQ(static_cast<std::uint64_t>(got.load()) + q.stats().evicted, static_cast<std::uint64_t>(3 * n));
  }
  EXPECT_EQ(life_counts().alive(), 0);
}

}  // namespace
}  // namespace ringkit::test
