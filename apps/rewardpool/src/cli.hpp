// SPDX-License-Identifier: MIT
#pragma once
// `rewardpool` command line (parsed with CLI11): run, inspect, bench.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace rewardpool::cli {

// A bad combination of flags that CLI11 cannot see: main prints it with the help, exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunArgs {
  std::optional<std::string> catalog, data_dir;
  unsigned clients = 4;
  std::optional<std::uint64_t> draws;
  std::optional<std::uint64_t> duration_s;
  std::string mailbox = "channel", log_buffer = "vector", wal = "file", sync = "none";
  std::optional<std::string> ack;  // default: durable, or applied with --wal none
  std::string selector = "fenwick";
  std::uint64_t segment_bytes = 64ull << 20;
  std::uint64_t snapshot_every = 1'000'000;
  std::optional<std::uint64_t> seed;
  std::optional<int> ack_fd;
  bool repair = false, quiet = false;
};

struct InspectArgs {
  std::string data_dir;
  bool json = false;
};

struct BenchArgs {
  std::string workload = "clients";
  bool quick = false;
  std::optional<unsigned> repeats;
  std::optional<std::uint64_t> draws;
  std::optional<std::uint64_t> in_flight;
  std::string data_dir = "/tmp";
  std::optional<std::string> json;
  std::optional<std::string> only_wal;  // pipeline: restrict to one backend (none|file|mmap)
};

int cmd_run(const RunArgs& a);
int cmd_inspect(const InspectArgs& a);
int cmd_bench_clients(const BenchArgs& a);
int cmd_bench_pipeline(const BenchArgs& a);

}  // namespace rewardpool::cli
