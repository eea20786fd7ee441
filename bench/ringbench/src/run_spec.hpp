// SPDX-License-Identifier: MIT
#pragma once
// What one child process runs, and what it reports back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringbench {

struct RunSpec {
  std::string scenario;   // spsc | batch | latency | mpsc | mpmc | sizes | wait_stream | wait_slow | wait_rtt | wait_idle
  std::string contender;  // a registry name, or "floor"
  unsigned bytes = 8;
  unsigned producers = 1;
  unsigned consumers = 1;
  unsigned batch = 1;
  unsigned work = 0;  // consumer work per item (dependent multiply-adds): > 0 makes the consumer the slower side
  std::uint64_t items = 0;  // per producer (throughput), timed round trips (latency) or idle milliseconds (idle)
  std::size_t capacity = 4096;
  int core_a = 0;  // producers / the pinging thread
  int core_b = 1;  // consumers / the echo thread
  double tsc_per_ns = 1.0;
};

struct RunOutcome {
  std::string status = "ok";  // ok | FAILED | TIMEOUT | CRASHED | ERROR
  std::string error;
  double seconds = 0;  // the measured part of the run
  std::vector<std::pair<std::string, double>> metrics;
};

}  // namespace ringbench
