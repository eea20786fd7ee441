// SPDX-License-Identifier: MIT
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "ringbench/csv_writer.hpp"
#include "ringbench/stats.hpp"

namespace ringbench {

std::string Cell::params() const {
  return "bytes=" + std::to_string(spec.bytes) + ";producers=" + std::to_string(spec.producers) +
         ";consumers=" + std::to_string(spec.consumers) + ";batch=" + std::to_string(spec.batch) +
         ";capacity=" + std::to_string(spec.capacity) + (spec.work ? ";work=" + std::to_string(spec.work) : "");
}

namespace {

// ---- summarizing a cell ---------------------------------------------------------------------------------
struct CellView {
  std::string status;  // ok | FAILED | TIMEOUT | CRASHED | ERROR | NO RUNS
  std::string error;
  std::size_t ok = 0, total = 0, unstable = 0, redos = 0;
  std::map<std::string, std::size_t> bad;  // non-ok status -> count
};

CellView view(const Cell& c) {
  CellView v;
  v.total = c.runs.size();
  for (const auto& r : c.runs) {
    v.redos += r.redos;
    if (r.ok()) {
      ++v.ok;
      if (r.unstable) ++v.unstable;
    } else {
      ++v.bad[r.status];
      if (v.error.empty()) v.error = r.error;
    }
  }
  if (v.bad.count("FAILED")) {
    v.status = "FAILED";
    for (const auto& r : c.runs) {
      if (r.status == "FAILED") {
        v.error = r.error;
        break;
      }
    }
  } else if (v.ok > 0) {
    v.status = "ok";
  } else if (!c.runs.empty()) {
    v.status = c.runs.front().status;
  } else {
    v.status = "NO RUNS";
  }
  return v;
}

std::optional<Summary> metric_summary(const Cell& c, const std::string& metric) {
  if (view(c).status != "ok") return std::nullopt;
  std::vector<double> values;
  for (const auto& r : c.runs) {
    if (!r.ok()) continue;
    if (const double* m = r.metric(metric)) values.push_back(*m);
  }
  if (values.empty()) return std::nullopt;
  return summarize(values);
}

const char* primary_metric(TableKind k) {
  return k == TableKind::Latency ? "rtt_p50_ns" : k == TableKind::Idle ? "idle_cpu_pct" : "items_per_s";
}
std::vector<std::string> table_metrics(TableKind k) {
  if (k == TableKind::Latency) return {"rtt_p50_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns"};
  if (k == TableKind::Idle) return {"idle_cpu_pct"};
  return {"items_per_s"};
}
const char* unit_of(const std::string& metric) {
  return metric == "items_per_s" ? "items/s" : metric == "idle_cpu_pct" ? "% of a core" : "ns";
}
bool higher_is_better(const std::string& metric) { return metric == "items_per_s"; }

// Best contender's median for a metric (floor excluded), or nullopt.
std::optional<double> best_of(const Report& r, const Table& t, const std::string& metric) {
  std::optional<double> best;
  for (std::size_t i : t.cells) {
    const Cell& c = r.cells[i];
    if (c.is_floor()) continue;
    if (auto s = metric_summary(c, metric)) {
      if (!best || (higher_is_better(metric) ? s->median > *best : s->median < *best)) best = s->median;
    }
  }
  return best;
}

std::optional<double> floor_of(const Report& r, const Table& t, const std::string& metric) {
  for (std::size_t i : t.cells) {
    if (r.cells[i].is_floor()) {
      if (auto s = metric_summary(r.cells[i], metric)) return s->median;
    }
  }
  return std::nullopt;
}

// Cells of a table in report order: floor, then ok cells best first, then the ones with no number.
std::vector<std::size_t> ordered(const Report& r, const Table& t) {
  std::vector<std::size_t> out = t.cells;
  const std::string m = primary_metric(t.kind);
  const auto key = [&](std::size_t i) {
    const Cell& c = r.cells[i];
    if (c.is_floor()) return std::make_pair(0, 0.0);
    if (auto s = metric_summary(c, m)) return std::make_pair(1, higher_is_better(m) ? -s->median : s->median);
    return std::make_pair(2, 0.0);
  };
  std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  return out;
}

// ---- number formatting -------------------------------------------------------------------------------
std::string sig3(double v) {
  char buf[64];
  if (v >= 100 || v == 0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (v >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else if (v >= 1) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

// items/s as million items/s; ns as ns.
std::string fmt_metric(const std::string& metric, double v) {
  return metric == "items_per_s" ? sig3(v / 1e6) : sig3(v);
}
std::string fmt_range(const std::string& metric, const Summary& s) {
  return fmt_metric(metric, s.min) + "–" + fmt_metric(metric, s.max);
}

std::string ratio_text(double ratio, bool as_percent) {
  if (as_percent) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ratio >= 0.1 ? "%.0f%%" : ratio >= 0.01 ? "%.1f%%" : "%.2f%%", ratio * 100);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, ratio >= 10 ? "%.0f×" : "%.2f×", ratio);
  return buf;
}

std::string runs_text(const CellView& v) {
  std::string s = std::to_string(v.ok) + "/" + std::to_string(v.total);
  std::vector<std::string> extra;
  for (const auto& [status, n] : v.bad) extra.push_back(std::to_string(n) + " " + status);
  if (v.unstable) extra.push_back(std::to_string(v.unstable) + " unstable");
  if (v.redos) extra.push_back(std::to_string(v.redos) + " redone");
  if (!extra.empty()) {
    s += " (";
    for (std::size_t i = 0; i < extra.size(); ++i) s += (i ? ", " : "") + extra[i];
    s += ")";
  }
  return s;
}

std::string floor_label(const Table& t, const Cell& c) {
  return t.kind == TableKind::Latency ? "floor: cache-line ping-pong"
                                      : "floor: memcpy (" + std::to_string(c.spec.bytes) + " B items)";
}

// The probe RTTs of every run in a table (before and after).
std::optional<Summary> probes(const Report& r, const Table& t) {
  std::vector<double> v;
  for (std::size_t i : t.cells) {
    for (const auto& run : r.cells[i].runs) {
      if (run.probe_before_ns > 0) v.push_back(run.probe_before_ns);
      if (run.probe_after_ns > 0) v.push_back(run.probe_after_ns);
    }
  }
  if (v.empty()) return std::nullopt;
  return summarize(v);
}

std::string md_escape(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else out += ch;
  }
  return out;
}

// One table's rows as cells of text (shared by markdown and HTML).
struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> ringkit;
  std::vector<std::string> names;  // raw contender label per row
};

TextTable text_table(const Report& r, const Table& t) {
  TextTable tt;
  const bool lat = t.kind == TableKind::Latency;
  if (lat) {
    tt.header = {"contender", "p50 ns", "p50 min–max", "p99 ns", "p99 min–max", "p99.9 ns", "p99.9 min–max",
                 "p50 vs floor", "p50 vs best", "runs ok"};
  } else if (t.kind == TableKind::Idle) {
    tt.header = {"contender", "% of a core", "min–max", "vs floor", "vs best", "runs ok"};
  } else {
    tt.header = {"contender", "M items/s", "min–max", "vs floor", "vs best", "runs ok"};
  }
  const std::string pm = primary_metric(t.kind);
  const auto best = best_of(r, t, pm);
  const auto fl = floor_of(r, t, pm);
  for (std::size_t i : ordered(r, t)) {
    const Cell& c = r.cells[i];
    const CellView v = view(c);
    std::vector<std::string> row;
    const std::string name = c.is_floor() ? floor_label(t, c) : c.spec.contender;
    row.push_back(name);
    const auto metrics = lat ? std::vector<std::string>{"rtt_p50_ns", "rtt_p99_ns", "rtt_p999_ns"}
                             : std::vector<std::string>{pm};
    const auto prim = metric_summary(c, pm);
    if (!prim) {
      std::string status = v.status;
      if (!v.error.empty()) status += ": " + v.error;
      row.push_back(v.status);
      for (std::size_t k = 2; k + 1 < tt.header.size(); ++k) row.push_back("—");
      row.push_back(runs_text(v) + (v.error.empty() ? "" : " — " + v.error));
    } else {
      for (const auto& m : metrics) {
        const auto s = metric_summary(c, m);
        row.push_back(s ? fmt_metric(m, s->median) : "—");
        row.push_back(s ? fmt_range(m, *s) : "—");
      }
      if (c.is_floor()) {
        row.push_back("1");
        row.push_back("—");
      } else {
        row.push_back(fl ? ratio_text(prim->median / *fl, !lat) : "—");
        row.push_back(best ? ratio_text(prim->median / *best, false) : "—");
      }
      row.push_back(runs_text(v));
    }
    tt.rows.push_back(std::move(row));
    tt.ringkit.push_back(c.ringkit());
    tt.names.push_back(name);
  }
  return tt;
}

std::string table_note(const Report& r, const Table& t) {
  std::string note;
  if (auto p = probes(r, t)) {
    note += "Core-to-core probe over these runs: median " + sig3(p->median) + " ns (" + sig3(p->min) + "–" + sig3(p->max) +
            " ns). ";
  }
  if (t.kind == TableKind::Idle) {
    return note + "Lower is better: CPU time of the whole process (getrusage) over the idle window, as a share of one core.";
  }
  note += t.kind == TableKind::Latency
              ? "Lower is better; vs floor = p50 / the raw cache-line round trip; vs best = p50 / the best contender's p50."
              : "Higher is better; vs floor = share of single-thread memcpy of the same items; vs best = median / the best "
                "contender's median.";
  return note;
}

}  // namespace

