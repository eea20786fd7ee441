// SPDX-License-Identifier: MIT
#pragma once
// `rewardpool load`: a gRPC load generator for RewardPoolService.Draw (the counterpart of the Go
// original's k6 script). N connections (each its own TCP connection and one Draw stream), M requests
// in flight per connection, each asking for K draws; a request's latency runs from its Write to the
// arrival of its K-th response.
#include <chrono>
#include <cstdint>
#include <string>

namespace rewardpool::net {

struct LoadOptions {
  std::string target;             // HOST:PORT
  unsigned connections = 1;
  unsigned in_flight = 64;        // requests in flight per connection
  std::chrono::milliseconds duration{5000};
  int count = 1;                  // DrawRequest.count
};

struct LoadResult {
  std::uint64_t requests = 0;  // completed (every response received)
  std::uint64_t draws = 0;     // responses with an item
  std::uint64_t empty = 0;     // "pool is empty"
  std::uint64_t errors = 0;    // other errors in responses
  std::string stream_error;    // a stream that ended with a non-OK status (first one), or ""
  double seconds = 0;          // from the first write to the last response
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;  // per request
  [[nodiscard]] double draws_per_s() const { return seconds > 0 ? static_cast<double>(draws) / seconds : 0; }
};

// Throws std::runtime_error if the target cannot be reached.
LoadResult run_load(const LoadOptions& o);
std::string to_json(const LoadOptions& o, const LoadResult& r);

}  // namespace rewardpool::net
