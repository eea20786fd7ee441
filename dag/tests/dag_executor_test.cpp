// SPDX-License-Identifier: MIT
// Executor behaviour, for each engine configuration (ringkit ring / channel, local batches on / off):
// order, fan-out/fan-in, conditions, streams, subgraphs, repeated runs, exceptions, cancellation,
// results stream, per-node stats, trace output.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "ringkit/dag/executor.hpp"
#include "ringkit/dag/trace.hpp"
#include "dag_scale.hpp"

namespace dag = ringkit::dag;

namespace {

// "prefix" + i without GCC 12's -Wrestrict false positive on operator+.
std::string nm(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

struct Config {
  dag::QueueKind queue;
  bool local;
  unsigned workers;
  dag::IdleWait wait = dag::IdleWait::Auto;
};

std::string config_name(const testing::TestParamInfo<Config>& info) {
  return std::string(info.param.queue == dag::QueueKind::Ring ? "Ring" : "Channel") +
         (info.param.local ? "Local" : "Queued") + std::to_string(info.param.workers) + "w" +
         (info.param.wait == dag::IdleWait::Parking ? "Parking" : "");
}

class DagExecutor : public testing::TestWithParam<Config> {
 protected:
  dag::ExecutorOptions options() const {
    dag::ExecutorOptions o;
    o.workers = GetParam().workers;
    o.queue = GetParam().queue;
    o.local_batches = GetParam().local;
    o.idle_wait = GetParam().wait;
    o.ring_capacity = 64;  // small: the full-ring paths get exercised
    return o;
  }
};

// Records the order nodes ran in.
struct Log {
  std::mutex m;
  std::vector<int> order;
  void add(int v) {
    std::lock_guard l(m);
    order.push_back(v);
  }
  int pos(int v) {
    std::lock_guard l(m);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i] == v) return static_cast<int>(i);
    }
    return -1;
  }
};

}  // namespace

TEST_P(DagExecutor, FanOutFanInRunsEachTaskOnceAfterItsPredecessors) {
  dag::Executor ex(options());
  dag::Graph g("diamond");
  Log log;
  auto a = g.task("a", [&] { log.add(0); });
  std::vector<dag::NodeId> mid;
  for (int i = 1; i <= 20; ++i) mid.push_back(g.task(nm("m", i), [&, i] { log.add(i); }));
  auto z = g.task("z", [&] { log.add(99); });
  for (auto m : mid) {
    g.precede(a, m);
    g.precede(m, z);
  }
  dag::RunReport r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(r.ran, 22U);
  ASSERT_EQ(log.order.size(), 22U);
  EXPECT_EQ(log.pos(0), 0);
  EXPECT_EQ(log.pos(99), 21);
  std::set<int> seen(log.order.begin(), log.order.end());
  EXPECT_EQ(seen.size(), 22U);
}

TEST_P(DagExecutor, TheSameGraphRunsManyTimesAndConcurrently) {
  dag::Executor ex(options());
  dag::Graph g;
  std::atomic<int> count{0};
  dag::NodeId prev;
  for (int i = 0; i < 50; ++i) {
    auto t = g.task(nm("t", i), [&] { count.fetch_add(1); });
    if (prev.valid()) g.precede(prev, t);
    prev = t;
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ex.run(g).ran, 50U);
  std::vector<dag::RunHandle> hs;
  for (int i = 0; i < 8; ++i) hs.push_back(ex.run_async(g));
  for (auto& h : hs) EXPECT_EQ(h.wait().ran, 50U);
  EXPECT_EQ(count.load(), 28 * 50);
}

TEST_P(DagExecutor, ConditionRunsOnlyTheChosenBranchAndTheJoinStillRuns) {
  dag::Executor ex(options());
  dag::Graph g;
  Log log;
  std::atomic<std::size_t> pick{1};
  auto c = g.condition("if", [&](dag::Context&) { return pick.load(); });
  auto b0 = g.task("then", [&] { log.add(0); });
  auto b1 = g.task("else", [&] { log.add(1); });
  auto after0 = g.task("after_then", [&] { log.add(2); });
  auto join = g.task("join", [&] { log.add(3); });
  g.precede(c, {b0, b1});
  g.precede(b0, after0);
  g.succeed(join, {after0, b1});
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(log.order, (std::vector<int>{1, 3}));
  EXPECT_EQ(r.ran, 3U);  // if, else, join
  EXPECT_EQ(r.skipped_not_taken, 2U);
  pick = 0;
  log.order.clear();
  r = ex.run(g);
  EXPECT_EQ(log.order, (std::vector<int>{0, 2, 3}));
  pick = 5;  // out of range: the condition fails, naming itself
  r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_EQ(r.failed_node, "if");
  EXPECT_THROW(r.rethrow_if_failed(), dag::GraphError);
}