// ---- Blocking vs BusySpin ------------------------------------------------------------------------------------
namespace {

const Table* table_by_key(const Report& r, const std::string& key) {
  for (const auto& t : r.tables) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

std::optional<double> cell_median(const Report& r, const std::string& key, const std::string& contender, const std::string& metric) {
  const Table* t = table_by_key(r, key);
  if (t == nullptr) return std::nullopt;
  for (std::size_t i : t->cells) {
    if (r.cells[i].spec.contender != contender) continue;
    if (auto s = metric_summary(r.cells[i], metric)) return s->median;
  }
  return std::nullopt;
}

}  // namespace

std::vector<WaitRatioRow> wait_ratios(const Report& r) {
  std::vector<WaitRatioRow> rows;
  if (!table_by_key(r, "wait_stream") && !table_by_key(r, "wait_slow") && !table_by_key(r, "wait_rtt") &&
      !table_by_key(r, "wait_idle")) {
    return rows;
  }
  for (const char* q : {"SpscQueue", "MpscQueue", "MpmcQueue"}) {
    const std::string blocking = std::string("ringkit::") + q + "<Blocking>";
    const std::string spin = std::string("ringkit::") + q + "<BusySpin>";
    WaitRatioRow row;
    row.queue = q;
    const auto ratio = [&](const std::string& key, const std::string& metric) -> std::optional<double> {
      const auto b = cell_median(r, key, blocking, metric);
      const auto s = cell_median(r, key, spin, metric);
      if (!b || !s || *s <= 0) return std::nullopt;
      return *b / *s;
    };
    row.stream = ratio("wait_stream", "items_per_s");
    row.slow = ratio("wait_slow", "items_per_s");
    row.rtt_p50 = ratio("wait_rtt", "rtt_p50_ns");
    row.idle_blocking_pct = cell_median(r, "wait_idle", blocking, "idle_cpu_pct");
    row.idle_busyspin_pct = cell_median(r, "wait_idle", spin, "idle_cpu_pct");
    rows.push_back(row);
  }
  return rows;
}

namespace {

std::string target_cell(const std::optional<double>& v, bool met, const std::string& text) {
  if (!v) return "not measured";
  return text + (met ? " (met)" : " (NOT met)");
}

}  // namespace

std::string render_wait_ratios(const Report& r) {
  const auto rows = wait_ratios(r);
  if (rows.empty()) return "";
  std::ostringstream md;
  md << "\n## Blocking vs BusySpin: the issue-8 targets\n\n"
        "Ratios of medians from the wait_* tables above (same run). Targets: streaming and slow-consumer throughput "
        "Blocking/BusySpin >= 0.8x; Blocking idle < 1% of a core; round-trip p50 Blocking/BusySpin <= 1.5x.\n\n"
        "| queue | streaming 1P1C (>= 0.8x) | slower consumer (>= 0.8x) | idle CPU, Blocking (< 1%) | idle CPU, BusySpin | RTT p50 (<= 1.5x) |\n"
        "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& w : rows) {
    const auto pct = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, v < 0.1 ? "%.3f%%" : v < 10 ? "%.2f%%" : "%.0f%%", v);
      return std::string(buf);
    };
    md << "| " << w.queue << " | " << target_cell(w.stream, w.stream && *w.stream >= 0.8, w.stream ? ratio_text(*w.stream, false) : "")
       << " | " << target_cell(w.slow, w.slow && *w.slow >= 0.8, w.slow ? ratio_text(*w.slow, false) : "") << " | "
       << target_cell(w.idle_blocking_pct, w.idle_blocking_pct && *w.idle_blocking_pct < 1.0,
                      w.idle_blocking_pct ? pct(*w.idle_blocking_pct) : "")
       << " | " << (w.idle_busyspin_pct ? pct(*w.idle_busyspin_pct) : "not measured") << " | "
       << target_cell(w.rtt_p50, w.rtt_p50 && *w.rtt_p50 <= 1.5, w.rtt_p50 ? ratio_text(*w.rtt_p50, false) : "") << " |\n";
  }
  return md.str();
}

