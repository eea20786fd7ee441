// SPDX-License-Identifier: MIT
#pragma once
// The text and JSON renderings of an event, shared by the sinks and ttlog-cat.
//   text:  2026-12-02T09:43:52.123456789Z info  [1234] message key=value (file.cpp:12)
//   json:  {"ts":"2026-12-02T09:43:52.123456789Z","level":"info","tid":1234,"msg":"message",
//           "file":"file.cpp","line":12,"fields":{"key":"value","n":5}}
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "ringkit/telemetry/sink.hpp"

namespace ringkit::telemetry {

// RFC 3339 UTC with nanoseconds.
void append_timestamp(fmt::memory_buffer& b, std::uint64_t ts_ns);
void append_text(fmt::memory_buffer& b, const Event& e, bool color);  // ends with '\n'
void append_json(fmt::memory_buffer& b, const Event& e);              // ends with '\n'
void append_json_string(fmt::memory_buffer& b, std::string_view s);   // quoted and escaped

// Parses "2026-12-02T09:43:52[.123][Z]" (UTC) or a number of Unix seconds (fraction allowed) into Unix
// nanoseconds; false if it is neither.
bool parse_time(std::string_view s, std::uint64_t& ns);

}  // namespace ringkit::telemetry
