// SPDX-License-Identifier: MIT
// docs/dag.md's Usage example, extracted by CMake into dag_usage_example.inc, compiled and run: the
// documented API exists and the example does what its comments say.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <cerrno>
#include <string>
#include <system_error>
#include <unistd.h>

#include "ringkit/dag/executor.hpp"
#include "ringkit/dag/trace.hpp"

namespace {
// The example writes "run.json" into the working directory: run it in a fresh directory of its own, so the
// test leaves nothing in the source tree or the build directory.
class InFreshDirectory {
 public:
  InFreshDirectory() : previous_(std::filesystem::current_path()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "dag_docs_example.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = pattern;
    std::filesystem::current_path(dir_);
  }
  InFreshDirectory(const InFreshDirectory&) = delete;
  InFreshDirectory& operator=(const InFreshDirectory&) = delete;
  ~InFreshDirectory() {
    std::filesystem::current_path(previous_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::filesystem::path previous_;
  std::filesystem::path dir_;
};
}  // namespace

TEST(DagDocs, UsageExampleRuns) {
  InFreshDirectory fresh;
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
