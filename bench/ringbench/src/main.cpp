// SPDX-License-Identifier: MIT
// ringbench: ringkit against the queues users would pick instead, on the user's own machine.
//
// The parent plans cells (scenario x contender x parameters), calibrates each cell's item count so a
// run takes about --target-ms, then runs every repeat in a fresh child process (this binary re-executed
// with the hidden --child flag; the result comes back over a pipe, a watchdog turns hangs into
// TIMEOUT), interleaving the repeats across cells. Each child pins its threads, measures a short
// core-to-core ping-pong before and after its run, and checks every item it received. A repeat during
// which the ping-pong moved (the VM's host moved a vCPU) is redone, a bounded number of times.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "platform.hpp"
#include "registry.hpp"
#include "report.hpp"
#include "ringbench/contender.hpp"
#include "ringbench/stats.hpp"

#ifndef RINGBENCH_CXX_FLAGS
#define RINGBENCH_CXX_FLAGS "unknown"
#endif

namespace ringbench {
namespace {

constexpr const char* kAllScenarios[] = {"spsc", "batch", "latency", "mpsc", "mpmc", "sizes", "wait"};

// The "wait" scenario: each ringkit queue with Blocking against the same queue with BusySpin (issue 8's
// targets: streaming throughput >= 0.8x, with a slower consumer too; < 1% of a core idle; RTT p50 <= 1.5x).
constexpr const char* kWaitContenders[] = {"ringkit::SpscQueue<BusySpin>", "ringkit::SpscQueue<Blocking>",
                                           "ringkit::MpscQueue<BusySpin>", "ringkit::MpscQueue<Blocking>",
                                           "ringkit::MpmcQueue<BusySpin>", "ringkit::MpmcQueue<Blocking>"};
constexpr unsigned kSlowConsumerWork = 128;  // multiply-adds per item (~340 ns here): the consumer is the slower side
constexpr std::uint64_t kIdleMs = 1000;      // the idle window per run

struct Options {
  std::vector<std::string> scenarios;   // empty: all
  std::vector<std::string> contenders;  // substrings; empty: all
  unsigned repeats = 5;
  bool repeats_set = false;
  std::uint64_t items = 0;  // 0: calibrate
  bool quick = false;
  int core_a = -1, core_b = -1;
  std::string out = "bench-results";
  std::string csv, json;  // extra copies
  std::size_t capacity = 4096;
  double target_ms = 250;
  bool target_set = false;
  unsigned max_redos = 2;
  bool redos_set = false;
  bool plots = true;
  bool list = false;
  // --child
  bool child = false;
  RunSpec spec;
  int result_fd = -1;
};

[[noreturn]] void bad_usage(const std::string& why) {
  std::cerr << "ringbench: " << why << "\nRun with --help for more information.\n";
  std::exit(2);
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(static_cast<std::size_t>(i), &set)) out.push_back(i);
    }
  }
  return out;
}

