// SPDX-License-Identifier: MIT
// `rewardpool bench --workload clients`: N client threads making blocking draws, over the four mailbox x
// log-buffer combinations (docs/ring-buffer-evaluation.md, the client workload).
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "rewardpool/service.hpp"
#include "workload.hpp"

namespace rewardpool::cli {

namespace {

namespace fs = std::filesystem;

struct Config {
  MailboxKind mailbox;
  BufferKind buffer;
  wal::Backend backend;
  Ack ack;
  unsigned clients;
};

struct Sample {
  double draws_per_s = 0, ns_per_draw = 0, p50_us = 0, p99_us = 0, allocs_per_draw = 0, bytes_per_draw = 0,
         wal_bytes_per_draw = 0, wal_file_bytes = 0, fsyncs_per_s = 0, draws_per_fsync = 0, cpu_us_per_draw = 0, switches_per_draw = 0;
};

Catalog bench_catalog() {
  Catalog c;
  for (int i = 0; i < 100; ++i) c.items.push_back({"item" + std::to_string(i), 1'000'000'000'000, 1.0 + i % 17});
  return c;
}

std::uint64_t dir_bytes(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

Sample run_one(const Config& c, std::uint64_t draws, const std::string& scratch) {
  ServiceOptions o;
  o.wal.backend = c.backend;
  o.default_ack = c.ack;
  o.snapshot_every = 0;
  o.max_clients = std::max(256u, c.clients + 2);
  o.seed = 7;
  ServiceState state;
  std::string dir;
  if (c.backend != wal::Backend::Null) {
    std::string tmpl = scratch + "/rewardpool-bench-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp in " + scratch + " failed");
    dir = tmpl;
    std::vector<std::string> warnings;
    const Catalog cat = bench_catalog();
    state = open_data_dir(dir, &cat, false, warnings);
    o.wal.dir = dir;
  } else {
    state.catalog = bench_catalog();
  }
  auto svc = make_service(c.mailbox, c.buffer, state, o);
  WorkloadOptions w;
  w.clients = c.clients;
  w.draws = draws;
  const WorkloadResult r = run_workload(*svc, w);
  svc->stop();
  const ServiceStats st = svc->stats();
  if (!st.wal_error.empty() || r.errors) throw std::runtime_error("bench run failed: " + st.wal_error);
  Sample s;
  const double ok = static_cast<double>(r.ok);
  s.draws_per_s = ok / r.seconds;
  s.ns_per_draw = r.seconds * 1e9 / ok;
  s.p50_us = r.percentile_ns(50) / 1000;
  s.p99_us = r.percentile_ns(99) / 1000;
  s.allocs_per_draw = static_cast<double>(r.allocations) / ok;
  s.bytes_per_draw = static_cast<double>(r.allocated_bytes) / ok;
  s.wal_bytes_per_draw = static_cast<double>(st.wal.bytes) / ok;
  s.cpu_us_per_draw = r.cpu_seconds * 1e6 / ok;
  s.switches_per_draw = static_cast<double>(r.context_switches) / ok;
  const double syncs = static_cast<double>(st.wal.syncs);
  (void)st.io_batches;
  s.fsyncs_per_s = syncs / r.seconds;
  s.draws_per_fsync = syncs > 0 ? ok / syncs : 0;
  if (!dir.empty()) {
    s.wal_file_bytes = static_cast<double>(dir_bytes(dir));
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return s;
}

}  // namespace

std::string machine_line() {
  utsname u{};
  ::uname(&u);
  std::string cpu = "?";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return std::string(u.sysname) + " " + u.release + ", " + cpu + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " hardware threads";
}

int cmd_bench_clients(const BenchArgs& a) {
  const bool quick = a.quick;
  const auto repeats = static_cast<int>(a.repeats.value_or(quick ? 3 : 5));
  const std::uint64_t draws = a.draws.value_or(quick ? 8'000 : 40'000);
  const std::string scratch = a.data_dir;
  const std::pair<MailboxKind, BufferKind> combos[] = {{MailboxKind::Channel, BufferKind::Vector},
                                                       {MailboxKind::Ring, BufferKind::Vector},
                                                       {MailboxKind::Channel, BufferKind::Ring},
                                                       {MailboxKind::Ring, BufferKind::Ring}};
  struct Group {
    wal::Backend backend;
    Ack ack;
    unsigned clients;
  };
  std::vector<Group> groups;
  for (auto b : {wal::Backend::Null, wal::Backend::File, wal::Backend::Mmap})
    for (unsigned c : {1u, 2u, 4u}) groups.push_back({b, b == wal::Backend::Null ? Ack::Applied : Ack::Written, c});
  groups.push_back({wal::Backend::File, Ack::Durable, 64});

  std::printf("# rewardpool bench --workload clients%s: %d repeats, %llu draws per run\n# machine: %s\n# mailbox ring = %s\n\n",
              quick ? " --quick" : "", repeats, static_cast<unsigned long long>(draws), machine_line().c_str(),
              RingMailbox<>::kImplementation);
  std::printf("| wal | ack | clients | mailbox+buffer | draws/s median (min-max) | x baseline | ns/draw | p50 us | p99 us "
              "| cpu us/draw | ctx sw/draw | allocs/draw | bytes/draw | wal B/draw | wal file B | fsyncs/s | draws/fsync |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  nlohmann::json out = nlohmann::json::array();
  for (const Group& g : groups) {
    double baseline = 0;
    // Interleave the combinations across repeats so drift in machine load spreads over all four.
    std::vector<std::vector<Sample>> samples(4);
    for (int rep = 0; rep < repeats; ++rep) {
      for (std::size_t k = 0; k < 4; ++k) {
        samples[k].push_back(run_one(Config{combos[k].first, combos[k].second, g.backend, g.ack, g.clients}, draws, scratch));
      }
    }
    for (std::size_t k = 0; k < 4; ++k) {
      auto pick = [&](double Sample::*f) {
        std::vector<double> v;
        for (const Sample& s : samples[k]) v.push_back(s.*f);
        return stat_of(v);
      };
      const Stat dps = pick(&Sample::draws_per_s);
      if (k == 0) baseline = dps.median;
      const std::string name = std::string(to_string(combos[k].first)) + "+" + std::string(to_string(combos[k].second));
      std::printf("| %s | %s | %u | %s | %.0f (%.0f-%.0f) | %.2f | %.0f | %.1f | %.1f | %.1f | %.2f | %.3f | %.1f | %.1f | %.0f | %.0f | %.1f |\n",
                  std::string(wal::to_string(g.backend)).c_str(), std::string(to_string(g.ack)).c_str(), g.clients, name.c_str(),
                  dps.median, dps.min, dps.max, dps.median / baseline, pick(&Sample::ns_per_draw).median,
                  pick(&Sample::p50_us).median, pick(&Sample::p99_us).median, pick(&Sample::cpu_us_per_draw).median,
                  pick(&Sample::switches_per_draw).median, pick(&Sample::allocs_per_draw).median,
                  pick(&Sample::bytes_per_draw).median, pick(&Sample::wal_bytes_per_draw).median,
                  pick(&Sample::wal_file_bytes).median, pick(&Sample::fsyncs_per_s).median,
                  pick(&Sample::draws_per_fsync).median);
      std::fflush(stdout);
      out.push_back({{"wal", wal::to_string(g.backend)}, {"ack", to_string(g.ack)}, {"clients", g.clients},
                     {"combo", name}, {"draws_per_s", {{"median", dps.median}, {"min", dps.min}, {"max", dps.max}}},
                     {"ratio_to_baseline", dps.median / baseline}, {"ns_per_draw", pick(&Sample::ns_per_draw).median},
                     {"p50_us", pick(&Sample::p50_us).median}, {"p99_us", pick(&Sample::p99_us).median},
                     {"cpu_us_per_draw", pick(&Sample::cpu_us_per_draw).median},
                     {"context_switches_per_draw", pick(&Sample::switches_per_draw).median},
                     {"allocs_per_draw", pick(&Sample::allocs_per_draw).median},
                     {"bytes_per_draw", pick(&Sample::bytes_per_draw).median},
                     {"wal_bytes_per_draw", pick(&Sample::wal_bytes_per_draw).median},
                     {"wal_file_bytes", pick(&Sample::wal_file_bytes).median},
                     {"fsyncs_per_s", pick(&Sample::fsyncs_per_s).median},
                     {"draws_per_fsync", pick(&Sample::draws_per_fsync).median}});
    }
  }
  if (const auto& path = a.json) {
    std::ofstream f(*path);
    f << nlohmann::json{{"machine", machine_line()}, {"workload", "clients"}, {"repeats", repeats}, {"draws", draws}, {"results", out}}.dump(2) << "\n";
    if (!f) throw std::runtime_error("cannot write " + *path);
  }
  return 0;
}

}  // namespace rewardpool::cli