TEST_P(DagExecutor, StreamItemsReachForEachWhileTheStreamRunsAndSuccessorsWaitForAll) {
  dag::Executor ex(options());
  dag::Graph g;
  const std::uint64_t n = ringkit::dag::test::scaled(5000, 10);
  std::atomic<std::uint64_t> sum{0}, seen{0}, seen_by_end{0};
  std::atomic<bool> stream_done{false};
  auto s = g.stream("numbers", [&](dag::Context& ctx) {
    for (std::uint64_t i = 1; i <= n; ++i) ctx.emit(i);
    stream_done = true;
  });
  auto f = g.for_each("add", s, [&](dag::Context&, dag::Item v) {
    sum.fetch_add(v);
    seen.fetch_add(1);
  });
  auto f2 = g.for_each("count", s, [&](dag::Context&, dag::Item) {});
  auto after = g.task("after", [&] { seen_by_end = seen.load(); });
  g.succeed(after, {f, f2});
  auto r = ex.run(g, {.profile = true});
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_TRUE(stream_done);
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
  EXPECT_EQ(seen_by_end.load(), n);
  EXPECT_EQ(r.items, 2 * n);
  EXPECT_EQ(r.nodes[f.index].items, n);
  EXPECT_EQ(r.nodes[f2.index].items, n);
}

TEST_P(DagExecutor, SubgraphSpawnedWhileRunningFinishesBeforeTheSpawnersSuccessors) {
  dag::Executor ex(options());
  dag::Graph g;
  std::atomic<int> inner{0};
  std::atomic<int> inner_at_after{-1};
  auto p = g.task("parent", [&](dag::Context& ctx) {
    dag::Graph sub("sub");
    dag::NodeId prev;
    for (int i = 0; i < 30; ++i) {
      auto t = sub.task(nm("s", i), [&] { inner.fetch_add(1); });
      if (prev.valid()) sub.precede(prev, t);
      prev = t;
    }
    ctx.spawn(sub);
    dag::Graph sub2("sub2");
    sub2.task("lone", [&] { inner.fetch_add(1); });
    ctx.spawn(sub2);
    ctx.spawn(dag::Graph("empty"));
  });
  auto after = g.task("after", [&] { inner_at_after = inner.load(); });
  g.precede(p, after);
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(inner_at_after.load(), 31);
  EXPECT_EQ(r.ran, 33U);
  EXPECT_EQ(r.subgraph_nodes, 31U);
}

TEST_P(DagExecutor, SubgraphFailureOrCycleFailsTheSpawningNode) {
  dag::Executor ex(options());
  dag::Graph g;
  std::atomic<bool> after_ran{false};
  auto p = g.task("parent", [&](dag::Context& ctx) {
    dag::Graph sub("sub");
    sub.task("boom", [] { throw std::runtime_error("inner"); });
    ctx.spawn(sub);
  });
  auto after = g.task("after", [&] { after_ran = true; });
  g.precede(p, after);
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_EQ(r.failed_node, "sub/boom");
  EXPECT_FALSE(after_ran);
  EXPECT_EQ(r.skipped_failed, 1U);

  dag::Graph g2;
  g2.task("spawns_cycle", [](dag::Context& ctx) {
    dag::Graph sub("cyc");
    auto a = sub.task("x", [] {});
    auto b = sub.task("y", [] {});
    sub.precede(a, b);
    sub.precede(b, a);
    ctx.spawn(sub);
  });
  r = ex.run(g2);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_THROW(r.rethrow_if_failed(), dag::CycleError);
}