// ---- markdown ----------------------------------------------------------------------------------------------
std::string render_markdown(const Report& r) {
  std::ostringstream md;
  md << "# ringbench report\n\n";
  for (const auto& [k, v] : r.machine) md << "- **" << k << "**: " << md_escape(v) << "\n";
  md << "- **Command**: `" << r.command << "`\n";
  char wall[64];
  std::snprintf(wall, sizeof wall, "%.0f", r.wall_seconds);
  md << "- **Repeats**: " << r.repeats << " per cell, each in a fresh process, interleaved across contenders; "
     << "medians with min–max over the repeats that passed their check; wall time " << wall << " s\n";
  for (const auto& n : r.notes) md << "- **Note**: " << n << "\n";
  md << "\nA cell shows FAILED (and no number) if any repeat lost, duplicated, reordered or tore an item; TIMEOUT when "
        "the watchdog killed every repeat. \"unstable\": the core-to-core probe still moved after the redos. "
        "`ringkit` rows are in bold.\n";
  for (const Table& t : r.tables) {
    const TextTable tt = text_table(r, t);
    md << "\n## " << t.title << "\n\n" << table_note(r, t) << "\n\n|";
    for (const auto& h : tt.header) md << " " << h << " |";
    md << "\n|";
    for (std::size_t k = 0; k < tt.header.size(); ++k) md << (k == 0 ? "---|" : k + 1 == tt.header.size() ? "---|" : "---:|");
    md << "\n";
    for (std::size_t i = 0; i < tt.rows.size(); ++i) {
      md << "|";
      for (std::size_t k = 0; k < tt.rows[i].size(); ++k) {
        std::string cell = md_escape(tt.rows[i][k]);
        if (k == 0) cell = tt.ringkit[i] ? "**`" + cell + "`**" : (cell.rfind("floor", 0) == 0 ? "_" + cell + "_" : "`" + cell + "`");
        md << " " << cell << " |";
      }
      md << "\n";
    }
  }
  md << render_wait_ratios(r);
  return md.str();
}

