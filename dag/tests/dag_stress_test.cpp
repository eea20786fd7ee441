// SPDX-License-Identifier: MIT
// Stress: several threads start runs of checked graphs (every task exactly once, after its
// predecessors) on one 4-worker executor at once, some of them cancelled at random moments, with tiny
// rings so the full-ring paths (push-back, overflow, sharing) run constantly. Every run must finish with
// its nodes accounted for: ran + cancelled (+ skipped) == nodes, and no order violation ever.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "dag_check.hpp"
#include "ringkit/dag/executor.hpp"
#include "dag_scale.hpp"

namespace dag = ringkit::dag;

namespace {

std::vector<std::vector<std::uint32_t>> random_preds(std::mt19937& rng, std::uint32_t n) {
  std::vector<std::vector<std::uint32_t>> preds(n);
  for (std::uint32_t i = 1; i < n; ++i) {
    const std::uint32_t k = rng() % 4;
    for (std::uint32_t j = 0; j < k; ++j) {
      const std::uint32_t lo = i > 64 ? i - 64 : 0;
      const std::uint32_t p = lo + static_cast<std::uint32_t>(rng() % (i - lo));
      bool dup = false;
      for (auto q : preds[i]) dup = dup || q == p;
      if (!dup) preds[i].push_back(p);
    }
  }
  return preds;
}

void hammer(dag::QueueKind queue, bool local) {
  dag::Executor ex(dag::ExecutorOptions{.workers = 4, .queue = queue, .local_batches = local, .ring_capacity = 32,
                                        .overflow_reserve = 64});
  const int rounds = static_cast<int>(ringkit::dag::test::scaled(60, 10));
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(1234 + c));
      for (int round = 0; round < rounds; ++round) {
        dagtest::Checked g(random_preds(rng, static_cast<std::uint32_t>(200 + rng() % 3000)));
        const bool cancel = rng() % 4 == 0;
        auto h = ex.run_async(g.graph);
        if (cancel) {
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
          h.cancel();
        }
        const dag::RunReport r = h.wait();
        std::size_t ran = 0;
        for (std::size_t i = 0; i < g.preds.size(); ++i) {
          const auto k = g.runs[i].load();
          if (k > 1) failures++;
          ran += k;
        }
        if (g.order_violations.load() != 0) failures++;
        if (ran != r.ran) failures++;
        if (r.ran + r.cancelled + r.skipped_failed != g.preds.size()) failures++;
        if (!cancel && (r.status != dag::RunStatus::Succeeded || r.ran != g.preds.size())) failures++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  const auto s = ex.stats();
  EXPECT_GT(s.executed, 0U);
}

}  // namespace

TEST(DagStress, ConcurrentRunsAndCancelsOnRingsLoseAndRepeatNothing) { hammer(dag::QueueKind::Ring, true); }
TEST(DagStress, ConcurrentRunsWithEveryTaskThroughTheRing) { hammer(dag::QueueKind::Ring, false); }
TEST(DagStress, ConcurrentRunsOnTheChannelBaseline) { hammer(dag::QueueKind::Channel, true); }

TEST(DagStress, StreamsUnderPushBackDeliverEveryItemOnce) {
  dag::Executor ex(dag::ExecutorOptions{.workers = 3, .ring_capacity = 8});
  const std::uint64_t n = ringkit::dag::test::scaled(200000, 20);
  std::vector<std::atomic<std::uint8_t>> seen(n);
  dag::Graph g;
  auto s = g.stream("s", [&](dag::Context& ctx) {
    for (std::uint64_t i = 0; i < n; ++i) ctx.emit(i);
  });
  // relaxed: read after ex.run() returns, ordered by RunHandle::wait()'s acquire on done.
  g.for_each("f", s, [&](dag::Context&, dag::Item i) { seen[i].fetch_add(1, std::memory_order_relaxed); });
  const auto r = ex.run(g);
  EXPECT_EQ(r.items, n);
  std::uint64_t bad = 0;
  for (auto& v : seen) bad += v.load() != 1;
  EXPECT_EQ(bad, 0U);
  EXPECT_GT(ex.stats().inline_items, 0U) << "an 8-slot ring should have pushed back on the stream";
}
