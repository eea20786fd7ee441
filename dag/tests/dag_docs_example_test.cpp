// docs/dag.md's Usage example, extracted by CMake into dag_usage_example.inc, compiled and run: the
// documented API exists and the example does what its comments say.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "ringkit/dag/executor.hpp"
#include "ringkit/dag/trace.hpp"

TEST(DagDocs, UsageExampleRuns) {
#include "dag_usage_example.inc"
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(r2.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(r2.items, 1000U);           // every emitted item reached the for_each node
  EXPECT_EQ(r2.skipped_not_taken, 1U);  // the branch the condition did not take
  EXPECT_EQ(r2.subgraph_nodes, 1U);     // the spawned "part"
  EXPECT_EQ(results, g.size());         // one result per node
  EXPECT_EQ(sum.load(), 2U * (999U * 1000U / 2));  // two runs, items 0..999
  EXPECT_TRUE(std::filesystem::exists("run.json"));
}