// ---- CSV ----------------------------------------------------------------------------------------------------
void write_csv(const Report& r, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  CsvWriter w(f, {"scenario", "contender", "family", "params", "metric", "unit", "median", "min", "max", "runs_ok", "runs",
                  "unstable", "status", "vs_floor", "vs_best", "items_per_run"});
  for (const Table& t : r.tables) {
    for (std::size_t i : ordered(r, t)) {
      const Cell& c = r.cells[i];
      const CellView v = view(c);
      for (const auto& m : table_metrics(t.kind)) {
        const auto s = metric_summary(c, m);
        const auto fl = floor_of(r, t, m);
        const auto best = best_of(r, t, m);
        const auto num = [](double x) {
          std::ostringstream o;
          o.precision(6);
          o << x;
          return o.str();
        };
        w.row({t.scenario, c.spec.contender, c.family, c.params(), m, unit_of(m), s ? num(s->median) : "",
               s ? num(s->min) : "", s ? num(s->max) : "", std::to_string(v.ok), std::to_string(v.total),
               std::to_string(v.unstable), v.status, s && fl && !c.is_floor() ? num(s->median / *fl) : "",
               s && best && !c.is_floor() ? num(s->median / *best) : "", std::to_string(c.spec.items)});
      }
    }
  }
}

