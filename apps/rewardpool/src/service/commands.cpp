// SPDX-License-Identifier: MIT
#include "service/commands.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_main.hpp"

#include "rewardpool/service.hpp"
#include "rewardpool/wal.hpp"
#include "service/config.hpp"
#include "service/load.hpp"
#include "service/replication.hpp"
#include "service/server.hpp"
#include "service/top.hpp"

namespace rewardpool::service {

namespace {

using cli::UsageError;  // cli.hpp: a bad combination of flags, exit 2

struct ServeArgs {
  std::optional<std::string> config;  // the Go original's YAML; the flags below override it
  std::optional<std::string> catalog, data_dir;
  std::optional<std::string> listen;  // default: the config's grpc.listen_address, else 127.0.0.1:50051
  std::optional<std::string> ack;  // default durable (applied with --wal none)
  std::string wal = "file", mailbox = "ring", log_buffer = "ring";
  std::optional<std::string> sync;  // default: none (always if the config's wal.flush_after_n_draw > 0)
  std::optional<std::uint64_t> segment_bytes;  // default: the config's, else 64 MiB
  std::uint64_t snapshot_every = 1'000'000;
  std::uint32_t max_count = 10'000, stream_buffer = 16'384, workers = 1;
  std::uint64_t window = 65'536;
  double drain_timeout_s = 10;
  bool repair = false;
  std::optional<std::string> replicate, stream;  // NATS JetStream
  std::uint64_t replicate_snapshot_every = 100'000;
};

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later; serve sigwait()s for them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int cmd_serve(ServeArgs a) {
  // The config file fills in what the flags did not give.
  FileConfig fc;
  if (a.config) fc = load_config(*a.config);
  if (!a.data_dir) a.data_dir = fc.working_dir;
  if (!a.listen) {
    if (fc.grpc_enabled == false) {
      throw UsageError(*a.config + " says grpc.enabled: false; serve has nothing to do (give --listen to serve anyway)");
    }
    a.listen = fc.listen_address.value_or("127.0.0.1:50051");
  }
  if (!a.sync) a.sync = fc.flush_after_n_draw.value_or(0) > 0 ? "always" : "none";
  if (!a.segment_bytes) a.segment_bytes = fc.segment_bytes.value_or(64ull << 20);
  if (fc.formatter && *fc.formatter != "binary") {
    std::fprintf(stderr, "note: %s: wal.formatter '%s' is ignored (the log has one format: docs/wal-format.md)\n",
                 a.config->c_str(), fc.formatter->c_str());
  }

  const auto backend = wal::parse_backend(a.wal);
  const auto sync = wal::parse_sync_policy(*a.sync);
  if (!backend) throw UsageError("--wal must be file, mmap or none, got " + a.wal);
  if (!sync) throw UsageError("--sync must be always, interval:MS (MS > 0) or none, got " + *a.sync);
  const std::string ack_name = a.ack.value_or(*backend == wal::Backend::Null ? "applied" : "durable");
  const bool replicated = ack_name == "replicated";
  const auto ack = replicated ? std::optional<Ack>(Ack::Written) : parse_ack(ack_name);
  if (!ack) throw UsageError("--ack must be applied, written, durable or replicated, got " + ack_name);
  if (a.replicate.has_value() != a.stream.has_value()) throw UsageError("--replicate and --stream go together");
  if (replicated && !a.replicate) throw UsageError("--ack replicated needs --replicate nats://HOST:PORT --stream NAME");
  if (a.replicate && *backend == wal::Backend::Null) throw UsageError("--replicate ships the WAL: it needs --wal file or mmap");
  if (*backend != wal::Backend::Null && !a.data_dir) throw UsageError("serve needs --data-dir (or --wal none)");
  if (*backend == wal::Backend::Null && a.data_dir) {
    throw UsageError("--wal none keeps nothing, so --data-dir " + *a.data_dir + " would be ignored: drop one of them");
  }
  if (*backend == wal::Backend::Null && *ack != Ack::Applied) {
    throw UsageError("--wal none has nothing to write or sync: only --ack applied makes sense");
  }
  if (!a.data_dir && !a.catalog && !fc.catalog) throw UsageError("serve needs --catalog (or a config with pool.catalog)");
  if (a.max_count > a.stream_buffer || a.max_count > a.window) {
    throw UsageError("--max-count must not exceed --stream-buffer or --window");
  }

  const sigset_t stop_signals = block_stop_signals();  // before any thread starts

  std::optional<Catalog> catalog = fc.catalog;
  if (a.catalog) catalog = load_catalog(*a.catalog);  // the flag overrides the config's pool.catalog
  ServiceState state;
  std::vector<std::string> warnings;
  if (*backend == wal::Backend::Null) {
    state.catalog = *catalog;
  } else {
    if (catalog && wal::has_data(*a.data_dir)) {
      std::fprintf(stderr, "note: %s already holds a log; recovering it (the catalog file is not used)\n", a.data_dir->c_str());
    }
    state = open_data_dir(*a.data_dir, catalog ? &*catalog : nullptr, a.repair, warnings);
  }
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

  ServiceOptions o;
  o.wal.backend = *backend;
  o.wal.sync = *sync;
  o.wal.dir = a.data_dir.value_or("");
  o.wal.segment_bytes = *a.segment_bytes;
  if (fc.mailbox_capacity) o.mailbox_capacity = *fc.mailbox_capacity;
  o.default_ack = *ack;
  o.seed = static_cast<std::uint64_t>(::getpid());
  o.snapshot_every = a.snapshot_every;
  o.window = a.window;
  const std::uint64_t lsn = state.lsn, draws = state.draws;
  const ServiceState start = state;  // what the shipper publishes as the stream's snapshot
  auto svc = make_service(a.mailbox == "ring" ? MailboxKind::Ring : MailboxKind::Channel,
                          a.log_buffer == "ring" ? BufferKind::Ring : BufferKind::Vector, std::move(state), o);

  net::ServerOptions so;
  so.listen = *a.listen;
  so.ack = *ack;
  so.max_count = a.max_count;
  so.stream_buffer = a.stream_buffer;
  so.workers = a.workers;
  so.window = a.window;
  so.replication_wait = std::chrono::milliseconds(static_cast<long long>(a.drain_timeout_s * 1000));
  std::unique_ptr<repl::Shipper> shipper;
  if (a.replicate) {
    shipper = std::make_unique<repl::Shipper>(*svc, start, *a.data_dir, repl::NatsTarget{*a.replicate, *a.stream},
                                              a.replicate_snapshot_every);
    so.replication_stats = [s = shipper.get()] { return s->replicated_lsn(); };
    if (replicated) so.replicated_lsn = so.replication_stats;
  }
  std::unique_ptr<net::DrawServer> server;
  try {
    server = std::make_unique<net::DrawServer>(*svc, so);
  } catch (...) {
    svc->stop();
    if (shipper) shipper->stop(std::chrono::milliseconds(0));
    throw;
  }
  if (shipper) std::fprintf(stderr, "rewardpool serve: replicating to %s, stream %s\n", a.replicate->c_str(), a.stream->c_str());
  std::fprintf(stderr, "rewardpool serve: %s, wal %s%s%s, ack %s, recovered lsn %llu (%llu draws so far)\n",
               std::string(svc->describe()).c_str(), std::string(wal::to_string(*backend)).c_str(),
               a.data_dir ? " in " : "", a.data_dir.value_or("").c_str(), ack_name.c_str(),
               static_cast<unsigned long long>(lsn), static_cast<unsigned long long>(draws));
  // The line tests and scripts wait for (with --listen HOST:0 it names the port picked).
  std::printf("listening on %s\n", server->address().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "rewardpool serve: %s: draining (answering the draws in flight, then syncing the log)\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server->drain(std::chrono::milliseconds(static_cast<long long>(a.drain_timeout_s * 1000)));
  server.reset();
  svc->stop();
  const ServiceStats st = svc->stats();
  if (shipper) {
    // Ship what the pool wrote last (the drain's draws), then close.
    shipper->stop(std::chrono::milliseconds(static_cast<long long>(a.drain_timeout_s * 1000)));
    const repl::ShipperStats rs = shipper->stats();
    std::fprintf(stderr, "rewardpool serve: replicated up to lsn %llu (%llu batches, %llu retries)%s%s\n",
                 static_cast<unsigned long long>(rs.replicated_lsn), static_cast<unsigned long long>(rs.batches),
                 static_cast<unsigned long long>(rs.retries), rs.last_error.empty() ? "" : "; last error: ", rs.last_error.c_str());
  }
  std::fprintf(stderr, "rewardpool serve: stopped at lsn %llu; wal: %llu records, %llu syncs\n",
               static_cast<unsigned long long>(st.lsn), static_cast<unsigned long long>(st.wal.records),
               static_cast<unsigned long long>(st.wal.syncs));
  if (!st.snapshot_error.empty()) std::fprintf(stderr, "rewardpool: a snapshot failed (the log is intact): %s\n", st.snapshot_error.c_str());
  if (!st.wal_error.empty()) {
    std::fprintf(stderr, "rewardpool: WAL failed: %s\n", st.wal_error.c_str());
    return 1;
  }
  return 0;
}

struct LoadArgs {
  std::string target;
  unsigned connections = 1, in_flight = 64;
  double duration_s = 5;
  int count = 1;
  std::optional<std::string> json;
};

int cmd_load(const LoadArgs& a) {
  net::LoadOptions o;
  o.target = a.target;
  o.connections = a.connections;
  o.in_flight = a.in_flight;
  o.duration = std::chrono::milliseconds(static_cast<long long>(a.duration_s * 1000));
  o.count = a.count;
  const net::LoadResult r = net::run_load(o);
  std::printf("%u connections x %u in flight, count %d, %.2f s: %llu draws (%llu empty, %llu errors), %.0f draws/s\n",
              o.connections, o.in_flight, o.count, r.seconds, static_cast<unsigned long long>(r.draws),
              static_cast<unsigned long long>(r.empty), static_cast<unsigned long long>(r.errors), r.draws_per_s());
  std::printf("latency per request us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f (%llu requests)\n", r.p50_us, r.p99_us,
              r.p999_us, r.max_us, static_cast<unsigned long long>(r.requests));
  if (!r.stream_error.empty()) std::fprintf(stderr, "rewardpool load: a stream ended with: %s\n", r.stream_error.c_str());
  if (a.json) {
    std::FILE* f = std::fopen(a.json->c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + *a.json);
    const std::string text = net::to_json(o, r) + "\n";
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  return r.errors == 0 && r.stream_error.empty() ? 0 : 1;
}

}  // namespace

bool is_service_command(std::string_view name) noexcept { return name == "serve" || name == "load" || name == "top" || name == "replica"; }

int main(int argc, char** argv) {
  CLI::App app{"rewardpool service commands"};
  app.require_subcommand(1);
  const auto one_of = [](std::initializer_list<std::string> v) { return CLI::IsMember(std::vector<std::string>(v)); };

  ServeArgs serve;
  CLI::App* s = app.add_subcommand("serve", "serve the pool over gRPC (RewardPoolService, the Go original's API); SIGTERM drains and stops");
  s->add_option("--config", serve.config, "the Go original's YAML config (working_dir, pool.catalog, wal.*, grpc.*); flags override it");
  s->add_option("--catalog", serve.catalog, "catalog JSON; used only when DIR holds no log yet");
  s->add_option("--data-dir", serve.data_dir, "data directory (snapshots, WAL segments, MANIFEST)");
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0: pick a free one); default: the config's grpc.listen_address, else 127.0.0.1:50051");
  s->add_option("--ack", serve.ack, "answer a draw once applied, written, durable or replicated (default durable; applied with --wal none)")
      ->check(one_of({"applied", "written", "durable", "replicated"}));
  s->add_option("--replicate", serve.replicate, "publish the WAL to NATS JetStream at nats://HOST:PORT (with --stream)");
  s->add_option("--stream", serve.stream, "JetStream stream name (created if missing; subjects NAME.wal, NAME.snap)");
  s->add_option("--replicate-snapshot-every", serve.replicate_snapshot_every, "records between snapshots published to the stream (0: only at start)")->capture_default_str();
  s->add_option("--wal", serve.wal, "WAL backend")->check(one_of({"file", "mmap", "none"}))->capture_default_str();
  s->add_option("--sync", serve.sync, "background sync besides what --ack durable asks: always | interval:MS | none (default none)");
  s->add_option("--mailbox", serve.mailbox, "actor mailbox")->check(one_of({"channel", "ring"}))->capture_default_str();
  s->add_option("--log-buffer", serve.log_buffer, "WAL log buffer")->check(one_of({"vector", "ring"}))->capture_default_str();
  s->add_option("--segment-bytes", serve.segment_bytes, "WAL segment size (default 64 MiB)")->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{1} << 40));
  s->add_option("--snapshot-every", serve.snapshot_every, "records between snapshots (0: never)")->capture_default_str();
  s->add_option("--max-count", serve.max_count, "largest count one DrawRequest may ask for")->check(CLI::Range(1u, 1'000'000u))->capture_default_str();
  s->add_option("--stream-buffer", serve.stream_buffer, "per stream: draws submitted + responses not yet written, at most")->check(CLI::Range(1u, 1u << 24))->capture_default_str();
  s->add_option("--workers", serve.workers, "dispatcher threads (each one pool client handle)")->check(CLI::Range(1u, 64u))->capture_default_str();
  s->add_option("--window", serve.window, "draws in flight per worker")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 22))->capture_default_str();
  s->add_option("--drain-timeout", serve.drain_timeout_s, "seconds SIGTERM waits for clients to read their last responses")->capture_default_str();
  s->add_flag("--repair", serve.repair, "cut the log at a corruption (moving what is cut to DIR/quarantine/) instead of refusing to start");

  LoadArgs load;
  CLI::App* l = app.add_subcommand("load", "load generator: Draw streams over gRPC; prints draws/s and latency p50/p99/p99.9");
  l->add_option("--target", load.target, "HOST:PORT of a rewardpool serve (or the Go original)")->required();
  l->add_option("--connections", load.connections, "TCP connections, one Draw stream each")->check(CLI::Range(1u, 1024u))->capture_default_str();
  l->add_option("--in-flight", load.in_flight, "requests in flight per connection")->check(CLI::Range(1u, 1u << 20))->capture_default_str();
  l->add_option("--duration", load.duration_s, "seconds to send requests")->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  l->add_option("--count", load.count, "DrawRequest.count (draws per request)")->capture_default_str();
  l->add_option("--json", load.json, "write the result as JSON here");

  std::string top_target;
  double top_period_s = 1;
  CLI::App* t = app.add_subcommand("top", "live terminal view of a serving pool: remaining per item, draws/s, in flight, replication lag");
  t->add_option("--target", top_target, "HOST:PORT of a rewardpool serve")->required();
  t->add_option("--period", top_period_s, "seconds between refreshes")->check(CLI::Range(0.1, 60.0))->capture_default_str();

  repl::ReplicaOptions replica;
  CLI::App* rp = app.add_subcommand("replica", "rebuild a pool's data directory from a JetStream stream and follow it (promote: serve --data-dir DIR)");
  rp->add_option("--nats", replica.source.url, "nats://HOST:PORT")->required();
  rp->add_option("--stream", replica.source.stream, "JetStream stream name")->required();
  rp->add_option("--data-dir", replica.data_dir, "the replica's data directory")->required();
  rp->add_flag("--once", replica.once, "stop once caught up with the stream's last message at start");

  // argv[0] stays; CLI11 sees the subcommand as argv[1].
  return cli::parse_and_run(app, argc, argv, [&] {
    try {
      if (s->parsed()) return cmd_serve(serve);
      if (l->parsed()) return cmd_load(load);
      if (rp->parsed()) return repl::run_replica(replica);
      if (t->parsed()) return net::run_top(top_target, std::chrono::milliseconds(static_cast<long long>(top_period_s * 1000)));
      return 2;
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "rewardpool: config: %s\n", e.what());
      return 2;
    }
  });
}

}  // namespace rewardpool::service