// The command line (CLI11). --help prints it and exits 0; a usage error prints why and exits 2. The
// --child* and --result-fd flags are hidden: the parent passes them to the child it re-executes.
Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"Compares ringkit's queues with the queues users would pick instead, on this machine.\n"
               "Writes report.md, results.csv, results.json, plots and report.html into --out; tables to stdout.",
               "ringbench"};
  const std::vector<std::string> scenarios(std::begin(kAllScenarios), std::end(kAllScenarios));
  app.add_option("--scenario", o.scenarios,
                 "comma-separated: spsc, batch, latency, mpsc, mpmc, sizes, wait (default: all)\n"
                 "wait: Blocking vs BusySpin for SpscQueue, MpscQueue, MpmcQueue (streaming, slow consumer, idle "
                 "CPU over 1 s, round-trip p50), printed as ratios with the targets")
      ->delimiter(',')->check(CLI::IsMember(scenarios));
  app.add_option("--contender", o.contenders, "comma-separated substrings of contender names (default: all; see --list)")
      ->delimiter(',');
  const auto* repeats = app.add_option("--repeats", o.repeats, "repeats per cell, interleaved across cells (default 5; --quick 2)")
                            ->check(CLI::Range(1u, 1000u));
  app.add_option("--items", o.items, "items per producer (latency: round trips) for every run; default: calibrated so one run "
                                     "takes about --target-ms")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  const auto* target = app.add_option("--target-ms", o.target_ms, "calibrated run length in ms (default 250)")
                           ->check(CLI::PositiveNumber);
  app.add_flag("--quick", o.quick, "2 repeats of short fixed-size runs, no calibration: a rough picture in under a minute");
  std::vector<int> pin;
  app.add_option("--pin", pin, "A,B: cores for producers/pinger (A) and consumers/echo (B) (default: first two allowed)")
      ->delimiter(',')->check(CLI::Range(0, CPU_SETSIZE - 1));
  app.add_option("--capacity", o.capacity, "ring capacity for every queue, a power of two (default 4096)")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 24));
  const auto* redos = app.add_option("--max-redos", o.max_redos, "redos of a repeat whose core-to-core probe moved (default 2)")
                          ->check(CLI::Range(0u, 10u));
  app.add_option("--out", o.out, "report directory (default bench-results)");
  app.add_option("--csv", o.csv, "also write the CSV to FILE");
  app.add_option("--json", o.json, "also write the JSON to FILE");
  bool no_plots = false;
  app.add_flag("--no-plots", no_plots, "skip gnuplot");
  app.add_flag("--list", o.list, "list scenarios and contenders, then exit");
  // Hidden (group ""): one run in a child process, its result to --result-fd.
  app.add_flag("--child", o.child)->group("");
  app.add_option("--child-scenario", o.spec.scenario)->group("");
  app.add_option("--child-contender", o.spec.contender)->group("");
  app.add_option("--child-bytes", o.spec.bytes)->check(CLI::Range(8u, 256u))->group("");
  app.add_option("--child-producers", o.spec.producers)->check(CLI::Range(1u, 64u))->group("");
  app.add_option("--child-consumers", o.spec.consumers)->check(CLI::Range(1u, 64u))->group("");
  app.add_option("--child-batch", o.spec.batch)->check(CLI::Range(1u, 4096u))->group("");
  app.add_option("--child-work", o.spec.work)->check(CLI::Range(0u, 1'000'000u))->group("");
  app.add_option("--child-tsc", o.spec.tsc_per_ns)->check(CLI::PositiveNumber)->group("");
  app.add_option("--result-fd", o.result_fd)->check(CLI::Range(0, 1024))->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);  // --help: stdout, 0; a usage error: stderr, 2
  }
  o.repeats_set = repeats->count() > 0;
  o.target_set = target->count() > 0;
  o.redos_set = redos->count() > 0;
  o.plots = !no_plots;
  if (!pin.empty()) {
    if (pin.size() != 2) bad_usage("--pin needs two cores, e.g. --pin 0,1");
    o.core_a = pin[0];
    o.core_b = pin[1];
  }
  if (o.capacity & (o.capacity - 1)) bad_usage("--capacity must be a power of two, got " + std::to_string(o.capacity));
  if (o.quick) {
    if (!o.redos_set) o.max_redos = 0;
    if (!o.repeats_set) o.repeats = 2;
    if (!o.target_set) o.target_ms = 20;
  }
  const auto cpus = allowed_cpus();
  if (o.core_a < 0) {
    o.core_a = cpus.empty() ? 0 : cpus[0];
    o.core_b = cpus.size() > 1 ? cpus[1] : o.core_a;
  } else if (!o.child) {
    for (int c : {o.core_a, o.core_b}) {
      if (std::find(cpus.begin(), cpus.end(), c) == cpus.end()) {
        bad_usage("--pin: core " + std::to_string(c) + " is not in this process's allowed CPU set");
      }
    }
  }
  return o;
}

// ---- child ------------------------------------------------------------------------------------------
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