// ---- JSON (nlohmann::ordered_json: keys stay in the order written; a non-finite number is null) ----------------
namespace {
using Json = nlohmann::ordered_json;

Json run_json(const RunRecord& run) {
  Json metrics = Json::object();
  for (const auto& [name, value] : run.metrics) metrics[name] = value;
  return Json{{"status", run.status},
              {"error", run.error},
              {"seconds", run.seconds},
              {"probe_before_ns", run.probe_before_ns},
              {"probe_after_ns", run.probe_after_ns},
              {"redos", run.redos},
              {"unstable", run.unstable},
              {"metrics", std::move(metrics)}};
}
}  // namespace

void write_json(const Report& r, const std::string& path) {
  Json machine = Json::object();
  for (const auto& [label, value] : r.machine) machine[label] = value;
  Json tables = Json::array();
  for (const Table& t : r.tables) {
    Json cells = Json::array();
    for (std::size_t i : ordered(r, t)) {
      const Cell& c = r.cells[i];
      const CellView v = view(c);
      Json summary = Json::object();
      for (const auto& m : table_metrics(t.kind)) {
        if (auto s = metric_summary(c, m)) summary[m] = Json{{"median", s->median}, {"min", s->min}, {"max", s->max}, {"n", s->n}};
      }
      Json runs = Json::array();
      for (const RunRecord& run : c.runs) runs.push_back(run_json(run));
      cells.push_back(Json{{"contender", c.spec.contender},
                           {"family", c.family},
                           {"params", c.params()},
                           {"items_per_run", c.spec.items},
                           {"status", v.status},
                           {"error", v.error},
                           {"summary", std::move(summary)},
                           {"calibration", run_json(c.calibration)},
                           {"runs", std::move(runs)}});
    }
    tables.push_back(Json{{"key", t.key},
                          {"scenario", t.scenario},
                          {"title", t.title},
                          {"kind", t.kind == TableKind::Latency ? "latency" : t.kind == TableKind::Idle ? "idle" : "throughput"},
                          {"cells", std::move(cells)}});
  }
  const Json doc{{"machine", std::move(machine)},
                 {"command", r.command},
                 {"repeats", r.repeats},
                 {"wall_seconds", r.wall_seconds},
                 {"notes", r.notes},
                 {"tables", std::move(tables)}};
  std::ofstream j(path);
  if (!j) throw std::runtime_error("cannot write " + path);
  j << doc.dump(1) << "\n";
  if (!j) throw std::runtime_error("cannot write " + path);
}

// ---- plots ---------------------------------------------------------------------------------------------------
namespace {
constexpr const char* kRingkitColor = "#d62728";
constexpr const char* kPeerColor = "#1f77b4";
constexpr const char* kFloorColor = "#7f7f7f";

// A gnuplot double-quoted string (backslash escapes; a newline becomes \n).
std::string gp_quote(const std::string& s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      o += '\\';
      o += ch;
    } else if (ch == '\n') {
      o += "\\n";
    } else {
      o += ch;
    }
  }
  return o + "\"";
}

int rgb(const char* hex) { return static_cast<int>(std::strtol(hex + 1, nullptr, 16)); }

void terminals(std::ostream& gp, const std::string& stem, int width, int height, const std::function<void(std::ostream&)>& body) {
  gp << "set terminal pngcairo noenhanced size " << width << "," << height << " font 'Sans,10'\n"
     << "set output " << gp_quote(stem + ".png") << "\n";
  body(gp);
  gp << "set terminal svg noenhanced size " << width << "," << height << " font 'Sans,10' background '#ffffff'\n"
     << "set output " << gp_quote(stem + ".svg") << "\nreplot\nunset output\n";
}

