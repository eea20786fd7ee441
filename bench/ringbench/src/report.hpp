// SPDX-License-Identifier: MIT
#pragma once
// The parent's view of a whole ringbench invocation, and the writers that turn it into report.md
// (also on stdout), results.csv, results.json, gnuplot plots and report.html.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "run_spec.hpp"

namespace ringbench {

struct RunRecord {
  std::string status;  // ok | FAILED | TIMEOUT | CRASHED | ERROR
  std::string error;
  double probe_before_ns = 0, probe_after_ns = 0;
  unsigned redos = 0;     // how many times this repeat was redone because the probe moved
  bool unstable = false;  // the probe still moved on the last try
  double seconds = 0;
  std::vector<std::pair<std::string, double>> metrics;

  [[nodiscard]] bool ok() const { return status == "ok"; }
  [[nodiscard]] const double* metric(const std::string& name) const {
    for (const auto& [k, v] : metrics) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

enum class TableKind { Throughput, Latency, Idle };  // Idle: CPU use of a waiting consumer (idle_cpu_pct)

struct Cell {
  RunSpec spec;
  std::string family;  // "floor" for the floor rows
  std::size_t table = 0;
  RunRecord calibration;
  double expected_s = 0, timeout_s = 0;
  unsigned consecutive_timeouts = 0;
  bool skipped_rest = false;
  std::vector<RunRecord> runs;

  [[nodiscard]] bool is_floor() const { return spec.contender == "floor"; }
  [[nodiscard]] bool ringkit() const { return family == "ringkit"; }
  [[nodiscard]] std::string params() const;
};

struct Table {
  std::string key;       // file-name stem: spsc_8B, mpsc_p2, ...
  std::string scenario;  // spsc | batch | latency | mpsc | mpmc | sizes
  std::string title;
  TableKind kind = TableKind::Throughput;
  std::vector<std::size_t> cells;
};

struct Report {
  std::vector<std::pair<std::string, std::string>> machine;  // label, value
  std::string command;
  std::vector<std::string> notes;  // settings worth saying (quick mode, repeats, ...)
  unsigned repeats = 0;
  double wall_seconds = 0;
  std::vector<Cell> cells;
  std::vector<Table> tables;
};

// Blocking / BusySpin per ringkit queue, from the wait_* tables (nullopt: not measured in this run).
struct WaitRatioRow {
  std::string queue;  // SpscQueue | MpscQueue | MpmcQueue
  std::optional<double> stream, slow, rtt_p50;  // Blocking median / BusySpin median
  std::optional<double> idle_blocking_pct, idle_busyspin_pct;
};
std::vector<WaitRatioRow> wait_ratios(const Report& r);
std::string render_wait_ratios(const Report& r);  // the markdown section ("" without wait tables)

// Markdown for every table (what goes to stdout and into report.md).
std::string render_markdown(const Report& r);
void write_csv(const Report& r, const std::string& path);
void write_json(const Report& r, const std::string& path);
// Writes <dir>/plots/*.dat|gp and runs gnuplot; returns the plot stems made ("" entries never), or
// an empty list with `why` set when gnuplot is missing or failed.
std::vector<std::string> write_plots(const Report& r, const std::string& dir, std::string& why);
void write_html(const Report& r, const std::string& path, const std::vector<std::string>& plots, const std::string& plot_note);

}  // namespace ringbench
