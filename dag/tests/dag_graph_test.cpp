// SPDX-License-Identifier: MIT
// Graph building and validation: ids, node kinds, the for_each rules, cycles rejected naming the nodes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ringkit/dag/graph.hpp"

namespace dag = ringkit::dag;

TEST(DagGraph, BuildsNodesAndEdgesInOrder) {
  dag::Graph g("g");
  auto a = g.task("a", [] {});
  auto b = g.task("b", [](dag::Context&) {});
  auto c = g.condition("c", [](dag::Context&) -> std::size_t { return 0; });
  g.precede(a, {b, c});
  EXPECT_EQ(g.size(), 3U);
  EXPECT_EQ(g.name(b), "b");
  EXPECT_EQ(g.kind(c), dag::NodeKind::Condition);
  auto t = g.compile();
  ASSERT_EQ(t->roots.size(), 1U);
  EXPECT_EQ(t->roots[0], a.index);
  EXPECT_EQ(t->pred_count[b.index], 1U);
  ASSERT_EQ(t->succ_begin[a.index + 1] - t->succ_begin[a.index], 2U);
  EXPECT_EQ(t->succs[t->succ_begin[a.index]], b.index);  // precede() order is the branch order
  EXPECT_EQ(t->succs[t->succ_begin[a.index] + 1], c.index);
}

TEST(DagGraph, CompileIsCachedUntilTheGraphChanges) {
  dag::Graph g;
  auto a = g.task("a", [] {});
  auto t1 = g.compile();
  EXPECT_EQ(t1, g.compile());
  auto b = g.task("b", [] {});
  g.precede(a, b);
  auto t2 = g.compile();
  EXPECT_NE(t1, t2);
  EXPECT_EQ(t2->size(), 2U);
  EXPECT_EQ(t1->size(), 1U);  // a snapshot a run may still be using is untouched
}

TEST(DagGraph, CycleIsRejectedNamingItsNodes) {
  dag::Graph g("loop");
  auto a = g.task("alpha", [] {});
  auto b = g.task("beta", [] {});
  auto c = g.task("gamma", [] {});
  auto d = g.task("delta", [] {});
  g.precede(d, a);
  g.precede(a, b);
  g.precede(b, c);
  g.precede(c, a);
  try {
    g.validate();
    FAIL() << "a cycle was accepted";
  } catch (const dag::CycleError& e) {
    std::vector<std::string> got = e.nodes();
    ASSERT_EQ(got.size(), 3U);
    // The cycle is reported in edge order, starting anywhere on it.
    auto it = std::find(got.begin(), got.end(), "alpha");
    ASSERT_NE(it, got.end());
    std::rotate(got.begin(), it, got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"alpha", "beta", "gamma"}));
    const std::string what = e.what();
    EXPECT_NE(what.find("'alpha'"), std::string::npos) << what;
    EXPECT_NE(what.find("'gamma'"), std::string::npos) << what;
    EXPECT_EQ(what.find("delta"), std::string::npos) << "delta is not on the cycle: " << what;
  }
}

TEST(DagGraph, SelfLoopIsACycle) {
  dag::Graph g;
  auto a = g.task("self", [] {});
  g.precede(a, a);
  try {
    g.validate();
    FAIL();
  } catch (const dag::CycleError& e) {
    EXPECT_EQ(e.nodes(), std::vector<std::string>{"self"});
  }
}

TEST(DagGraph, BadIdsAreRejectedWithTheirValue) {
  dag::Graph g("small");
  auto a = g.task("a", [] {});
  try {
    g.precede(a, dag::NodeId{7});
    FAIL();
  } catch (const dag::GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("node id 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g.precede(dag::NodeId{}, a), dag::GraphError);
}

TEST(DagGraph, ForEachNeedsAStreamAndNoOtherPredecessor) {
  dag::Graph g;
  auto t = g.task("plain", [] {});
  EXPECT_THROW(g.for_each("each", t, [](dag::Context&, dag::Item) {}), dag::GraphError);
  auto s = g.stream("src", [](dag::Context&) {});
  auto f = g.for_each("each", s, [](dag::Context&, dag::Item) {});
  try {
    g.precede(t, f);
    FAIL();
  } catch (const dag::GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("'each'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(g.compile()->pred_count[f.index], 1U);
}

TEST(DagGraph, EmptyCallableIsRejected) {
  dag::Graph g;
  EXPECT_THROW(g.condition("c", nullptr), dag::GraphError);
  EXPECT_THROW(g.stream("s", nullptr), dag::GraphError);
}
