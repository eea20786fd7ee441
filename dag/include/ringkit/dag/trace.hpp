// SPDX-License-Identifier: MIT
#pragma once
// Chrome / Perfetto trace output for a run recorded with RunOptions{.trace = true}: one "complete" event
// (ph "X") per callable invocation, one row (tid) per worker. Open the file in https://ui.perfetto.dev
// (Open trace file) or chrome://tracing.
#include <iosfwd>
#include <string>

#include "ringkit/dag/executor.hpp"

namespace ringkit::dag {

// Writes the trace JSON ({"traceEvents": [...]}) for `report`.
void write_chrome_trace(const RunReport& report, std::ostream& out, const std::string& process_name = "ringkit::dag");
// The same into `path`; std::runtime_error naming the path if it cannot be written.
void write_chrome_trace_file(const RunReport& report, const std::string& path,
                             const std::string& process_name = "ringkit::dag");

}  // namespace ringkit::dag
