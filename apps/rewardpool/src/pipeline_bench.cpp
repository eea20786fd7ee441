// SPDX-License-Identifier: MIT
// `rewardpool bench --workload pipeline`: the Go original's benchmark, like for like. One thread submits
// N draws without waiting (up to --in-flight W in flight; default all), then collects the completions;
// the pool's own threads (actor, I/O thread) do the rest. A catalog of one item with quantity N, so every
// draw succeeds. Over WAL none/mmap/file x ack applied/written/durable x mailbox channel/ring x log buffer
// vector/ring (WAL none: ack applied only, no log buffer), each configuration --repeats times, the
// configurations interleaved within each repeat so drift in machine load spreads over all of them.
//
// Latency: every 64th draw carries its submit time (ns since the start) in its tag; a completion's
// delivery time is read once per poll()/wait() batch. p50/p99 are over those samples.
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "rewardpool/service.hpp"
#include "workload.hpp"

namespace rewardpool::cli {

namespace {

namespace fs = std::filesystem;

struct Config {
  wal::Backend wal;
  Ack ack;
  MailboxKind mailbox;
  BufferKind buffer;
  [[nodiscard]] std::string log_buffer() const {
    return wal == wal::Backend::Null ? "none" : std::string(to_string(buffer));
  }
};

struct Sample {
  double draws_per_s = 0, p50_us = 0, p99_us = 0, allocs_per_draw = 0, cpu_us_per_draw = 0, syncs = 0, io_batches = 0;
};

double percentile(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

Sample run_one(const Config& c, std::uint64_t draws, std::uint64_t in_flight, const std::string& scratch) {
  const Catalog catalog{{{"gold", static_cast<std::int64_t>(draws), 1.0}}};
  ServiceOptions o;
  o.wal.backend = c.wal;
  o.default_ack = c.ack;
  o.snapshot_every = 0;
  o.seed = 7;
  o.window = in_flight;
  ServiceState state;
  std::string dir;
  if (c.wal != wal::Backend::Null) {
    std::string tmpl = scratch + "/rewardpool-pipeline-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp in " + scratch + " failed");
    dir = tmpl;
    std::vector<std::string> warnings;
    state = open_data_dir(dir, &catalog, false, warnings);
    o.wal.dir = dir;
  } else {
    state.catalog = catalog;
  }
  Sample s;
  {
    auto svc = make_service(c.mailbox, c.buffer, state, o);
    auto client = svc->client(in_flight);
    std::vector<std::uint64_t> latency;
    latency.reserve(draws / 64 + 2);
    std::array<Completion, 4096> buf;
    std::uint64_t submitted = 0, done = 0, failed = 0;
    long a0 = 0, b0 = 0, a1 = 0, b1 = 0;
    alloc_probe(a0, b0);
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    auto since_start = [&] {
      return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    };
    auto account = [&](std::size_t n) {
      if (n == 0) return;
      std::uint64_t now = 0;
      for (std::size_t i = 0; i < n; ++i) {
        failed += buf[i].status != Status::Ok;
        if (buf[i].tag != 0) {
          if (now == 0) now = since_start();
          if (latency.size() < latency.capacity()) latency.push_back(now - (buf[i].tag - 1));
        }
      }
      done += n;
    };
    while (submitted < draws) {
      const std::uint64_t tag = submitted % 64 == 0 ? since_start() + 1 : 0;
      const Submit r = client.submit_draw(tag);
      if (r == Submit::Accepted) {
        ++submitted;
        continue;
      }
      if (r != Submit::WindowFull && r != Submit::Busy) throw std::runtime_error("submit refused: " + std::string(to_string(r)));
      std::size_t n = client.poll(buf);
      if (n == 0) n = client.wait(buf);
      account(n);
    }
    while (done < draws) {
      const std::size_t n = client.wait(buf);
      if (n == 0) break;
      account(n);
    }
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu1 = process_cpu_seconds();
    alloc_probe(a1, b1);
    if (done != draws || failed != 0) {
      throw std::runtime_error("pipeline run: " + std::to_string(done) + " of " + std::to_string(draws) + " completed, " +
                               std::to_string(failed) + " not ok");
    }
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    s.draws_per_s = static_cast<double>(draws) / secs;
    s.p50_us = percentile(latency, 50) / 1000;
    s.p99_us = percentile(latency, 99) / 1000;
    s.allocs_per_draw = static_cast<double>(a1 - a0) / static_cast<double>(draws);
    s.cpu_us_per_draw = (cpu1 - cpu0) * 1e6 / static_cast<double>(draws);
    svc->stop();
    const ServiceStats st = svc->stats();
    if (!st.wal_error.empty()) throw std::runtime_error("pipeline run: WAL failed: " + st.wal_error);
    s.syncs = static_cast<double>(st.wal.syncs);
    s.io_batches = static_cast<double>(st.io_batches);
  }
  if (!dir.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return s;
}

}  // namespace

int cmd_bench_pipeline(const BenchArgs& a) {
  const int repeats = static_cast<int>(a.repeats.value_or(5));
  const std::uint64_t draws = a.draws.value_or(1'000'000);
  const std::uint64_t in_flight = std::min<std::uint64_t>(a.in_flight.value_or(draws), std::uint64_t{1} << 23);
  std::vector<Config> configs;
  for (auto w : {wal::Backend::Null, wal::Backend::Mmap, wal::Backend::File}) {
    if (a.only_wal && *wal::parse_backend(*a.only_wal) != w) continue;
    for (auto ack : {Ack::Applied, Ack::Written, Ack::Durable}) {
      if (w == wal::Backend::Null && ack != Ack::Applied) continue;  // nothing to write or sync
      for (auto m : {MailboxKind::Channel, MailboxKind::Ring}) {
        for (auto b : {BufferKind::Vector, BufferKind::Ring}) {
          if (w == wal::Backend::Null && b == BufferKind::Ring) continue;  // no log buffer without a log
          configs.push_back({w, ack, m, b});
        }
      }
    }
  }
  std::printf("# rewardpool bench --workload pipeline: %d repeats, %llu draws per run, %llu in flight at most\n# machine: %s\n\n",
              repeats, static_cast<unsigned long long>(draws), static_cast<unsigned long long>(in_flight), machine_line().c_str());
  std::printf("| wal | ack | mailbox | log buffer | draws/s median (min-max) | p50 us | p99 us | cpu us/draw | allocs/draw | syncs | io batches |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  std::vector<std::vector<Sample>> samples(configs.size());
  for (int rep = 0; rep < repeats; ++rep) {
    for (std::size_t k = 0; k < configs.size(); ++k) samples[k].push_back(run_one(configs[k], draws, in_flight, a.data_dir));
  }
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const Config& c = configs[k];
    auto pick = [&](double Sample::*f) {
      std::vector<double> v;
      for (const Sample& s : samples[k]) v.push_back(s.*f);
      return stat_of(v);
    };
    const Stat dps = pick(&Sample::draws_per_s);
    std::printf("| %s | %s | %s | %s | %.0f (%.0f-%.0f) | %.1f | %.1f | %.3f | %.4f | %.0f | %.0f |\n",
                std::string(wal::to_string(c.wal)).c_str(), std::string(to_string(c.ack)).c_str(),
                std::string(to_string(c.mailbox)).c_str(), c.log_buffer().c_str(), dps.median, dps.min, dps.max,
                pick(&Sample::p50_us).median, pick(&Sample::p99_us).median, pick(&Sample::cpu_us_per_draw).median,
                pick(&Sample::allocs_per_draw).median, pick(&Sample::syncs).median, pick(&Sample::io_batches).median);
    out.push_back({{"wal", wal::to_string(c.wal)}, {"ack", to_string(c.ack)}, {"mailbox", to_string(c.mailbox)},
                   {"log_buffer", c.log_buffer()}, {"draws", draws}, {"in_flight", in_flight}, {"repeats", repeats},
                   {"draws_per_s", dps.median}, {"min", dps.min}, {"max", dps.max},
                   {"p50_us", pick(&Sample::p50_us).median}, {"p99_us", pick(&Sample::p99_us).median},
                   {"cpu_us_per_draw", pick(&Sample::cpu_us_per_draw).median},
                   {"allocs_per_draw", pick(&Sample::allocs_per_draw).median}, {"syncs", pick(&Sample::syncs).median},
                   {"io_batches", pick(&Sample::io_batches).median}});
  }
  if (a.json) {
    std::ofstream f(*a.json);
    f << out.dump(2) << "\n";
    if (!f) throw std::runtime_error("cannot write " + *a.json);
  }
  return 0;
}

}  // namespace rewardpool::cli
