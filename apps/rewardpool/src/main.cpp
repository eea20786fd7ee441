// SPDX-License-Identifier: MIT
// rewardpool: a weighted-draw reward service on ringkit (actor + write-ahead log).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_main.hpp"
#include <ringkit/alloc_counter.hpp>  // linked ringkit::alloc_counter counts allocations/draw in run and bench
#include "rewardpool/service.hpp"
#include "workload.hpp"
#ifdef REWARDPOOL_WITH_SERVICE
#include "service/commands.hpp"  // serve, load, top, replica (the gRPC service; not built under TSan)
#endif

namespace rewardpool::cli {

namespace {

double pct(const WorkloadResult& r, double p) { return r.percentile_ns(p) / 1000.0; }

}  // namespace

int cmd_run(const RunArgs& a) {
  const auto backend = wal::parse_backend(a.wal);
  const auto sync = wal::parse_sync_policy(a.sync);
  const auto ack = parse_ack(a.ack.value_or(a.wal == "none" ? "applied" : "durable"));
  if (!sync) throw UsageError("--sync must be always, interval:MS (MS > 0) or none, got " + a.sync);
  if (a.draws && a.duration_s) throw UsageError("give --draws or --duration, not both");
  if (*backend != wal::Backend::Null && !a.data_dir) throw UsageError("run needs --data-dir (or --wal none)");
  if (*backend == wal::Backend::Null && a.data_dir) {
    throw UsageError("--wal none keeps nothing, so --data-dir " + *a.data_dir + " would be ignored: drop one of them");
  }
  if (*backend == wal::Backend::Null && *ack != Ack::Applied) {
    throw UsageError("--wal none has nothing to write or sync: only --ack applied makes sense");
  }
  if (!a.data_dir && !a.catalog) throw UsageError("run needs --catalog");

  ServiceOptions o;
  o.wal.backend = *backend;
  o.wal.sync = *sync;
  o.wal.dir = a.data_dir.value_or("");
  o.wal.segment_bytes = a.segment_bytes;
  o.default_ack = *ack;
  o.selector = *parse_selector_kind(a.selector);
  o.seed = a.seed.value_or(static_cast<std::uint64_t>(::getpid()));
  o.snapshot_every = a.snapshot_every;
  WorkloadOptions w;
  w.clients = a.clients;
  o.max_clients = std::max<std::size_t>(256, w.clients + 2);
  w.draws = a.draws.value_or(a.duration_s ? 0 : 100'000);
  w.duration = std::chrono::milliseconds(a.duration_s.value_or(0) * 1000);
  w.ack_fd = a.ack_fd.value_or(-1);
  w.progress = !a.quiet;

  std::optional<Catalog> catalog;
  if (a.catalog) catalog = load_catalog(*a.catalog);
  ServiceState state;
  std::vector<std::string> warnings;
  if (*backend == wal::Backend::Null) {
    state.catalog = *catalog;
  } else {
    if (catalog && wal::has_data(*a.data_dir) && !a.quiet) {
      std::fprintf(stderr, "note: %s already holds a log; recovering it (the catalog file is not used)\n", a.data_dir->c_str());
    }
    state = open_data_dir(*a.data_dir, catalog ? &*catalog : nullptr, a.repair, warnings);
  }
  for (const auto& warn : warnings) std::fprintf(stderr, "warning: %s\n", warn.c_str());
  auto svc = make_service(a.mailbox == "ring" ? MailboxKind::Ring : MailboxKind::Channel,
                          a.log_buffer == "ring" ? BufferKind::Ring : BufferKind::Vector, state, o);
  if (!a.quiet) {
    if (*backend == wal::Backend::Null) {
      std::fprintf(stderr, "rewardpool run: %s, wal none (nothing is kept), ack applied, %u clients\n",
                   std::string(svc->describe()).c_str(), w.clients);
    } else {
      std::fprintf(stderr,
                   "rewardpool run: %s, wal %s in %s, ack %s, background sync %s, %u clients, recovered lsn %llu "
                   "(%llu draws so far)\n",
                   std::string(svc->describe()).c_str(), std::string(wal::to_string(*backend)).c_str(),
                   a.data_dir->c_str(), std::string(to_string(*ack)).c_str(), wal::to_string(*sync).c_str(), w.clients,
                   static_cast<unsigned long long>(state.lsn), static_cast<unsigned long long>(state.draws));
    }
  }
  const WorkloadResult r = run_workload(*svc, w);
  svc->stop();
  const ServiceStats st = svc->stats();
  std::printf("draws ok %llu, empty %llu, errors %llu in %.3f s: %.0f draws/s\n", static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(r.empty), static_cast<unsigned long long>(r.errors), r.seconds,
              static_cast<double>(r.ok) / r.seconds);
  std::printf("latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", pct(r, 50), pct(r, 99), pct(r, 99.9), pct(r, 100));
  std::printf("allocations while drawing: %ld (%.3f/draw, %ld bytes); cpu %.3f s (%.1f us/draw)\n", r.allocations,
              r.ok ? static_cast<double>(r.allocations) / static_cast<double>(r.ok) : 0.0, r.allocated_bytes, r.cpu_seconds,
              r.ok ? r.cpu_seconds * 1e6 / static_cast<double>(r.ok) : 0.0);
  std::printf("wal: %llu records, %llu bytes, %llu writes, %llu syncs, %llu segments, %llu snapshots; last lsn %llu\n",
              static_cast<unsigned long long>(st.wal.records), static_cast<unsigned long long>(st.wal.bytes),
              static_cast<unsigned long long>(st.wal.writes), static_cast<unsigned long long>(st.wal.syncs),
              static_cast<unsigned long long>(st.wal.segments), static_cast<unsigned long long>(st.snapshots),
              static_cast<unsigned long long>(st.lsn));
  if (!st.snapshot_error.empty()) std::fprintf(stderr, "rewardpool: a snapshot failed (the log is intact): %s\n", st.snapshot_error.c_str());
  if (!st.wal_error.empty()) {
    std::fprintf(stderr, "rewardpool: WAL failed: %s\n", st.wal_error.c_str());
    return 1;
  }
  return r.errors ? 1 : 0;
}

int cmd_inspect(const InspectArgs& a) {
  const std::string* dir = &a.data_dir;
  const bool json = a.json;
  wal::RecoveryOptions ro;
  ro.read_only = true;
  wal::RecoveryResult r;
  try {
    r = wal::recover(*dir, ro);
  } catch (const std::exception& e) {
    if (json) std::cout << nlohmann::json{{"error", e.what()}, {"damaged", true}}.dump(2) << "\n";
    std::fprintf(stderr, "rewardpool inspect: %s\n", e.what());
    return 1;
  }
  if (json) {
    nlohmann::json j;
    j["lsn"] = r.lsn;
    j["draws"] = r.draws;
    j["snapshot"] = {{"file", r.snapshot_file}, {"lsn", r.snapshot_lsn}};
    j["items"] = nlohmann::json::array();
    for (const Item& it : r.catalog.items) j["items"].push_back({{"id", it.id}, {"remaining", it.quantity}, {"weight", it.weight}});
    j["segments"] = nlohmann::json::array();
    for (const auto& s : r.segments) {
      j["segments"].push_back({{"name", s.name}, {"seq", s.seq}, {"file_size", s.file_size}, {"valid_bytes", s.valid_bytes},
                               {"records", s.records}, {"first_lsn", s.first_lsn}, {"last_lsn", s.last_lsn},
                               {"damage", s.damage}});
    }
    j["next_request_id"] = r.next_request_id;
    j["damaged"] = r.damaged;
    j["warnings"] = r.warnings;
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("data dir %s\nsnapshot %s (lsn %llu)\n", dir->c_str(), r.snapshot_file.c_str(),
                static_cast<unsigned long long>(r.snapshot_lsn));
    for (const auto& s : r.segments) {
      std::printf("segment %s: %llu bytes, %llu records, lsn %llu..%llu%s%s\n", s.name.c_str(),
                  static_cast<unsigned long long>(s.file_size), static_cast<unsigned long long>(s.records),
                  static_cast<unsigned long long>(s.first_lsn), static_cast<unsigned long long>(s.last_lsn),
                  s.damage.empty() ? "" : "  DAMAGED: ", s.damage.c_str());
    }
    std::printf("lsn %llu, draws %llu\n", static_cast<unsigned long long>(r.lsn), static_cast<unsigned long long>(r.draws));
    for (const Item& it : r.catalog.items) {
      std::printf("  %-24s remaining %lld  weight %g\n", it.id.c_str(), static_cast<long long>(it.quantity), it.weight);
    }
  }
  for (const auto& w : r.warnings) std::fprintf(stderr, "damage: %s\n", w.c_str());
  return r.damaged ? 1 : 0;
}

}  // namespace rewardpool::cli

int main(int argc, char** argv) {
  using namespace rewardpool;
  using namespace rewardpool::cli;
#ifdef REWARDPOOL_WITH_SERVICE
  if (argc > 1 && service::is_service_command(argv[1])) return service::main(argc, argv);
#endif
  set_alloc_probe([](long& count, long& bytes) {
    count = ringkit::allocation_count();
    bytes = ringkit::allocated_bytes();
  });
  CLI::App app{"rewardpool: a weighted-draw reward service on ringkit (actor + write-ahead log)"};
  app.require_subcommand(1);
#ifdef REWARDPOOL_WITH_SERVICE
  app.footer("Service commands (docs/service.md): serve, load, top, replica; e.g. rewardpool serve --help");
#endif
  const auto one_of = [](std::initializer_list<std::string> v) { return CLI::IsMember(std::vector<std::string>(v)); };

  RunArgs run;
  CLI::App* r = app.add_subcommand("run", "serve draws from a catalog with N client threads, durably (WAL), and report throughput");
  r->add_option("--catalog", run.catalog, "catalog JSON ({\"items\": [...]} or the Go original's {\"catalog\": [...]}); used only when DIR holds no log yet");
  r->add_option("--data-dir", run.data_dir, "data directory (snapshots, WAL segments, MANIFEST)");
  r->add_option("--clients", run.clients, "client threads (each makes blocking draws)")->check(CLI::Range(1u, 4096u));
  r->add_option("--draws", run.draws, "draws in total")->check(CLI::Range(std::uint64_t{1}, UINT64_MAX));
  r->add_option("--duration", run.duration_s, "seconds to run instead of --draws")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86400}));
  r->add_option("--mailbox", run.mailbox, "actor mailbox")->check(one_of({"channel", "ring"}))->capture_default_str();
  r->add_option("--log-buffer,--wal-buffer", run.log_buffer, "WAL log buffer")->check(one_of({"vector", "ring"}))->capture_default_str();
  r->add_option("--wal", run.wal, "WAL backend")->check(one_of({"file", "mmap", "none"}))->capture_default_str();
  r->add_option("--ack", run.ack, "acknowledge a draw once applied (memory), written (page cache / mapping) or durable (synced); default durable (applied with --wal none)")
      ->check(one_of({"applied", "written", "durable"}));
  r->add_option("--sync", run.sync, "background sync besides what --ack durable asks: always | interval:MS | none")->capture_default_str();
  r->add_option("--selector", run.selector, "weighted selector")->check(one_of({"fenwick", "prefix-sum"}))->capture_default_str();
  r->add_option("--segment-bytes", run.segment_bytes, "WAL segment size")->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{1} << 40))->capture_default_str();
  r->add_option("--snapshot-every", run.snapshot_every, "records between snapshots (0: never)")->capture_default_str();
  r->add_option("--seed", run.seed, "random seed (default: the process id)");
  r->add_option("--ack-fd", run.ack_fd, "write (lsn u64, item u32) per acknowledged draw to this file descriptor")->check(CLI::Range(0, 1 << 20));
  r->add_flag("--repair", run.repair, "cut the log at a corruption (moving what is cut to DIR/quarantine/) instead of refusing to start");
  r->add_flag("--quiet", run.quiet, "no banner, no progress line");

  InspectArgs inspect;
  CLI::App* i = app.add_subcommand("inspect", "recover a data directory read-only, verify every CRC, print the state (exit 1 on damage)");
  i->add_option("--data-dir", inspect.data_dir, "data directory")->required();
  i->add_flag("--json", inspect.json, "print JSON");

  BenchArgs bench;
  CLI::App* b = app.add_subcommand("bench", "benchmarks: --workload clients (blocking clients) or pipeline (one submitter, N draws in flight)");
  b->add_option("--workload", bench.workload, "clients | pipeline")->check(one_of({"clients", "pipeline"}))->capture_default_str();
  b->add_flag("--quick", bench.quick, "clients: finish in about a minute");
  b->add_option("--repeats", bench.repeats, "repeats per configuration (default 5; clients --quick 3)")->check(CLI::Range(1u, 100u));
  b->add_option("--draws", bench.draws, "draws per run")->check(CLI::Range(std::uint64_t{100}, std::uint64_t{100'000'000}));
  b->add_option("--in-flight", bench.in_flight, "pipeline: draws in flight at most (default: all)")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 23));
  b->add_option("--data-dir", bench.data_dir, "where the scratch logs go")->capture_default_str();
  b->add_option("--json", bench.json, "write the results as JSON here");
  b->add_option("--wal", bench.only_wal, "pipeline: only this WAL backend")->check(one_of({"none", "file", "mmap"}));

  return parse_and_run(app, argc, argv, [&] {
    if (r->parsed()) return cmd_run(run);
    if (i->parsed()) return cmd_inspect(inspect);
    return bench.workload == "pipeline" ? cmd_bench_pipeline(bench) : cmd_bench_clients(bench);
  });
}