TEST_P(DagExecutor, FirstExceptionIsReportedDependentsSkippedIndependentsRun) {
  dag::Executor ex(options());
  dag::Graph g;
  std::atomic<int> dependents_ran{0};
  std::atomic<bool> independent_ran{false};
  auto bad = g.task("bad", [] { throw std::runtime_error("first"); });
  auto d1 = g.task("d1", [&] { dependents_ran++; });
  auto d2 = g.task("d2", [&] { dependents_ran++; });
  auto ok = g.task("ok", [] {});
  auto join = g.task("join", [&] { dependents_ran++; });  // depends on bad (via d1) and on ok
  auto indep = g.task("indep", [&] { independent_ran = true; });
  g.precede(bad, d1);
  g.precede(d1, d2);
  g.succeed(join, {d1, ok});
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_EQ(r.failed_node, "bad");
  EXPECT_EQ(dependents_ran.load(), 0);
  EXPECT_TRUE(independent_ran);
  EXPECT_EQ(r.failed, 1U);
  EXPECT_EQ(r.skipped_failed, 3U);
  EXPECT_EQ(r.ran, 2U);
  try {
    r.rethrow_if_failed();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
  (void)indep;
  // The next run of the same graph starts clean.
  r = ex.run(g);
  EXPECT_EQ(r.failed, 1U);
  EXPECT_EQ(r.ran, 2U);
}

TEST_P(DagExecutor, ItemExceptionFailsTheForEachNodeOnly) {
  dag::Executor ex(options());
  dag::Graph g;
  auto s = g.stream("s", [](dag::Context& ctx) {
    for (dag::Item i = 0; i < 100; ++i) ctx.emit(i);
  });
  auto f = g.for_each("f", s, [](dag::Context&, dag::Item i) {
    if (i == 42) throw std::out_of_range("item 42");
  });
  std::atomic<bool> after_ran{false}, other_ran{false};
  auto after = g.task("after_f", [&] { after_ran = true; });
  auto other = g.task("after_s", [&] { other_ran = true; });
  g.precede(f, after);
  g.precede(s, other);
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_EQ(r.failed_node, "f");
  EXPECT_FALSE(after_ran);
  EXPECT_TRUE(other_ran);
}

TEST_P(DagExecutor, CancelStopsSchedulingPromptly) {
  dag::Executor ex(options());
  dag::Graph g;
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  dag::NodeId prev;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto t = g.task("t", [&] {
      started = true;
      ran.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    });
    if (prev.valid()) g.precede(prev, t);
    prev = t;
  }
  auto h = ex.run_async(g);
  while (!started) std::this_thread::yield();
  h.cancel();
  auto r = h.wait();
  EXPECT_EQ(r.status, dag::RunStatus::Cancelled);
  EXPECT_LT(ran.load(), n / 2);  // a chain of 20000 x 50 µs would take over a second
  EXPECT_EQ(r.ran + r.cancelled, static_cast<std::size_t>(n));
  EXPECT_EQ(static_cast<std::size_t>(ran.load()), r.ran);
}

TEST_P(DagExecutor, ResultsStreamDeliversEveryNodeOnceInBatches) {
  dag::Executor ex(options());
  dag::Graph g;
  const int n = 300;
  for (int i = 0; i < n; ++i) g.task(nm("t", i), [] {});
  auto h = ex.run_async(g, {.stream_results = true});
  std::vector<int> seen(n, 0);
  dag::NodeResult buf[16];
  std::size_t total = 0;
  while (std::size_t k = h.next_results(buf)) {
    for (std::size_t i = 0; i < k; ++i) {
      ASSERT_LT(buf[i].node, static_cast<std::uint32_t>(n));
      EXPECT_EQ(buf[i].outcome, dag::Outcome::Ran);
      seen[buf[i].node]++;
    }
    total += k;
  }
  EXPECT_EQ(total, static_cast<std::size_t>(n));
  for (int v : seen) EXPECT_EQ(v, 1);
  EXPECT_TRUE(h.done());
  EXPECT_EQ(h.wait().ran, static_cast<std::size_t>(n));
  auto h2 = ex.run_async(g);
  EXPECT_THROW((void)h2.next_results(buf), std::logic_error);
  h2.wait();
}

