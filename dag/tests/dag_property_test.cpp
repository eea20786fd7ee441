// SPDX-License-Identifier: MIT
// Property: for random DAGs, under 1-4 workers, both queue kinds, local batches on and off, every task
// runs exactly once and after all its predecessors; with one throwing node, exactly the nodes that
// depend on it are skipped and every other node still runs once.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <memory>
#include <tuple>

#include "dag_check.hpp"
#include "ringkit/dag/executor.hpp"

namespace dag = ringkit::dag;

namespace {

dag::Executor& executor(unsigned workers, bool channel, bool local) {
  static std::map<std::tuple<unsigned, bool, bool>, std::unique_ptr<dag::Executor>> pool;
  auto& e = pool[{workers, channel, local}];
  if (!e) {
    e = std::make_unique<dag::Executor>(dag::ExecutorOptions{
        .workers = workers, .queue = channel ? dag::QueueKind::Channel : dag::QueueKind::Ring,
        .local_batches = local, .ring_capacity = 16});  // small ring: overflow and push-back paths run too
  }
  return *e;
}

// A random DAG: node i takes each earlier node as a predecessor with probability ~density/i.
rc::Gen<std::vector<std::vector<std::uint32_t>>> random_dag() {
  return rc::gen::mapcat(rc::gen::inRange<std::uint32_t>(1, 80), [](std::uint32_t n) {
    return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(n * 3, rc::gen::arbitrary<std::uint32_t>()),
                        [n](const std::vector<std::uint32_t>& rnd) {
                          std::vector<std::vector<std::uint32_t>> preds(n);
                          for (std::uint32_t i = 1; i < n; ++i) {
                            const std::uint32_t k = rnd[3 * i] % 4;  // up to 3 predecessors
                            for (std::uint32_t j = 0; j < k; ++j) {
                              const std::uint32_t p = rnd[3 * i + 1 + (j % 2)] / (j + 1) % i;
                              bool dup = false;
                              for (auto q : preds[i]) dup = dup || q == p;
                              if (!dup) preds[i].push_back(p);
                            }
                          }
                          return preds;
                        });
  });
}

}  // namespace

RC_GTEST_PROP(DagProperty, EveryTaskRunsExactlyOnceAfterItsDependencies, ()) {
  const auto preds = *random_dag();
  const auto workers = *rc::gen::inRange<unsigned>(1, 5);
  const bool channel = *rc::gen::arbitrary<bool>();
  const bool local = *rc::gen::arbitrary<bool>();
  dagtest::Checked c(preds);
  auto& ex = executor(workers, channel, local);
  for (int round = 0; round < 2; ++round) {  // the same graph, run again
    c.reset();
    const dag::RunReport r = ex.run(c.graph);
    RC_ASSERT(r.status == dag::RunStatus::Succeeded);
    RC_ASSERT(r.ran == preds.size());
    RC_ASSERT(c.order_violations.load() == 0U);
    for (std::size_t i = 0; i < preds.size(); ++i) RC_ASSERT(c.runs[i].load() == 1U);
  }
}

RC_GTEST_PROP(DagProperty, AFailureSkipsExactlyItsDependents, ()) {
  const auto preds = *random_dag();
  const auto thrower = *rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(preds.size()));
  const auto workers = *rc::gen::inRange<unsigned>(1, 5);
  const bool channel = *rc::gen::arbitrary<bool>();
  const bool local = *rc::gen::arbitrary<bool>();
  dagtest::Checked c(preds, thrower);
  const dag::RunReport r = executor(workers, channel, local).run(c.graph);
  RC_ASSERT(r.status == dag::RunStatus::Failed);
  std::string want = "n";
  want += std::to_string(thrower);
  RC_ASSERT(r.failed_node == want);
  RC_ASSERT(c.order_violations.load() == 0U);
  const auto dep = c.descendants_of(thrower);
  std::size_t dependents = 0;
  for (std::size_t i = 0; i < preds.size(); ++i) {
    if (dep[i]) ++dependents;
    RC_ASSERT(c.runs[i].load() == (dep[i] ? 0U : 1U));
  }
  RC_ASSERT(r.skipped_failed == dependents);
  RC_ASSERT(r.failed == 1U);
  RC_ASSERT(r.ran == preds.size() - dependents - 1);
}