int child_main(const Options& o) {
  RunSpec s = o.spec;
  s.items = o.items;
  s.capacity = o.capacity;
  s.core_a = o.core_a;
  s.core_b = o.core_b;
  RunOutcome out;
  double before = 0, after = 0;
  try {
    pin_this_thread(s.core_a);
    // The probe: up to 1000 round trips, at most 2 ms (on a loaded machine one round trip can take a
    // scheduler slice).
    constexpr std::uint64_t kProbeTrips = 1000;
    constexpr double kProbeSeconds = 0.002;
    before = cacheline_pingpong(s.core_a, s.core_b, kProbeTrips, s.tsc_per_ns, nullptr, kProbeSeconds);
    if (s.contender == "floor") {
      if (s.scenario == "latency") {
        LatencyRecorder rec;
        const std::int64_t t0 = now_ns();
        (void)cacheline_pingpong(s.core_a, s.core_b, s.items, s.tsc_per_ns, &rec);
        out.seconds = static_cast<double>(now_ns() - t0) / 1e9;
        out.metrics.emplace_back("rtt_p50_ns", static_cast<double>(rec.percentile(50)));
        out.metrics.emplace_back("rtt_p99_ns", static_cast<double>(rec.percentile(99)));
        out.metrics.emplace_back("rtt_p999_ns", static_cast<double>(rec.percentile(99.9)));
        out.metrics.emplace_back("rtt_max_ns", static_cast<double>(rec.max()));
        out.metrics.emplace_back("rtt_mean_ns", rec.mean());
      } else {
        const std::int64_t t0 = now_ns();
        const double rate = memcpy_items_per_s(s.bytes, s.capacity, s.items);
        out.seconds = static_cast<double>(now_ns() - t0) / 1e9;
        out.metrics.emplace_back("items_per_s", rate);
      }
    } else {
      const Contender* c = find_contender(s.contender);
      if (c == nullptr) throw std::invalid_argument("unknown contender '" + s.contender + "'");
      out = s.scenario == "latency" || s.scenario == "wait_rtt" ? c->latency(s)
            : s.scenario == "wait_idle"                         ? c->idle(s)
                                                                : c->throughput(s);
    }
    pin_this_thread(s.core_a);
    after = cacheline_pingpong(s.core_a, s.core_b, kProbeTrips, s.tsc_per_ns, nullptr, kProbeSeconds);
  } catch (const std::exception& e) {
    out.status = "ERROR";
    out.error = e.what();
  }
  std::ostringstream msg;
  msg.precision(17);
  msg << "status " << out.status << "\n";
  if (!out.error.empty()) msg << "error " << one_line(out.error) << "\n";
  msg << "seconds " << out.seconds << "\nprobe_before " << before << "\nprobe_after " << after << "\n";
  for (const auto& [k, v] : out.metrics) msg << "metric " << k << " " << v << "\n";
  msg << "end\n";
  const std::string text = msg.str();
  const int fd = o.result_fd >= 0 ? o.result_fd : 1;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return 3;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// ---- parent: one child ------------------------------------------------------------------------------
std::string fmt_double(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

RunRecord spawn_child(const RunSpec& s, double timeout_s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  std::vector<std::string> args = {
      "ringbench", "--child", "--child-scenario", s.scenario, "--child-contender", s.contender,
      "--child-bytes", std::to_string(s.bytes), "--child-producers", std::to_string(s.producers),
      "--child-consumers", std::to_string(s.consumers), "--child-batch", std::to_string(s.batch),
      "--child-work", std::to_string(s.work),
      "--items", std::to_string(s.items), "--capacity", std::to_string(s.capacity),
      "--pin", std::to_string(s.core_a) + "," + std::to_string(s.core_b),
      "--child-tsc", fmt_double(s.tsc_per_ns), "--result-fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::int64_t start = now_ns();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (fds[1] == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else if (::dup2(fds[1], 3) < 0) {
      ::_exit(126);
    }
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string text;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const double left_ms = timeout_s * 1e3 - static_cast<double>(now_ns() - start) / 1e6;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min(left_ms, 1e9)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  RunRecord rec;
  if (timed_out) {
    rec.status = "TIMEOUT";
    rec.error = "no result within " + fmt_double(std::round(timeout_s * 10) / 10) + " s (watchdog killed the run)";
    return rec;
  }
  bool complete = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "status") {
      ls >> rec.status;
    } else if (key == "error") {
      std::getline(ls, rec.error);
      if (!rec.error.empty() && rec.error[0] == ' ') rec.error.erase(0, 1);
    } else if (key == "seconds") {
      ls >> rec.seconds;
    } else if (key == "probe_before") {
      ls >> rec.probe_before_ns;
    } else if (key == "probe_after") {
      ls >> rec.probe_after_ns;
    } else if (key == "metric") {
      std::string name;
      double v = 0;
      ls >> name >> v;
      rec.metrics.emplace_back(name, v);
    } else if (key == "end") {
      complete = true;
    }
  }
  if (!complete) {
    rec = RunRecord{};
    rec.status = "CRASHED";
    if (WIFSIGNALED(wstatus)) {
      rec.error = std::string("child killed by signal ") + strsignal(WTERMSIG(wstatus));
    } else {
      rec.error = "child exited with status " + std::to_string(WEXITSTATUS(wstatus)) + " without a result";
    }
  }
  return rec;
}

