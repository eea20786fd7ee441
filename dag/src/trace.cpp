// SPDX-License-Identifier: MIT
#include "ringkit/dag/trace.hpp"

#include <fstream>
#include <ostream>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace ringkit::dag {

void write_chrome_trace(const RunReport& report, std::ostream& out, const std::string& process_name) {
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", process_name}}}});
  std::set<std::uint32_t> workers;
  for (const TraceEvent& e : report.trace) workers.insert(e.worker);
  for (std::uint32_t w : workers) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", w},
                      {"args", {{"name", "worker " + std::to_string(w)}}}});
  }
  for (const TraceEvent& e : report.trace) {
    events.push_back({{"name", e.name != nullptr ? *e.name : std::to_string(e.node)},
                      {"cat", e.item ? "item" : "task"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", e.worker},
                      {"ts", static_cast<double>(e.start_ns) / 1000.0},  // microseconds
                      {"dur", static_cast<double>(e.dur_ns) / 1000.0},
                      {"args", {{"node", e.node}}}});
  }
  nlohmann::json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
  out << doc.dump() << '\n';
}

void write_chrome_trace_file(const RunReport& report, const std::string& path, const std::string& process_name) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("write_chrome_trace_file: cannot open '" + path + "' for writing");
  write_chrome_trace(report, f, process_name);
  f.flush();
  if (!f) throw std::runtime_error("write_chrome_trace_file: writing '" + path + "' failed");
}

}  // namespace ringkit::dag
