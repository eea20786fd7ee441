// SPDX-License-Identifier: MIT
// No allocation per task in steady state: a run allocates a fixed handful of blocks (its per-node
// arrays) whatever its node count, so a 65,536-task run allocates exactly as often as a 1,024-task run
// of the same shape; stream items allocate nothing either. Proved with the counting global allocator.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>

// The counting global operator new/delete for this executable (ringkit::AllocationCounter).
#define RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS
#include "ringkit/alloc_counter.hpp"
#include "ringkit/dag/executor.hpp"
#include "dag_scale.hpp"

namespace dag = ringkit::dag;
using ringkit::AllocationCounter;

namespace {

std::atomic<std::uint64_t> g_sink{0};

void chain(dag::Graph& g, std::uint32_t n) {
  dag::NodeId prev;
  for (std::uint32_t i = 0; i < n; ++i) {
    // relaxed: a sink that gives the task a body; no one reads it for ordering.
    auto t = g.task("t", [] { g_sink.fetch_add(1, std::memory_order_relaxed); });
    if (prev.valid()) g.precede(prev, t);
    prev = t;
  }
}

void tree(dag::Graph& g, std::uint32_t levels) {
  std::vector<dag::NodeId> ids;
  const std::uint32_t n = (1U << levels) - 1;
  // relaxed: a sink, as above.
  for (std::uint32_t i = 0; i < n; ++i) ids.push_back(g.task("t", [] { g_sink.fetch_add(1, std::memory_order_relaxed); }));
  for (std::uint32_t i = 1; i < n; ++i) g.precede(ids[(i - 1) / 2], ids[i]);
}

void flat(dag::Graph& g, std::uint32_t n) {
  // relaxed: a sink, as above.
  for (std::uint32_t i = 0; i < n; ++i) g.task("t", [] { g_sink.fetch_add(1, std::memory_order_relaxed); });
}

long allocations_of_run(dag::Executor& ex, const dag::Graph& g) {
  (void)ex.run(g);  // warm-up: compiles the graph, grows nothing afterwards
  AllocationCounter c;
  const dag::RunReport r = ex.run(g);
  const long n = c.allocations();
  EXPECT_EQ(r.ran, g.size());
  return n;
}

class DagAlloc : public testing::TestWithParam<std::tuple<dag::QueueKind, bool>> {};

}  // namespace

TEST_P(DagAlloc, RunAllocationsDoNotGrowWithTheTaskCount) {
  dag::Executor ex(dag::ExecutorOptions{.workers = 2, .queue = std::get<0>(GetParam()),
                                        .local_batches = std::get<1>(GetParam()), .ring_capacity = 1024,
                                        .overflow_reserve = 1 << 16});
  dag::Graph small_chain, big_chain, small_tree, big_tree, small_flat, big_flat;
  // 64x the tasks (16x under a sanitizer, to keep the suite fast); the assertion is the same.
  const bool san = ringkit::dag::test::under_sanitizer();
  const std::uint32_t big = san ? 16384 : 65536;
  chain(small_chain, 1024);
  chain(big_chain, big);
  tree(small_tree, 10);
  tree(big_tree, san ? 14 : 16);
  flat(small_flat, 1024);
  flat(big_flat, big);
  const long a = allocations_of_run(ex, small_chain);
  const long b = allocations_of_run(ex, big_chain);
  EXPECT_EQ(a, b) << "allocations grew with the task count (chain)";
  EXPECT_LE(b, 8) << "a run should allocate a handful of blocks";
  EXPECT_EQ(allocations_of_run(ex, small_tree), allocations_of_run(ex, big_tree)) << "binary tree";
  EXPECT_EQ(allocations_of_run(ex, small_flat), allocations_of_run(ex, big_flat)) << "independent tasks";
}

TEST_P(DagAlloc, StreamItemsAllocateNothing) {
  dag::Executor ex(dag::ExecutorOptions{.workers = 2, .queue = std::get<0>(GetParam()),
                                        .local_batches = std::get<1>(GetParam()), .ring_capacity = 256});
  std::atomic<std::uint64_t> items{1000};
  dag::Graph g;
  auto s = g.stream("s", [&](dag::Context& ctx) {
    const std::uint64_t n = items.load();
    for (std::uint64_t i = 0; i < n; ++i) ctx.emit(i);
  });
  // relaxed: a sink, as above.
  g.for_each("f", s, [](dag::Context&, dag::Item i) { g_sink.fetch_add(i, std::memory_order_relaxed); });
  (void)ex.run(g);
  AllocationCounter c1;
  (void)ex.run(g);
  const long few = c1.allocations();
  items = 100000;
  AllocationCounter c2;
  const dag::RunReport r = ex.run(g);
  EXPECT_EQ(c2.allocations(), few);
  EXPECT_EQ(r.items, 100000U);
}

INSTANTIATE_TEST_SUITE_P(Engines, DagAlloc,
                         testing::Combine(testing::Values(dag::QueueKind::Ring, dag::QueueKind::Channel),
                                          testing::Bool()));