TEST_P(DagExecutor, ProfileAndTraceRecordEveryCallable) {
  dag::Executor ex(options());
  dag::Graph g("traced");
  auto a = g.task("sleepy", [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); });
  auto b = g.task("quick", [] {});
  g.precede(a, b);
  auto r = ex.run(g, {.profile = true, .trace = true});
  ASSERT_EQ(r.nodes.size(), 2U);
  EXPECT_EQ(r.nodes[a.index].name, "sleepy");
  EXPECT_GE(r.nodes[a.index].ns, 2'000'000U);
  EXPECT_EQ(r.nodes[b.index].outcome, dag::Outcome::Ran);
  ASSERT_EQ(r.trace.size(), 2U);
  EXPECT_LE(r.trace[0].start_ns + r.trace[0].dur_ns, r.trace[1].start_ns);
  std::ostringstream out;
  dag::write_chrome_trace(r, out);
  auto doc = nlohmann::json::parse(out.str());
  int complete = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "X") {
      ++complete;
      EXPECT_TRUE(e["name"] == "sleepy" || e["name"] == "quick");
    }
  }
  EXPECT_EQ(complete, 2);
  EXPECT_THROW(dag::write_chrome_trace_file(r, "/nonexistent-dir/x.json"), std::runtime_error);
}

TEST_P(DagExecutor, EmptyGraphCompletesAtOnce) {
  dag::Executor ex(options());
  dag::Graph g;
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Succeeded);
  EXPECT_EQ(r.ran, 0U);
}

TEST_P(DagExecutor, EmitFromANonStreamNodeFailsIt) {
  dag::Executor ex(options());
  dag::Graph g;
  g.task("not_a_stream", [](dag::Context& ctx) { ctx.emit(1); });
  auto r = ex.run(g);
  EXPECT_EQ(r.status, dag::RunStatus::Failed);
  EXPECT_THROW(r.rethrow_if_failed(), dag::GraphError);
}

INSTANTIATE_TEST_SUITE_P(Engines, DagExecutor,
                         testing::Values(Config{dag::QueueKind::Ring, true, 1}, Config{dag::QueueKind::Ring, true, 3},
                                         Config{dag::QueueKind::Ring, true, 4, dag::IdleWait::Parking},
                                         Config{dag::QueueKind::Ring, false, 2},
                                         Config{dag::QueueKind::Channel, true, 2},
                                         Config{dag::QueueKind::Channel, false, 3}),
                         config_name);

TEST(DagExecutorOptions, RingCapacityMustBeAPowerOfTwo) {
  EXPECT_THROW(dag::Executor(dag::ExecutorOptions{.workers = 1, .ring_capacity = 1000}), std::invalid_argument);
}

TEST(DagExecutorOptions, DefaultWorkerCountIsTheHardwareThreads) {
  dag::Executor ex;
  EXPECT_EQ(ex.workers(), std::max(1U, std::thread::hardware_concurrency()));
}

TEST(DagExecutorIdle, IdleWorkersUseNoCpu) {
  dag::Executor ex(dag::ExecutorOptions{.workers = 2});
  dag::Graph g;
  g.task("one", [] {});
  ex.run(g);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the Blocking spin phase
  timespec t0{}, t1{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  const double cpu_ms = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e3 + static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e6;
  EXPECT_LT(cpu_ms, 20.0) << "parked workers burned " << cpu_ms << " ms of CPU in 200 ms";
}

TEST(DagExecutorParallel, TwoReadyTasksRunOnTwoWorkersAtOnce) {
  // Each task waits (up to 5 s) until the other has started: they meet only if two workers run them
  // at the same time, i.e. the second ready task reached the parked worker.
  for (dag::IdleWait wait : {dag::IdleWait::Blocking, dag::IdleWait::Parking}) {
    for (bool local : {true, false}) {
      dag::Executor ex(dag::ExecutorOptions{.workers = 2, .idle_wait = wait, .local_batches = local});
      for (int round = 0; round < 3; ++round) {
        dag::Graph g;
        std::atomic<int> started{0};
        std::atomic<int> met{0};
        auto meet = [&] {
          started.fetch_add(1);
          const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (started.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
          if (started.load() == 2) met.fetch_add(1);
        };
        auto root = g.task("root", [] {});
        auto a = g.task("a", meet);
        auto b = g.task("b", meet);
        g.precede(root, {a, b});  // both become ready on one worker at once
        ex.run(g);
        EXPECT_EQ(met.load(), 2) << "round " << round << (local ? " local" : " queued") << " shared "
                                 << ex.stats().shared << " from_queue " << ex.stats().from_queue;
      }
    }
  }
}
