// rewardpool: a weighted-draw reward service on ringkit (actor + write-ahead log).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
// counting_allocator.hpp frees with std::free what its operator new got from malloc/aligned_alloc, which
// GCC -O1 cannot see and reports as -Wmismatched-new-delete (a false positive here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "counting_allocator.hpp"  // the counting global allocator: allocations/draw in run and bench
#pragma GCC diagnostic pop
#include "rewardpool/service.hpp"
#include "workload.hpp"

namespace rewardpool::cli {

namespace {

constexpr const char* kHelp = R"(usage: rewardpool <command> [flags]

commands:
  run      serve draws from a catalog with N client threads, durably (WAL), and report throughput
  inspect  recover a data directory read-only, verify every CRC, print the state (exit 1 on damage)
  bench    the channel-vs-ring evaluation: 4 mailbox x log-buffer combinations x WAL backends x clients

rewardpool run --catalog FILE --data-dir DIR [--clients N] [--draws N | --duration SECONDS]
               [--mailbox ring|channel] [--wal-buffer ring|vector] [--wal file|mmap|none]
               [--sync always|interval:MS|none] [--selector fenwick|prefix-sum]
               [--segment-bytes N] [--snapshot-every N] [--seed N] [--repair] [--ack-fd FD] [--quiet]
               [--ring-wait blocking|park]
  --catalog is used only when DIR holds no log yet (first run); later runs recover DIR.
  --wal none keeps nothing (no --data-dir needed). --repair truncates the log at a corruption
  instead of refusing to start. --ack-fd writes (lsn u64, item u32) per acknowledged draw to FD.
  Defaults: --clients 4 --draws 100000 --mailbox channel --wal-buffer vector --wal file --sync always
  (the channel+vector baseline: see docs/ring-buffer-evaluation.md for why it is the default).

rewardpool inspect --data-dir DIR [--json]
  JSON: {"lsn": N, "draws": N, "items": [{"id": ..., "remaining": N, "weight": W}], ...}

rewardpool bench [--quick] [--repeats N] [--draws N] [--data-dir DIR] [--json FILE] [--ring-wait blocking|park]
  --quick finishes in under a minute. DIR (default /tmp) holds the scratch logs. --ring-wait: how the
  ring mailbox and ring log buffer wait (ringkit::Blocking spins ~20 us before parking; park does not).
)";

}  // namespace

bool Args::has(const std::string& k) const {
  return values.count(k) || std::find(switches_set.begin(), switches_set.end(), k) != switches_set.end();
}

std::optional<std::string> Args::get(const std::string& k) const {
  const auto it = values.find(k);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::uint64_t Args::get_u64(const std::string& k, std::uint64_t def, std::uint64_t min, std::uint64_t max) const {
  const auto v = get(k);
  if (!v) return def;
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc{} || end != v->data() + v->size() || v->empty()) {
    throw UsageError("--" + k + " needs a non-negative integer, got \"" + *v + "\"");
  }
  if (x < min || x > max) {
    throw UsageError("--" + k + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + *v);
  }
  return x;
}

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& flags,
                const std::vector<std::string>& switches) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument \"" + arg + "\"");
    arg = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (std::find(switches.begin(), switches.end(), arg) != switches.end()) {
      if (value) throw UsageError("--" + arg + " takes no value");
      a.switches_set.push_back(arg);
      continue;
    }
    if (std::find(flags.begin(), flags.end(), arg) == flags.end()) throw UsageError("unknown flag --" + arg);
    if (!value) {
      if (i + 1 >= argc) throw UsageError("--" + arg + " needs a value");
      value = argv[++i];
    }
    if (a.values.count(arg)) throw UsageError("--" + arg + " given twice");
    a.values[arg] = *value;
  }
  return a;
}

namespace {

double pct(const WorkloadResult& r, double p) { return r.percentile_ns(p) / 1000.0; }

}  // namespace

