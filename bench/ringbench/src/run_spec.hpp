#pragma once
// What one child process runs, and what it reports back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringbench {

struct RunSpec {
  std::string scenario;   // spsc | batch | latency | mpsc | mpmc | sizes
  std::string contender;  // a registry name, or "floor"
  unsigned bytes = 8;
  unsigned producers = 1;
  unsigned consumers = 1;
  unsigned batch = 1;
  std::uint64_t items = 0;  // per producer (throughput) or timed round trips (latency)
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
