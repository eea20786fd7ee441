// SPDX-License-Identifier: MIT
#include "service/load.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "rewardpool.grpc.pb.h"
#include "service/server.hpp"

namespace rewardpool::net {

namespace {

namespace pb = ::rewardpool;
using Clock = std::chrono::steady_clock;

struct Connection {
  std::vector<std::uint32_t> latencies_ns;  // per completed request (saturates at ~4.3 s)
  std::uint64_t requests = 0, draws = 0, empty = 0, errors = 0;
  grpc::Status status;
  Clock::time_point last{};
};

void run_connection(const LoadOptions& o, Clock::time_point start, Connection& out) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a TCP connection of its own
  auto channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
  auto stub = pb::RewardPoolService::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Draw(&ctx);
  const std::uint32_t per_request = o.count <= 0 ? 1u : static_cast<std::uint32_t>(o.count);

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Clock::time_point> sent;  // guarded by mu: write times of requests in flight, in order
  bool reader_done = false;            // guarded by mu
  out.latencies_ns.reserve(1 << 20);

  std::thread reader([&] {
    pb::DrawResponse r;
    std::uint32_t left = per_request;  // responses still due for the oldest request
    while (stream->Read(&r)) {
      if (r.error().empty()) ++out.draws;
      else if (r.error() == kErrPoolEmpty) ++out.empty;
      else ++out.errors;
      if (--left > 0) continue;
      left = per_request;
      const Clock::time_point now = Clock::now();
      Clock::time_point t0;
      {
        std::lock_guard l(mu);
        if (sent.empty()) {  // a response for no request: the server misbehaved
          ++out.errors;
          continue;
        }
        t0 = sent.front();
        sent.pop_front();
      }
      cv.notify_one();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count();
      out.latencies_ns.push_back(static_cast<std::uint32_t>(std::min<long long>(ns, UINT32_MAX)));
      ++out.requests;
      out.last = now;
    }
    std::lock_guard l(mu);
    reader_done = true;
    cv.notify_one();
  });

  pb::DrawRequest req;
  req.set_count(o.count);
  const Clock::time_point end = start + o.duration;
  for (;;) {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return sent.size() < o.in_flight || reader_done; });
    if (reader_done) break;
    const Clock::time_point now = Clock::now();
    if (now >= end) break;
    sent.push_back(now);
    l.unlock();
    if (!stream->Write(req)) break;
  }
  stream->WritesDone();
  reader.join();
  out.status = stream->Finish();
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

}  // namespace

LoadResult run_load(const LoadOptions& o) {
  if (o.connections == 0 || o.in_flight == 0) throw std::invalid_argument("connections and in-flight must be > 0");
  {  // fail fast, with a clear message, if nothing listens there
    auto ch = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
      throw std::runtime_error("cannot connect to " + o.target + " within 5 s");
    }
  }
  std::vector<Connection> conns(o.connections);
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (auto& c : conns) threads.emplace_back([&, cp = &c] { run_connection(o, start, *cp); });
  for (auto& t : threads) t.join();

  LoadResult r;
  std::vector<std::uint32_t> all;
  Clock::time_point last = start;
  for (auto& c : conns) {
    r.requests += c.requests;
    r.draws += c.draws;
    r.empty += c.empty;
    r.errors += c.errors;
    if (!c.status.ok() && r.stream_error.empty()) r.stream_error = c.status.error_message();
    last = std::max(last, c.last);
    all.insert(all.end(), c.latencies_ns.begin(), c.latencies_ns.end());
  }
  std::sort(all.begin(), all.end());
  r.seconds = std::chrono::duration<double>(last - start).count();
  r.p50_us = percentile(all, 50);
  r.p99_us = percentile(all, 99);
  r.p999_us = percentile(all, 99.9);
  r.max_us = all.empty() ? 0 : all.back() / 1000.0;
  return r;
}

std::string to_json(const LoadOptions& o, const LoadResult& r) {
  nlohmann::json j{{"target", o.target},
                   {"connections", o.connections},
                   {"in_flight", o.in_flight},
                   {"count", o.count},
                   {"duration_s", std::chrono::duration<double>(o.duration).count()},
                   {"seconds", r.seconds},
                   {"requests", r.requests},
                   {"draws", r.draws},
                   {"empty", r.empty},
                   {"errors", r.errors},
                   {"draws_per_s", r.draws_per_s()},
                   {"latency_us", {{"p50", r.p50_us}, {"p99", r.p99_us}, {"p99.9", r.p999_us}, {"max", r.max_us}}},
                   {"stream_error", r.stream_error}};
  return j.dump(2);
}

}  // namespace rewardpool::net