// ---- parent: the plan -------------------------------------------------------------------------------
bool contender_selected(const Options& o, const std::string& name) {
  if (o.contenders.empty()) return true;
  std::string lname = name;
  std::transform(lname.begin(), lname.end(), lname.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (auto sub : o.contenders) {
    std::transform(sub.begin(), sub.end(), sub.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lname.find(sub) != std::string::npos) return true;
  }
  return false;
}

bool scenario_selected(const Options& o, const std::string& s) {
  return o.scenarios.empty() || std::find(o.scenarios.begin(), o.scenarios.end(), s) != o.scenarios.end();
}

void plan(const Options& o, double tsc_per_ns, Report& r) {
  const auto add_table = [&](const std::string& key, const std::string& scenario, const std::string& title, TableKind kind,
                             unsigned bytes, unsigned producers, unsigned consumers, unsigned batch, unsigned need_caps,
                             bool wait_pair = false, unsigned work = 0) {
    Table t{key, scenario, title, kind, {}};
    const auto add_cell = [&](const std::string& contender, const std::string& family) {
      Cell c;
      c.spec.scenario = scenario;
      c.spec.contender = contender;
      c.spec.bytes = bytes;
      c.spec.producers = producers;
      c.spec.consumers = consumers;
      c.spec.batch = batch;
      c.spec.work = work;
      c.spec.capacity = o.capacity;
      c.spec.core_a = o.core_a;
      c.spec.core_b = o.core_b;
      c.spec.tsc_per_ns = tsc_per_ns;
      c.family = family;
      c.table = r.tables.size();
      t.cells.push_back(r.cells.size());
      r.cells.push_back(std::move(c));
    };
    std::size_t real = 0;
    if (wait_pair) {  // the Blocking/BusySpin pairs only, no floor: the ratios are what matter
      for (const char* name : kWaitContenders) {
        const Contender* c = find_contender(name);
        if (c == nullptr || !contender_selected(o, c->name)) continue;
        add_cell(c->name, c->family);
        ++real;
      }
      if (real) r.tables.push_back(std::move(t));
      return;
    }
    add_cell("floor", "floor");
    for (const auto& c : all_contenders()) {
      if ((c.caps & need_caps) != need_caps || !contender_selected(o, c.name)) continue;
      if ((c.caps & kMultiTablesOnly) && (need_caps & kMultiProducer) == 0) continue;
      add_cell(c.name, c.family);
      ++real;
    }
    if (real == 0) {  // nothing to compare: drop the floor cell again
      r.cells.resize(r.cells.size() - 1);
      return;
    }
    r.tables.push_back(std::move(t));
  };
  using enum TableKind;
  if (scenario_selected(o, "spsc"))
    add_table("spsc_8B", "spsc", "SPSC throughput, 8-byte items, single push/pop", Throughput, 8, 1, 1, 1, 0);
  if (scenario_selected(o, "batch"))
    add_table("batch_8B", "batch", "SPSC throughput, 8-byte items, batches of 64", Throughput, 8, 1, 1, 64, kBatch);
  if (scenario_selected(o, "latency"))
    add_table("latency", "latency", "Round-trip latency, ping-pong over two queues (8-byte items)", Latency, 8, 1, 1, 1, 0);
  if (scenario_selected(o, "mpsc")) {
    for (unsigned p : {1u, 2u, 4u}) {
      add_table("mpsc_p" + std::to_string(p), "mpsc",
                "MPSC throughput, " + std::to_string(p) + " producer" + (p > 1 ? "s" : "") + " x 1 consumer, 8-byte items" +
                    (p == 4 ? " (oversubscribed: 5 threads on 2 cores)" : p == 2 ? " (3 threads on 2 cores)" : ""),
                Throughput, 8, p, 1, 1, kMultiProducer);
    }
  }
  if (scenario_selected(o, "mpmc"))
    add_table("mpmc_2x2", "mpmc", "MPMC throughput, 2 producers x 2 consumers, 8-byte items (4 threads on 2 cores)", Throughput, 8,
              2, 2, 1, kMultiProducer | kMultiConsumer);
  if (scenario_selected(o, "wait")) {
    add_table("wait_stream", "wait_stream", "Blocking vs BusySpin: streaming throughput, 1 producer x 1 consumer, 8-byte items",
              Throughput, 8, 1, 1, 1, 0, true);
    add_table("wait_slow", "wait_slow",
              "Blocking vs BusySpin: consumer slower than its producer (" + std::to_string(kSlowConsumerWork) +
                  " dependent multiply-adds per item), 1x1, 8-byte items",
              Throughput, 8, 1, 1, 1, 0, true, kSlowConsumerWork);
    add_table("wait_rtt", "wait_rtt", "Blocking vs BusySpin: round-trip latency, ping-pong over two queues", Latency, 8, 1, 1, 1,
              0, true);
    add_table("wait_idle", "wait_idle",
              "Blocking vs BusySpin: CPU use while idle (one consumer waiting in pop() on an empty queue, " +
                  std::to_string(kIdleMs) + " ms window)",
              Idle, 8, 1, 1, 1, 0, true);
  }
  if (scenario_selected(o, "sizes")) {
    for (unsigned b : {64u, 256u}) {
      add_table("sizes_" + std::to_string(b) + "B", "sizes",
                "SPSC throughput, " + std::to_string(b) + "-byte items (item size sweep)", Throughput, b, 1, 1, 1, 0);
    }
  }
}

// ---- parent: progress ---------------------------------------------------------------------------------
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), start_(now_ns()), tty_(::isatty(2) != 0) {}
  void step(const std::string& what) {
    const double elapsed = static_cast<double>(now_ns() - start_) / 1e9;
    const double per = done_ ? elapsed / static_cast<double>(done_) : 0;
    const double eta = per * static_cast<double>(total_ > done_ ? total_ - done_ : 0);
    char line[512];
    std::snprintf(line, sizeof line, "[%4zu/%zu] %-60.60s ETA %2dm%02ds", done_ + 1, total_, what.c_str(),
                  static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", line);
    } else {
      std::fprintf(stderr, "%s\n", line);
    }
    std::fflush(stderr);
  }
  void done_one() { ++done_; }
  void extend(std::size_t n) { total_ += n; }
  void shrink(std::size_t n) { total_ = total_ > n ? total_ - n : 0; }
  void finish() {
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "ringbench: %zu runs in %.0f s\n", done_, static_cast<double>(now_ns() - start_) / 1e9);
  }

 private:
  std::size_t total_, done_ = 0;
  std::int64_t start_;
  bool tty_;
};

