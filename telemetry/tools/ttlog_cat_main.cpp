// SPDX-License-Identifier: MIT
#include "ttlog_cat.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return ringkit::telemetry::ttlog_cat(args, stdout, stderr);
}
