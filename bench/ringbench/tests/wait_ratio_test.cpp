// SPDX-License-Identifier: MIT
// The "Blocking vs BusySpin" section of ringbench's report (src/report.cpp): ratios of the medians of the
// wait_* tables of one run, and the targets of issue 8 marked met / NOT met / not measured.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report.hpp"

namespace ringbench {
namespace {

RunRecord run_with(const std::string& metric, double v) {
  RunRecord r;
  r.status = "ok";
  r.seconds = 1;
  r.metrics.emplace_back(metric, v);
  return r;
}

// Adds a table `key` (kind k) holding one cell per (contender, values of `metric` over its repeats).
void add_table(Report& rep, const std::string& key, TableKind k, const std::string& metric,
               const std::vector<std::pair<std::string, std::vector<double>>>& cells) {
  Table t{key, key, key, k, {}};
  for (const auto& [name, values] : cells) {
    Cell c;
    c.spec.scenario = key;
    c.spec.contender = name;
    c.family = "ringkit";
    c.table = rep.tables.size();
    for (double v : values) c.runs.push_back(run_with(metric, v));
    t.cells.push_back(rep.cells.size());
    rep.cells.push_back(c);
  }
  rep.tables.push_back(t);
}

Report spsc_report() {
  Report rep;
  // Medians: Blocking 80 vs BusySpin 100 (0.8x, met: the bound is inclusive); slow: 30 vs 100 (0.3x).
  add_table(rep, "wait_stream", TableKind::Throughput, "items_per_s",
            {{"ringkit::SpscQueue<Blocking>", {70e6, 80e6, 90e6}}, {"ringkit::SpscQueue<BusySpin>", {100e6, 10e6, 200e6}}});
  add_table(rep, "wait_slow", TableKind::Throughput, "items_per_s",
            {{"ringkit::SpscQueue<Blocking>", {30e6}}, {"ringkit::SpscQueue<BusySpin>", {100e6}}});
  add_table(rep, "wait_rtt", TableKind::Latency, "rtt_p50_ns",
            {{"ringkit::SpscQueue<Blocking>", {400, 300, 500}}, {"ringkit::SpscQueue<BusySpin>", {200, 200, 200}}});
  add_table(rep, "wait_idle", TableKind::Idle, "idle_cpu_pct",
            {{"ringkit::SpscQueue<Blocking>", {0.5}}, {"ringkit::SpscQueue<BusySpin>", {99.0}}});
  return rep;
}

TEST(WaitRatios, AreBlockingMedianOverBusySpinMedianPerQueue) {
  const auto rows = wait_ratios(spsc_report());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].queue, "SpscQueue");
  ASSERT_TRUE(rows[0].stream && rows[0].slow && rows[0].rtt_p50 && rows[0].idle_blocking_pct && rows[0].idle_busyspin_pct);
  EXPECT_DOUBLE_EQ(*rows[0].stream, 0.8);
  EXPECT_DOUBLE_EQ(*rows[0].slow, 0.3);
  EXPECT_DOUBLE_EQ(*rows[0].rtt_p50, 2.0);
  EXPECT_DOUBLE_EQ(*rows[0].idle_blocking_pct, 0.5);
  EXPECT_DOUBLE_EQ(*rows[0].idle_busyspin_pct, 99.0);
  // MpscQueue and MpmcQueue were not in this run.
  EXPECT_FALSE(rows[1].stream || rows[1].slow || rows[1].rtt_p50 || rows[1].idle_blocking_pct);
}

TEST(WaitRatios, RenderSaysWhichTargetIsMetAndWhichIsNotMeasured) {
  const std::string md = render_wait_ratios(spsc_report());
  EXPECT_NE(md.find("| SpscQueue | 0.80× (met) | 0.30× (NOT met) | 0.50% (met) | 99% | 2.00× (NOT met) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| MpscQueue | not measured | not measured | not measured | not measured | not measured |"), std::string::npos) << md;
}

TEST(WaitRatios, AFailedCellGivesNoRatio) {
  Report rep = spsc_report();
  for (auto& c : rep.cells) {
    if (c.spec.scenario == "wait_stream" && c.spec.contender == "ringkit::SpscQueue<Blocking>") c.runs[1].status = "FAILED";
  }
  const auto rows = wait_ratios(rep);
  EXPECT_FALSE(rows[0].stream.has_value());
  EXPECT_TRUE(rows[0].slow.has_value());
}

TEST(WaitRatios, NoWaitTablesNoSection) {
  Report rep;
  add_table(rep, "spsc_8B", TableKind::Throughput, "items_per_s", {{"ringkit::SpscQueue<Blocking>", {1e6}}});
  EXPECT_TRUE(wait_ratios(rep).empty());
  EXPECT_EQ(render_wait_ratios(rep), "");
  EXPECT_EQ(render_markdown(rep).find("Blocking vs BusySpin"), std::string::npos);
}

}  // namespace
}  // namespace ringbench