std::string cell_label(const Cell& c, const Table& t) { return t.key + " " + c.spec.contender; }

// A repeat, redone while the probe says the machine moved under it.
RunRecord run_repeat(const Cell& c, const Options& o, Progress& progress, const std::string& label) {
  RunRecord rec;
  for (unsigned attempt = 0;; ++attempt) {
    progress.step(label + (attempt ? " redo " + std::to_string(attempt) : ""));
    rec = spawn_child(c.spec, c.timeout_s);
    rec.redos = attempt;
    if (!rec.ok() || !probe_moved(rec.probe_before_ns, rec.probe_after_ns)) break;
    if (attempt >= o.max_redos) {
      rec.unstable = true;
      break;
    }
  }
  return rec;
}

std::string read_first_line(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    if (std::fgets(buf, sizeof buf, p)) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

void describe_machine(Report& r, const Options& o, double tsc_per_ns) {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  ::uname(&u);
  r.machine.emplace_back("CPU", model.empty() ? "unknown" : model);
  r.machine.emplace_back("CPUs online", std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)));
  const std::string hyp = read_first_line("lscpu 2>/dev/null | grep -i 'Hypervisor vendor' | sed 's/.*: *//'");
  if (!hyp.empty()) r.machine.emplace_back("Hypervisor", hyp);
  r.machine.emplace_back("Kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
  r.machine.emplace_back("Compiler", std::string("g++ ") + __VERSION__);
  r.machine.emplace_back("Flags", RINGBENCH_CXX_FLAGS);
  r.machine.emplace_back("Pinned cores", std::to_string(o.core_a) + " (producers, pinger), " + std::to_string(o.core_b) +
                                             " (consumers, echo)");
  r.machine.emplace_back("TSC", fmt_double(std::round(tsc_per_ns * 1000) / 1000) + " ticks/ns");
  std::string pkgs;
  for (const char* p : {"libboost-dev", "libconcurrentqueue-dev", "libreaderwriterqueue-dev", "libatomic-queue-dev",
                        "libtbb-dev", "libxenium-dev"}) {
    const std::string v = read_first_line(std::string("dpkg-query -W -f='${Version}' ") + p + " 2>/dev/null");
    if (!v.empty()) pkgs += std::string(pkgs.empty() ? "" : ", ") + p + " " + v;
  }
  if (!pkgs.empty()) r.machine.emplace_back("Packages", pkgs);
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a.empty() ? "unknown" : a + " " + b + " " + c;
}

