// SPDX-License-Identifier: MIT
#pragma once
// `rewardpool top --target HOST:PORT`: a live terminal view (ncurses) of a serving pool, refreshed every
// second: remaining quantity per item as bars, draws/s, draws in flight, streams, the log's LSNs and the
// replication lag. Split so the data part is testable without a terminal: fetch() asks the server
// (GetState + RewardPoolAdmin.Stats), view() turns two samples into figures, render() into text lines;
// run_top() only puts those lines on the screen.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rewardpool::net {

struct TopItem {
  std::string id;
  std::int64_t remaining = 0;  // -1 = unlimited
  std::int64_t initial = 0;    // at server start; -1 = unlimited
  std::int64_t probability = 0;
};

struct TopSample {
  std::chrono::steady_clock::time_point at{};
  std::vector<TopItem> items;
  std::uint64_t draws_ok = 0, draws_empty = 0, draws_failed = 0, rejected = 0;
  std::uint64_t in_flight = 0, streams = 0, queued = 0;
  std::uint64_t applied_lsn = 0, written_lsn = 0, durable_lsn = 0;
  bool replicating = false;
  std::uint64_t replicated_lsn = 0;
  std::string ack;
  bool draining = false;
  std::uint64_t uptime_ms = 0;
};

struct TopView {
  double draws_per_s = 0;  // since the previous sample (0 for the first)
  std::uint64_t in_flight = 0, streams = 0;
  std::optional<std::uint64_t> replication_lag;  // records applied but not replicated; none if not replicating
  std::uint64_t unsynced = 0;                     // records applied but not durable
};

class TopClient {
 public:
  explicit TopClient(const std::string& target);
  ~TopClient();
  // One sample; throws std::runtime_error naming the RPC that failed.
  TopSample fetch();

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
};

TopView view(const TopSample* previous, const TopSample& current);
// The screen as text: a header, then one bar per item (`width` columns in all).
std::vector<std::string> render(const TopSample& s, const TopView& v, const std::string& target, int width);
// The curses loop: refreshes every `period` until 'q' or SIGINT; returns the exit code.
int run_top(const std::string& target, std::chrono::milliseconds period);

}  // namespace rewardpool::net