int cmd_run(const Args& a) {
  const auto mailbox = a.get("mailbox").value_or("channel");
  const auto buffer = a.get("wal-buffer").value_or("vector");
  const auto backend = wal::parse_backend(a.get("wal").value_or("file"));
  const auto sync = wal::parse_sync_policy(a.get("sync").value_or("always"));
  const auto selector = parse_selector_kind(a.get("selector").value_or("fenwick"));
  if (mailbox != "ring" && mailbox != "channel") throw UsageError("--mailbox must be ring or channel, got " + mailbox);
  if (buffer != "ring" && buffer != "vector") throw UsageError("--wal-buffer must be ring or vector, got " + buffer);
  if (!backend) throw UsageError("--wal must be file, mmap or none, got " + *a.get("wal"));
  if (!sync) throw UsageError("--sync must be always, interval:MS (MS > 0) or none, got " + *a.get("sync"));
  if (!selector) throw UsageError("--selector must be fenwick or prefix-sum");
  const auto ring_wait = a.get("ring-wait").value_or("blocking");
  if (ring_wait != "blocking" && ring_wait != "park") throw UsageError("--ring-wait must be blocking or park, got " + ring_wait);
  if (a.has("draws") && a.has("duration")) throw UsageError("give --draws or --duration, not both");
  const auto dir = a.get("data-dir");
  if (*backend != wal::Backend::Null && !dir) throw UsageError("run needs --data-dir (or --wal none)");
  if (!dir && !a.has("catalog")) throw UsageError("run needs --catalog");

  ServiceOptions o;
  o.wal.backend = *backend;
  o.wal.sync = *sync;
  o.wal.dir = dir.value_or("");
  o.wal.segment_bytes = a.get_u64("segment-bytes", 64ull << 20, 4096, 1ull << 40);
  o.selector = *selector;
  o.ring_wait = ring_wait == "park" ? RingWait::Park : RingWait::Blocking;
  o.seed = a.get_u64("seed", static_cast<std::uint64_t>(::getpid()), 0, UINT64_MAX);
  o.snapshot_every = a.get_u64("snapshot-every", 1'000'000, 0, UINT64_MAX);
  WorkloadOptions w;
  w.clients = static_cast<unsigned>(a.get_u64("clients", 4, 1, 4096));
  o.reply_slots = std::max<std::size_t>(1024, w.clients);
  w.draws = a.get_u64("draws", a.has("duration") ? 0 : 100'000, 1, UINT64_MAX);
  w.duration = std::chrono::milliseconds(a.get_u64("duration", 0, 1, 86'400) * 1000);
  w.ack_fd = a.has("ack-fd") ? static_cast<int>(a.get_u64("ack-fd", 0, 0, 1 << 20)) : -1;
  w.progress = !a.has("quiet");

  std::optional<Catalog> catalog;
  if (const auto path = a.get("catalog")) catalog = load_catalog(*path);
  ServiceState state;
  std::vector<std::string> warnings;
  if (*backend == wal::Backend::Null) {
    state.catalog = *catalog;
  } else {
    if (catalog && wal::has_data(*dir) && !a.has("quiet")) {
      std::fprintf(stderr, "note: %s already holds a log; recovering it (the catalog file is not used)\n", dir->c_str());
    }
    state = open_data_dir(*dir, catalog ? &*catalog : nullptr, a.has("repair"), warnings);
  }
  for (const auto& warn : warnings) std::fprintf(stderr, "warning: %s\n", warn.c_str());
  auto svc = make_service(mailbox == "ring" ? MailboxKind::Ring : MailboxKind::Channel,
                          buffer == "ring" ? BufferKind::Ring : BufferKind::Vector, state, o);
  if (!a.has("quiet")) {
    std::fprintf(stderr, "rewardpool run: %s, wal %s, sync %s, %u clients, recovered lsn %llu (%llu draws so far)\n",
                 std::string(svc->describe()).c_str(), std::string(wal::to_string(*backend)).c_str(),
                 wal::to_string(*sync).c_str(), w.clients, static_cast<unsigned long long>(state.lsn),
                 static_cast<unsigned long long>(state.draws));
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
  std::printf("wal: %llu records, %llu bytes, %llu syncs, %llu flushes, %llu segments, %llu snapshots; last lsn %llu\n",
              static_cast<unsigned long long>(st.wal.records), static_cast<unsigned long long>(st.wal.bytes),
              static_cast<unsigned long long>(st.wal.syncs), static_cast<unsigned long long>(st.flushes),
              static_cast<unsigned long long>(st.wal.segments), static_cast<unsigned long long>(st.wal.snapshots),
              static_cast<unsigned long long>(st.lsn));
  if (!st.wal_error.empty()) {
    std::fprintf(stderr, "rewardpool: WAL failed: %s\n", st.wal_error.c_str());
    return 1;
  }
  return r.errors ? 1 : 0;
}

int cmd_inspect(const Args& a) {
  const auto dir = a.get("data-dir");
  if (!dir) throw UsageError("inspect needs --data-dir");
  const bool json = a.has("json");
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
  using namespace rewardpool::cli;
  set_alloc_probe([](long& count, long& bytes) {
    count = ringkit::test::g_allocations.load();
    bytes = ringkit::test::g_allocated_bytes.load();
  });
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    const auto asks_help = [&] {
      for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "help" || a == "--help" || a == "-h") return true;
      }
      return false;
    };
    if (asks_help()) {  // `rewardpool --help`, `rewardpool bench --help`: help on stdout, success
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (cmd == "run") {
      return cmd_run(parse_args(argc, argv, 2,
                                {"catalog", "data-dir", "clients", "draws", "duration", "mailbox", "wal-buffer", "wal",
                                 "sync", "selector", "segment-bytes", "snapshot-every", "seed", "ack-fd", "ring-wait"},
                                {"repair", "quiet"}));
    }
    if (cmd == "inspect") return cmd_inspect(parse_args(argc, argv, 2, {"data-dir"}, {"json"}));
    if (cmd == "bench") return cmd_bench(parse_args(argc, argv, 2, {"repeats", "draws", "data-dir", "json", "ring-wait"}, {"quick"}));
    throw UsageError("unknown command \"" + cmd + "\"");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "rewardpool: %s\n\n%s", e.what(), kHelp);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rewardpool: %s\n", e.what());
    return 1;
  }
}