// Horizontal bars: median with min–max whiskers, ringkit in red.
void bar_plot(const Report& r, const Table& t, const std::filesystem::path& dir) {
  const std::string stem = t.key;
  std::ofstream dat(dir / (stem + ".dat"));
  const std::string m = primary_metric(t.kind);
  int n = 0;
  std::string floor_text;
  for (std::size_t i : ordered(r, t)) {
    const Cell& c = r.cells[i];
    const auto s = metric_summary(c, m);
    if (c.is_floor()) {
      if (s) floor_text = floor_label(t, c) + " = " + fmt_metric(m, s->median) + (m == "items_per_s" ? " M items/s" : " ns");
      if (t.kind == TableKind::Throughput) continue;  // memcpy dwarfs every queue: named in the title instead
    }
    if (!s) continue;
    const double k = m == "items_per_s" ? 1e6 : 1;
    dat << n << "\t\"" << (c.is_floor() ? floor_label(t, c) : c.spec.contender) << "\"\t" << s->median / k << "\t"
        << s->min / k << "\t" << s->max / k << "\t" << rgb(c.ringkit() ? kRingkitColor : c.is_floor() ? kFloorColor : kPeerColor)
        << "\n";
    ++n;
  }
  if (n == 0) return;
  std::ofstream gp(dir / (stem + ".gp"));
  const int height = 120 + 26 * n;
  terminals(gp, stem, 1000, height, [&](std::ostream& g) {
    g << "set title " << gp_quote(t.title + (floor_text.empty() ? "" : "\n" + floor_text)) << "\n"
      << "set xlabel " << gp_quote(m == "items_per_s" ? "million items/s (median; whiskers: min-max)" : "round trip, ns (median p50; whiskers: min-max; log scale)") << "\n"
      << "set yrange [" << n << "-0.4:-0.6]\nset ytics nomirror\nset grid xtics\nset style fill solid 0.85 border -1\n"
      << "set key off\nset lmargin 44\n";
    if (m != "items_per_s") g << "set logscale x\n";
    const std::string x0 = m == "items_per_s" ? "0" : "1";
    if (m != "items_per_s") g << "set xrange [1:*]\n";
    g << "plot " << gp_quote(stem + ".dat") << " using (" << x0 << "):1:(" << x0 << "):3:($1-0.38):($1+0.38):6:ytic(2) with boxxyerror lc rgb variable, \\\n"
      << "     '' using 3:1:4:5 with xerrorbars lc rgb 'black' pt 7 ps 0.5\n";
  });
}

// Latency: p50 / p99 / p99.9 per contender, log scale.
void latency_plot(const Report& r, const Table& t, const std::filesystem::path& dir) {
  const std::string stem = t.key + "_percentiles";
  std::ofstream dat(dir / (stem + ".dat"));
  int n = 0;
  for (std::size_t i : ordered(r, t)) {
    const Cell& c = r.cells[i];
    const auto a = metric_summary(c, "rtt_p50_ns"), b = metric_summary(c, "rtt_p99_ns"), d = metric_summary(c, "rtt_p999_ns");
    if (!a || !b || !d) continue;
    dat << n << "\t\"" << (c.is_floor() ? floor_label(t, c) : (c.ringkit() ? "> " : "") + c.spec.contender) << "\"\t"
        << a->median << "\t" << b->median << "\t" << d->median << "\n";
    ++n;
  }
  if (n == 0) return;
  std::ofstream gp(dir / (stem + ".gp"));
  terminals(gp, stem, 1000, 140 + 34 * n, [&](std::ostream& g) {
    g << "set title " << gp_quote("Round-trip latency: p50, p99, p99.9 (medians over repeats; '>' marks ringkit)") << "\n"
      << "set xlabel 'round trip, ns (log scale)'\nset logscale x\nset xrange [10:*]\n"
      << "set yrange [" << n << "-0.4:-0.6]\nset ytics nomirror\nset grid xtics\nset style fill solid 0.85 border -1\n"
      << "set key outside top center horizontal\nset lmargin 44\n"
      << "plot " << gp_quote(stem + ".dat") << " using (10):1:(10):3:($1-0.4):($1-0.14):ytic(2) with boxxyerror lc rgb '#2ca02c' title 'p50', \\\n"
      << "     '' using (10):1:(10):4:($1-0.13):($1+0.13) with boxxyerror lc rgb '#ff7f0e' title 'p99', \\\n"
      << "     '' using (10):1:(10):5:($1+0.14):($1+0.4) with boxxyerror lc rgb '#9467bd' title 'p99.9'\n";
  });
}

