// SPDX-License-Identifier: MIT
#pragma once
// What every `rewardpool` command line shares after its CLI11 options are declared (main.cpp: run,
// inspect, bench; service/commands.cpp: serve, load, top, replica): parse, run the chosen command, and
// turn what went wrong into the exit code scripts rely on:
//   0  --help (CLI11 prints it on stdout) or the command's own 0;
//   2  a usage error: CLI11's (its message on stderr) or a UsageError (cli.hpp) the command threw;
//   1  any other exception, printed as "rewardpool: <what>".
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace rewardpool::cli {

template <class Command>
int parse_and_run(CLI::App& app, int argc, char** argv, Command&& command) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // --help: prints it on stdout, 0; a usage error: the message on stderr
    return rc == 0 ? 0 : 2;
  }
  try {
    return command();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "rewardpool: %s\nRun with --help for more information.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rewardpool: %s\n", e.what());
    return 1;
  }
}

}  // namespace rewardpool::cli
