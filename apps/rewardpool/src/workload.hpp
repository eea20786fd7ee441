// SPDX-License-Identifier: MIT
#pragma once
// Drives a Service with N client threads (used by `rewardpool run` and `rewardpool bench`).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rewardpool/service.hpp"

namespace rewardpool::cli {

struct WorkloadOptions {
  unsigned clients = 1;
  std::uint64_t draws = 0;                 // total across clients; 0 = until the duration or the pool ends
  std::chrono::milliseconds duration{0};   // 0 = no limit
  int ack_fd = -1;                         // write (lsn u64, item u32) per acknowledged draw, little-endian
  bool progress = false;                   // a progress line on stderr every second
};

struct WorkloadResult {
  std::uint64_t ok = 0, empty = 0, errors = 0;
  double seconds = 0;
  std::vector<std::uint32_t> latency_ns;  // one per request, all clients (sorted)
  long allocations = 0;                   // during the timed region, all threads
  long allocated_bytes = 0;
  double cpu_seconds = 0;                 // user + system CPU of the whole process during the run
  long context_switches = 0;              // voluntary + involuntary, whole process
  [[nodiscard]] double percentile_ns(double p) const;
};

// The allocation counters, if the program has a counting allocator (bench); else 0.
using AllocProbe = void (*)(long& count, long& bytes);
void set_alloc_probe(AllocProbe probe);

WorkloadResult run_workload(Service& svc, const WorkloadOptions& o);

// "Linux <release>, <cpu model>, <n> hardware threads"
std::string machine_line();
// Allocations (count, bytes) so far, all threads, if the program has a counting allocator; else 0.
void alloc_probe(long& count, long& bytes);
// User + system CPU seconds of the whole process so far.
double process_cpu_seconds();

// The median, minimum and maximum of the repeats of one benchmark configuration (all 0 for none).
struct Stat {
  double median = 0, min = 0, max = 0;
};
Stat stat_of(std::vector<double> v);

}  // namespace rewardpool::cli