// Lines across tables (x = a parameter): one series per contender present in all of them.
void line_plot(const Report& r, const std::vector<const Table*>& tables, const std::vector<double>& xs, const std::string& stem,
               const std::string& title, const std::string& xlabel, bool logx, const std::filesystem::path& dir) {
  if (tables.size() < 2) return;
  std::vector<std::string> names;
  for (std::size_t i : tables.front()->cells) {
    if (!r.cells[i].is_floor()) names.push_back(r.cells[i].spec.contender);
  }
  std::ofstream dat(dir / (stem + ".dat"));
  std::vector<std::pair<std::string, bool>> series;
  for (const auto& name : names) {
    std::ostringstream block;
    int points = 0;
    bool rk = false;
    for (std::size_t k = 0; k < tables.size(); ++k) {
      for (std::size_t i : tables[k]->cells) {
        const Cell& c = r.cells[i];
        if (c.spec.contender != name) continue;
        rk = c.ringkit();
        if (auto s = metric_summary(c, "items_per_s")) {
          block << xs[k] << "\t" << s->median / 1e6 << "\n";
          ++points;
        }
      }
    }
    if (points == 0) continue;
    dat << "# " << name << "\n" << block.str() << "\n\n";
    series.emplace_back(name, rk);
  }
  if (series.empty()) return;
  std::ofstream gp(dir / (stem + ".gp"));
  terminals(gp, stem, 1200, 650, [&](std::ostream& g) {
    g << "set title " << gp_quote(title) << "\nset xlabel " << gp_quote(xlabel)
      << "\nset ylabel 'million items/s (median)'\nset logscale y\nset grid\nset key outside right top\n";
    if (logx) g << "set logscale x 2\nset xrange [" << xs.front() * 0.8 << ":" << xs.back() * 1.25 << "]\n";
    g << "set xtics (";
    for (std::size_t k = 0; k < xs.size(); ++k) g << (k ? ", " : "") << "'" << xs[k] << "' " << xs[k];
    g << ")\nplot ";
    int peer = 0;
    for (std::size_t k = 0; k < series.size(); ++k) {
      const auto& [name, rk] = series[k];
      g << (k ? ", \\\n     " : "") << gp_quote(stem + ".dat") << " index " << k << " using 1:2 with linespoints ";
      if (rk) {
        g << "lw 3 lc rgb '" << kRingkitColor << "' pt 7";
      } else {
        g << "lw 1 dt " << (2 + peer % 4) << " lc " << (1 + peer % 8) << " pt " << (1 + peer % 6);
        ++peer;
      }
      g << " title " << gp_quote(name);
    }
    g << "\n";
  });
}

}  // namespace

std::vector<std::string> write_plots(const Report& r, const std::string& dir, std::string& why) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    why = "gnuplot not found: plots skipped (install gnuplot-nox); the tables are complete";
    return {};
  }
  namespace fs = std::filesystem;
  const fs::path src = fs::path(dir) / "plots-src";
  fs::create_directories(src);
  for (const Table& t : r.tables) {
    if (t.kind == TableKind::Idle) continue;  // a handful of percentages: the table says it all
    bar_plot(r, t, src);
    if (t.kind == TableKind::Latency) latency_plot(r, t, src);
  }
  const auto find = [&](const std::string& key) -> const Table* {
    for (const auto& t : r.tables) {
      if (t.key == key) return &t;
    }
    return nullptr;
  };
  {
    std::vector<const Table*> ts;
    std::vector<double> xs;
    for (auto [key, x] : {std::pair{"spsc_8B", 8.0}, {"sizes_64B", 64.0}, {"sizes_256B", 256.0}}) {
      if (auto* t = find(key)) {
        ts.push_back(t);
        xs.push_back(x);
      }
    }
    line_plot(r, ts, xs, "sizes_sweep", "SPSC throughput by item size", "item size, bytes", true, src);
  }
  {
    std::vector<const Table*> ts;
    std::vector<double> xs;
    for (auto [key, x] : {std::pair{"mpsc_p1", 1.0}, {"mpsc_p2", 2.0}, {"mpsc_p4", 4.0}}) {
      if (auto* t = find(key)) {
        ts.push_back(t);
        xs.push_back(x);
      }
    }
    line_plot(r, ts, xs, "mpsc_scaling", "MPSC throughput by producer count (2 cores: 2 and 4 producers are oversubscribed)",
              "producers", true, src);
  }
  std::vector<std::string> made;
  std::vector<std::string> failed;
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().extension() != ".gp") continue;
    const std::string stem = e.path().stem().string();
    const auto sh = [](const std::string& x) {  // single-quoted for /bin/sh
      std::string q = "'";
      for (char ch : x) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      return q + "'";
    };
    const std::string cmd = "cd " + sh(src.string()) + " && gnuplot " + sh(stem + ".gp") + " >" + sh(stem + ".log") +
                            " 2>&1 && mv -f " + sh(stem + ".png") + " " + sh(stem + ".svg") + " ..";
    if (std::system(cmd.c_str()) == 0) {
      made.push_back(stem);
    } else {
      failed.push_back(stem);
    }
  }
  std::sort(made.begin(), made.end());
  if (!failed.empty()) {
    why = "gnuplot failed for " + std::to_string(failed.size()) + " plot(s), see " + (src / (failed.front() + ".log")).string();
  }
  return made;
}