int parent_main(const Options& o, int argc, char** argv) {
  if (o.list) {
    std::cout << "scenarios: spsc batch latency mpsc mpmc sizes wait\ncontenders:\n";
    for (const auto& c : all_contenders()) {
      std::cout << "  " << c.name << "  [" << c.family << ((c.caps & kMultiProducer) ? ", multi-producer" : "")
                << ((c.caps & kMultiConsumer) ? ", multi-consumer" : "") << ((c.caps & kBatch) ? ", batch" : "") << "]\n";
    }
    if (!have_ringkit_mp()) std::cout << "(ringkit MpscQueue/MpmcQueue are not in this tree: their rows are left out)\n";
    return 0;
  }
  const double tsc_per_ns = calibrate_tsc_per_ns();
  Report r;
  r.repeats = o.repeats;
  for (int i = 0; i < argc; ++i) r.command += std::string(i ? " " : "") + argv[i];
  describe_machine(r, o, tsc_per_ns);
  const std::string load_before = loadavg();
  plan(o, tsc_per_ns, r);
  if (r.tables.empty()) bad_usage("no contender matches --contender for the chosen scenarios");
  if (o.quick) r.notes.push_back("--quick: " + std::to_string(o.repeats) +
                                 " repeats of short fixed-size runs (20k items per producer, 1k round trips), no "
                                 "calibration, no redos; a rough picture, not for conclusions");
  if (o.repeats < 5 && !o.quick) r.notes.push_back("only " + std::to_string(o.repeats) + " repeats per cell (fewer than 5)");
  if (!have_ringkit_mp()) {
    r.notes.push_back("ringkit MpscQueue/MpmcQueue are not in this tree yet: the MPSC/MPMC tables have no ringkit rows");
  }
  std::filesystem::create_directories(o.out);

  const std::size_t n = r.cells.size();
  Progress progress(n + n * o.repeats);
  const double target_s = o.target_ms / 1e3;
  Options no_redo = o;  // a calibration run only sizes the cell: no redos
  no_redo.max_redos = 0;
  const std::int64_t wall_start = now_ns();
  // Calibration: one short run per cell sets its item count (unless --items fixed it).
  for (auto& c : r.cells) {
    const Table& t = r.tables[c.table];
    const bool lat = t.kind == TableKind::Latency;
    if (t.kind == TableKind::Idle) {  // a fixed wall-clock window: nothing to calibrate
      c.spec.items = kIdleMs;
      c.expected_s = static_cast<double>(kIdleMs) / 1e3;
      c.timeout_s = c.expected_s + 10;
      progress.shrink(1);
      continue;
    }
    if (o.items) {
      c.spec.items = o.items;
      c.expected_s = 0;
      c.timeout_s = 60;
      progress.shrink(1);
      continue;
    }
    if (o.quick) {  // no calibration pass: fixed, small counts (the report says --quick is rough)
      c.spec.items = c.is_floor() && !lat ? 1'000'000 : (lat ? 1'000 : 20'000);
      c.expected_s = target_s;
      c.timeout_s = 2;
      progress.shrink(1);
      continue;
    }
    const std::uint64_t calib = c.is_floor() && !lat ? 1'000'000 : (lat ? 5'000 : 100'000);
    c.spec.items = calib;
    c.timeout_s = 10;
    c.calibration = run_repeat(c, no_redo, progress, cell_label(c, t) + " calibrate");
    // A calibration run shorter than 50 ms says little (it may have met both cores idle for a moment):
    // grow it, at most twice, so the rate it yields is one the repeats can meet.
    for (int grow = 0; grow < 2 && c.calibration.ok() && c.calibration.seconds < 0.05 && c.spec.items < (std::uint64_t{1} << 28); ++grow) {
      const double factor = std::clamp(0.1 / std::max(c.calibration.seconds, 1e-4), 2.0, 20.0);
      c.spec.items = static_cast<std::uint64_t>(static_cast<double>(c.spec.items) * factor);
      c.calibration = run_repeat(c, no_redo, progress, cell_label(c, t) + " calibrate (longer)");
    }
    progress.done_one();
    if (c.calibration.status == "TIMEOUT") {
      // A queue that cannot move the calibration count in 10 s gets no smaller, incomparable runs: the
      // cell is TIMEOUT at this size.
      RunRecord rec = c.calibration;
      rec.error = "the calibration run (" + std::to_string(c.spec.items) + (lat ? " round trips" : " items per producer") + ") did not finish in 10 s";
      c.runs.push_back(rec);
      c.skipped_rest = true;
      continue;
    }
    const std::uint64_t lo = lat ? 1'000 : 10'000;
    const std::uint64_t hi = lat ? 5'000'000 : (std::uint64_t{1} << 31) / c.spec.producers;
    if (c.calibration.ok() && c.calibration.seconds > 0) {
      const double rate = static_cast<double>(c.spec.items) / c.calibration.seconds;
      c.spec.items = static_cast<std::uint64_t>(std::clamp(rate * target_s, static_cast<double>(lo), static_cast<double>(hi)));
      c.expected_s = static_cast<double>(c.spec.items) / rate;
      c.timeout_s = std::clamp(10 * c.expected_s + 2, 5.0, 20.0);
    } else {
      c.spec.items = lo;  // calibration FAILED / CRASHED / ERROR: the repeats show it again
      c.expected_s = target_s;
      c.timeout_s = 5;
    }
  }
  // The repeats, interleaved: each round visits every cell once, starting at a rotating offset.
  for (unsigned rep = 0; rep < o.repeats; ++rep) {
    const std::size_t offset = n ? (rep * n / o.repeats) % n : 0;
    for (std::size_t k = 0; k < n; ++k) {
      Cell& c = r.cells[(k + offset) % n];
      const Table& t = r.tables[c.table];
      if (c.skipped_rest) {
        progress.shrink(1);
        continue;
      }
      RunRecord rec = run_repeat(c, o, progress,
                                 cell_label(c, t) + " rep " + std::to_string(rep + 1) + "/" + std::to_string(o.repeats));
      progress.done_one();
      c.consecutive_timeouts = rec.status == "TIMEOUT" ? c.consecutive_timeouts + 1 : 0;
      // Do not spend the whole budget on a livelock.
      if (c.consecutive_timeouts >= (o.quick ? 1u : 2u)) c.skipped_rest = true;
      c.runs.push_back(std::move(rec));
    }
  }
  progress.finish();
  r.wall_seconds = static_cast<double>(now_ns() - wall_start) / 1e9;
  r.machine.emplace_back("Load average (1/5/15 min) before / after",
                         load_before + " / " + loadavg() + " (other work on these cores perturbs every number)");

  const std::string md = render_markdown(r);
  std::cout << md << std::flush;
  const std::filesystem::path out(o.out);
  std::ofstream(out / "report.md") << md;
  write_csv(r, (out / "results.csv").string());
  write_json(r, (out / "results.json").string());
  if (!o.csv.empty()) write_csv(r, o.csv);
  if (!o.json.empty()) write_json(r, o.json);
  std::string why;
  std::vector<std::string> plots;
  if (o.plots) {
    plots = write_plots(r, o.out, why);
  } else {
    why = "plots skipped (--no-plots)";
  }
  if (!why.empty()) std::cerr << "ringbench: " << why << "\n";
  write_html(r, (out / "report.html").string(), plots, why);
  std::cerr << "ringbench: report in " << (out / "report.md").string() << ", " << (out / "report.html").string() << "\n";
  return 0;
}

}  // namespace
}  // namespace ringbench

int main(int argc, char** argv) {
  try {
    const ringbench::Options o = ringbench::parse(argc, argv);
    if (o.child) return ringbench::child_main(o);
    return ringbench::parent_main(o, argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ringbench: " << e.what() << "\n";
    return 1;
  }
}
