// SPDX-License-Identifier: MIT
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace ringkit::telemetry {
// ttlog-cat FILE [--json] [-f|--follow] [--level L] [--since T] [--until T]
// Prints every event (text, or JSON lines with --json) to `out`; damaged regions are reported on `err`
// with their offset and reading continues at the next good block. Exit status: 0 all good, 1 damage
// found, 2 usage or I/O error.
int ttlog_cat(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);
}  // namespace ringkit::telemetry