// ---- HTML ------------------------------------------------------------------------------------------------------
namespace {
std::string h(const std::string& s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += ch;
    }
  }
  return o;
}
}  // namespace

void write_html(const Report& r, const std::string& path, const std::vector<std::string>& plots, const std::string& plot_note) {
  std::ofstream o(path);
  if (!o) throw std::runtime_error("cannot write " + path);
  o << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>ringbench report</title>\n<style>\n"
       "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
       "table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 7px}\n"
       "td.n{text-align:right;font-variant-numeric:tabular-nums}tr.rk td{background:#fde8e8;font-weight:bold}\n"
       "tr.fl td{color:#666;font-style:italic}img{max-width:100%;border:1px solid #eee}code{font-size:95%}\n"
       "</style></head><body>\n<h1>ringbench report</h1>\n<ul>\n";
  for (const auto& [k, v] : r.machine) o << "<li><b>" << h(k) << "</b>: " << h(v) << "</li>\n";
  o << "<li><b>Command</b>: <code>" << h(r.command) << "</code></li>\n<li><b>Repeats</b>: " << r.repeats
    << " per cell, fresh process each, interleaved across contenders</li>\n";
  for (const auto& n : r.notes) o << "<li><b>Note</b>: " << h(n) << "</li>\n";
  if (!plot_note.empty()) o << "<li><b>Plots</b>: " << h(plot_note) << "</li>\n";
  o << "</ul>\n<p>FAILED: a repeat lost, duplicated, reordered or tore an item (no number is shown). TIMEOUT: the watchdog "
       "killed the run. Ringkit rows are highlighted.</p>\n";
  const auto has = [&](const std::string& stem) { return std::find(plots.begin(), plots.end(), stem) != plots.end(); };
  const auto img = [&](const std::string& stem) {
    if (has(stem)) o << "<p><a href=\"" << h(stem) << ".png\"><img src=\"" << h(stem) << ".svg\" alt=\"" << h(stem) << "\"></a></p>\n";
  };
  for (const Table& t : r.tables) {
    const TextTable tt = text_table(r, t);
    o << "<h2>" << h(t.title) << "</h2>\n<p>" << h(table_note(r, t)) << "</p>\n<table><tr>";
    for (const auto& x : tt.header) o << "<th>" << h(x) << "</th>";
    o << "</tr>\n";
    for (std::size_t i = 0; i < tt.rows.size(); ++i) {
      const bool fl = tt.names[i].rfind("floor", 0) == 0;
      o << "<tr" << (tt.ringkit[i] ? " class=\"rk\"" : fl ? " class=\"fl\"" : "") << ">";
      for (std::size_t k = 0; k < tt.rows[i].size(); ++k) {
        o << "<td" << (k > 0 && k + 1 < tt.rows[i].size() ? " class=\"n\"" : "") << ">"
          << (k == 0 && !fl ? "<code>" + h(tt.rows[i][k]) + "</code>" : h(tt.rows[i][k])) << "</td>";
      }
      o << "</tr>\n";
    }
    o << "</table>\n";
    img(t.key);
    if (t.kind == TableKind::Latency) img(t.key + "_percentiles");
    if (t.key == "sizes_256B") img("sizes_sweep");
    if (t.key == "mpsc_p4") img("mpsc_scaling");
  }
  if (const std::string w = render_wait_ratios(r); !w.empty()) o << "<h2>Blocking vs BusySpin</h2>\n<pre>" << h(w) << "</pre>\n";
  o << "</body></html>\n";
}

}  // namespace ringbench
