// SPDX-License-Identifier: MIT
// SpillToDisk under load: a ring of 64 slots, producers much faster than a deliberately slow consumer,
// 10^6 items in Release (scaled under sanitizers). Nothing lost, nothing duplicated, no torn payload,
// per-producer FIFO across ring and spill, and the spill file removed once drained.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <thread>
#include <vector>

#include "lifecycle.hpp"
#include "ringkit/spilling_queue.hpp"
#include "spill_test_support.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace ringkit::test {
namespace {

static_assert(std::is_trivially_copyable_v<Correlated>);

template <class Q>
void spill_stress(std::size_t producers, std::size_t consumers, std::uint64_t total) {
  ScratchDir dir;
  Watchdog dog("spill stress", std::chrono::seconds(240));
  Q q(64, SpillOptions{.directory = dir.path()});
  const std::uint64_t per = total / producers;
  std::vector<std::atomic<std::uint8_t>> marks(producers * per);
  std::atomic<std::uint64_t> torn{0}, dup{0}, disorder{0}, consumed{0};
  std::atomic<std::size_t> left{producers};
  std::atomic<std::uint64_t> errors{0}, max_pending{0};
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint64_t s = 0; s < per; ++s) {
        const PushResult r = q.push(Correlated::make(p, s));
        if (r != PushResult::Pushed && r != PushResult::Spilled) errors++;
        // Now and then the producers pause long enough for the consumer to drain the spill, so the
        // ring -> spill -> drained -> ring cycle runs many times, not once.
        if ((s & 65535) == 65535) std::this_thread::sleep_for(std::chrono::milliseconds(40));
        if ((s & 1023) == 0) {
          const std::uint64_t pending = q.spill_pending();
          std::uint64_t m = max_pending.load();
          while (pending > m && !max_pending.compare_exchange_weak(m, pending)) {
          }
        }
      }
      if (left.fetch_sub(1) == 1) q.close();
    });
  }
  std::atomic<std::uint64_t> files_seen{0};
  std::atomic<bool> stop_watch{false};
  std::thread watcher([&] {  // counts distinct spill files: proves re-activation after draining
    std::filesystem::path last;
    while (!stop_watch.load()) {
      const auto now = q.spill_path();
      if (!now.empty() && now != last) {
        files_seen++;
        last = now;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  for (std::size_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(producers, -1);
      Correlated item;
      std::uint64_t n = 0;
      while (q.pop(item)) {
        if (!item.consistent()) {
          torn++;
          continue;
        }
        if (static_cast<std::int64_t>(item.seq) <= last[item.producer]) disorder++;
        last[item.producer] = static_cast<std::int64_t>(item.seq);
        if (marks[item.producer * per + item.seq].fetch_add(1) != 0) dup++;
        // Slow consumer in alternate phases of 32768 items (a pause every 256 items), full speed in the
        // others, so the ring overflows, the spill grows, then drains while the producers pause.
        if ((++n & 255) == 0 && ((n >> 15) & 1) == 0 && left.load() != 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      }
      consumed += n;
    });
  }
  for (auto& t : threads) t.join();
  stop_watch = true;
  watcher.join();
  const QueueStats s = q.stats();
  std::printf("  %zuP x %zuC: %llu items, spilled %llu, max spill backlog seen %llu, spill files seen %llu\n",
              producers, consumers, static_cast<unsigned long long>(producers * per),
              static_cast<unsigned long long>(s.spilled), static_cast<unsigned long long>(max_pending.load()),
              static_cast<unsigned long long>(files_seen.load()));
  EXPECT_EQ(errors.load(), 0u) << q.last_error_message();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(dup.load(), 0u);
  EXPECT_EQ(disorder.load(), 0u);
  EXPECT_EQ(consumed.load(), producers * per);
  std::uint64_t missing = 0;
  for (auto& m : marks) missing += m.load() == 0;
  EXPECT_EQ(missing, 0u);
  EXPECT_GT(s.spilled, 0u) << "the consumer was never slow enough to spill";
  EXPECT_EQ(s.spilled, s.unspilled);
  EXPECT_EQ(s.pushed + s.spilled, producers * per);
  EXPECT_EQ(s.popped, producers * per);
  EXPECT_FALSE(q.last_error()) << q.last_error_message();
  EXPECT_TRUE(q.spill_path().empty());
  EXPECT_EQ(dir.file_count(), 0u) << "spill file left behind after draining";
}

TEST(MpscQueueSpillStress, TwoProducersSlowConsumerMillionItems) {
  spill_stress<SpillingMpscQueue<Correlated>>(2, 1, scaled(1'000'000, 50));
}

TEST(MpscQueueSpillStress, FourProducersBlockingStrategy) {
  spill_stress<SpillingMpscQueue<Correlated, Blocking>>(4, 1, scaled(200'000, 50));
}

TEST(MpmcQueueSpillStress, TwoByTwo) { spill_stress<SpillingMpmcQueue<Correlated>>(2, 2, scaled(200'000, 50)); }

}  // namespace
}  // namespace ringkit::test
