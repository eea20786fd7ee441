// SPDX-License-Identifier: MIT
// logbench: the ringkit telemetry logger (shared and lanes modes) side by side with spdlog's async logger
// and Boost.Log's asynchronous sink, by the fastest loggers' published method:
//   latency: each thread logs "Logging int: {}, int: {}, double: {}" 20 times in a row, times the 20 calls,
//            records the average per call, waits ~2 ms, repeats; p50/p99/p99.9 over those averages;
//            1 and 4 threads.
//   throughput: N messages from 1 thread into a file, timed until flushed; the same from 4 producers.
//   backend CPU (process CPU minus the producers' own), peak RSS; each run in its own child process
//   (each library alone, or, for latency with --interleave, all of them together).
// Self-check: every throughput run must leave exactly N lines in its file (exit status 1 otherwise).
//
//   --interleave: the latency runs put each ringkit variant in one process with the peers, taking turns
//   burst by burst in a random order.
//
//   logbench [--quick] [--interleave] [--rounds N] [--no-throughput] [--csv FILE] [--dir DIR] [--only LIB]
//   (--help: the options; usage error: exit 2)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/async_frontend.hpp>
#include <boost/log/sinks/bounded_fifo_queue.hpp>
#include <boost/log/sinks/block_on_overflow.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/support/date_time.hpp>
#include <boost/log/trivial.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
#include <boost/smart_ptr/make_shared_object.hpp>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/sinks.hpp"

namespace tel = ringkit::telemetry;
using Clock = std::chrono::steady_clock;

namespace {

// ---- the libraries, behind one interface -------------------------------------------------------------
struct Adapter {
  virtual ~Adapter() = default;
  virtual void log(int a, int b, double c) = 0;
  virtual void flush_and_stop() = 0;  // returns when everything logged is in the file
};

struct RingkitAdapter : Adapter {
  std::unique_ptr<tel::Logger> lg;
  RingkitAdapter(tel::QueueMode mode, const std::string& path, std::size_t flight_records) {
    tel::LoggerOptions o;
    o.mode = mode;
    o.flight_records = flight_records;
    o.capacity = mode == tel::QueueMode::Shared ? (1u << 18) : (1u << 16);
    tel::FileSinkOptions fo;
    fo.path = path;
    fo.buffer_bytes = 256 * 1024;
    o.sinks = {std::make_shared<tel::FileSink>(fo)};
    lg = std::make_unique<tel::Logger>(std::move(o));
  }
  void log(int a, int b, double c) override { RK_LOG_INFO(*lg, "Logging int: {}, int: {}, double: {}", a, b, c); }
  void flush_and_stop() override {
    lg->flush();
    const tel::Metrics m = lg->metrics();
    if (m.dropped + m.lost + m.incomplete != 0) std::fprintf(stderr, "logbench: ringkit lost messages\n");
    lg.reset();
  }
};

struct SpdlogAdapter : Adapter {
  std::shared_ptr<spdlog::logger> lg;
  explicit SpdlogAdapter(const std::string& path) {
    spdlog::init_thread_pool(8192, 1);  // the defaults: 8192-slot queue, one worker, block when full
    lg = spdlog::basic_logger_mt<spdlog::async_factory>("bench", path, true);
    lg->set_pattern("%Y-%m-%dT%H:%M:%S.%FZ %l [%t] %v");
  }
  void log(int a, int b, double c) override { lg->info("Logging int: {}, int: {}, double: {}", a, b, c); }
  void flush_and_stop() override {
    lg.reset();
    spdlog::shutdown();  // drains the queue and joins the worker
  }
};

namespace blog = boost::log;
struct BoostAdapter : Adapter {
  using Sink = blog::sinks::asynchronous_sink<blog::sinks::text_ostream_backend,
                                             blog::sinks::bounded_fifo_queue<8192, blog::sinks::block_on_overflow>>;
  boost::shared_ptr<Sink> sink;
  blog::sources::severity_logger_mt<blog::trivial::severity_level> lg;
  explicit BoostAdapter(const std::string& path) {
    auto backend = boost::make_shared<blog::sinks::text_ostream_backend>();
    backend->add_stream(boost::make_shared<std::ofstream>(path));
    backend->auto_flush(false);
    sink = boost::make_shared<Sink>(backend);
    namespace expr = blog::expressions;
    sink->set_formatter(expr::stream << expr::format_date_time<boost::posix_time::ptime>("TimeStamp", "%Y-%m-%dT%H:%M:%S.%f")
                                     << " " << blog::trivial::severity << " [" << expr::attr<blog::attributes::current_thread_id::value_type>("ThreadID")
                                     << "] " << expr::smessage);
    blog::core::get()->add_sink(sink);
    blog::add_common_attributes();
  }
  void log(int a, int b, double c) override {
    BOOST_LOG_SEV(lg, blog::trivial::info) << "Logging int: " << a << ", int: " << b << ", double: " << c;
  }
  void flush_and_stop() override {
    blog::core::get()->remove_sink(sink);
    sink->stop();
    sink->flush();
    sink.reset();
  }
};

// ringkit_* run with the default flight recorder (LoggerOptions{}.flight_records per thread); *_noflight
// with it off.
const std::vector<std::string> kLibraries = {"ringkit_shared",          "ringkit_lanes",  "ringkit_shared_noflight",
                                             "ringkit_lanes_noflight",  "spdlog_async",   "boost_log_async"};

std::unique_ptr<Adapter> make(const std::string& lib, const std::string& path) {
  const std::size_t flight = tel::LoggerOptions{}.flight_records;
  if (lib == "ringkit_shared") return std::make_unique<RingkitAdapter>(tel::QueueMode::Shared, path, flight);
  if (lib == "ringkit_lanes") return std::make_unique<RingkitAdapter>(tel::QueueMode::Lanes, path, flight);
  if (lib == "ringkit_shared_noflight") return std::make_unique<RingkitAdapter>(tel::QueueMode::Shared, path, 0);
  if (lib == "ringkit_lanes_noflight") return std::make_unique<RingkitAdapter>(tel::QueueMode::Lanes, path, 0);
  if (lib == "spdlog_async") return std::make_unique<SpdlogAdapter>(path);
  return std::make_unique<BoostAdapter>(path);
}

// ---- measurements (in a child process) ---------------------------------------------------------------
double cpu_seconds(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
std::uint64_t count_lines(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::vector<char> buf(1 << 20);
  std::uint64_t n = 0;
  for (std::size_t k; (k = std::fread(buf.data(), 1, buf.size(), f)) > 0;) n += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + k, '\n'));
  std::fclose(f);
  return n;
}

using Results = std::map<std::string, double>;

// Per-call averages of each thread's bursts -> p50/p99/p99.9 (the first 5 bursts per thread dropped as
// warm-up: thread registration, page faults) and whether the file holds every line.
Results latency_summary(const std::vector<std::vector<double>>& per, const std::string& path, int threads, int iterations) {
  std::vector<double> all;
  for (const auto& v : per)
    all.insert(all.end(), v.begin() + std::min<std::ptrdiff_t>(5, static_cast<std::ptrdiff_t>(v.size())), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(q * static_cast<double>(all.size())))]; };
  const std::uint64_t lines = count_lines(path);
  const std::uint64_t expect = static_cast<std::uint64_t>(threads) * static_cast<std::uint64_t>(iterations) * 20u;
  return {{"p50_ns", pct(0.50)}, {"p99_ns", pct(0.99)}, {"p999_ns", pct(0.999)}, {"samples", static_cast<double>(all.size())},
          {"lines_ok", lines == expect ? 1.0 : 0.0}};
}

// One burst: 20 calls, timed together; the average per call.
double burst(Adapter& a, int it) {
  const auto t0 = Clock::now();
  for (int k = 0; k < 20; ++k) a.log(k, it, 0.5 * k);
  const auto t1 = Clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / 20.0;
}

Results run_latency(const std::string& lib, const std::string& path, int threads, int iterations) {
  auto a = make(lib, path);
  std::vector<std::vector<double>> per(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      auto& out = per[static_cast<std::size_t>(t)];
      out.reserve(static_cast<std::size_t>(iterations));
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      for (int it = 0; it < iterations; ++it) {
        out.push_back(burst(*a, it));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  for (auto& th : ts) th.join();
  a->flush_and_stop();
  return latency_summary(per, path, threads, iterations);
}

// --interleave: every library in one process; each thread runs one burst of each library per round, in
// a new (seeded) random order each round, 2 ms between bursts, so that the VM's slow spells (seconds
// long, 2-5x on one binary's p50) fall on every library alike instead of on whichever ran alone in its
// own process at the time. main() passes one ringkit variant per call (see there). Keys: "<library> <metric>".
Results run_latency_interleaved(const std::vector<std::string>& libs, const std::string& path_prefix, int threads,
                                int iterations) {
  const std::size_t n = libs.size();
  std::vector<std::unique_ptr<Adapter>> as;
  for (const auto& lib : libs) {
    std::remove((path_prefix + lib + ".log").c_str());  // a file sink may append: start empty
    as.push_back(make(lib, path_prefix + lib + ".log"));
  }
  // per[lib][thread]
  std::vector<std::vector<std::vector<double>>> per(n, std::vector<std::vector<double>>(static_cast<std::size_t>(threads)));
  std::atomic<int> ready{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (auto& v : per) v[static_cast<std::size_t>(t)].reserve(static_cast<std::size_t>(iterations));
      // A new order every round (seeded: runs repeat), so that no library always follows the same one.
      std::mt19937 rng(1234u + static_cast<unsigned>(t));
      std::vector<std::size_t> order(n);
      for (std::size_t j = 0; j < n; ++j) order[j] = j;
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      for (int it = 0; it < iterations; ++it) {
        std::shuffle(order.begin(), order.end(), rng);
        for (const std::size_t lib : order) {
          per[lib][static_cast<std::size_t>(t)].push_back(burst(*as[lib], it));
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
    });
  }
  for (auto& th : ts) th.join();
  Results out;
  for (std::size_t i = 0; i < n; ++i) {
    as[i]->flush_and_stop();
    const std::string path = path_prefix + libs[i] + ".log";
    for (const auto& [k, v] : latency_summary(per[i], path, threads, iterations)) out[libs[i] + " " + k] = v;
    std::remove(path.c_str());
  }
  return out;
}

Results run_throughput(const std::string& lib, const std::string& path, int threads, std::uint64_t total) {
  auto a = make(lib, path);
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  std::vector<double> producer_cpu(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const double c0 = cpu_seconds(RUSAGE_THREAD);
      const std::uint64_t n = total / static_cast<std::uint64_t>(threads);
      for (std::uint64_t i = 0; i < n; ++i) a->log(static_cast<int>(i), t, 0.25 * static_cast<double>(i));
      producer_cpu[static_cast<std::size_t>(t)] = cpu_seconds(RUSAGE_THREAD) - c0;
    });
  }
  for (auto& th : ts) th.join();
  a->flush_and_stop();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double prod = 0;
  for (double c : producer_cpu) prod += c;
  const double backend = cpu_seconds(RUSAGE_SELF) - cpu0 - prod;
  const std::uint64_t lines = count_lines(path);
  return {{"msgs_per_s", static_cast<double>(total) / secs},
          {"seconds", secs},
          {"backend_cpu_s", backend},
          {"producer_cpu_s", prod},
          {"peak_rss_mb", static_cast<double>(peak_rss_kb()) / 1024.0},
          {"lines_ok", lines == total ? 1.0 : 0.0}};
}

Results run_memory() {
  auto rss_kb = [] {
    std::ifstream s("/proc/self/statm");
    long pages = 0, resident = 0;
    s >> pages >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
  };
  Results r;
  const long before = rss_kb();
  {
    tel::LoggerOptions o;
    o.capacity = std::size_t{1} << 20;
    o.flight_records = 0;
    tel::Logger lg(std::move(o));
    RK_LOG_INFO(lg, "touch {}", 1);
    lg.flush();
    r["shared_1m_rss_mb"] = static_cast<double>(rss_kb() - before) / 1024.0;
  }
  r["record_bytes"] = sizeof(tel::Record);
  // Lanes: a 1M-event lane (capacity 2^20: 24 MiB) filled with the benchmark's message while the
  // backend is held inside the sink, so the lane really holds them; then one more must be refused.
  struct GateSink : tel::Sink {
    std::atomic<bool> held{false}, open{false};
    void write(const tel::Event&) override {
      held.store(true);
      while (!open.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    void flush() override {}
  };
  {
    const long before_lanes = rss_kb();
    auto gate = std::make_shared<GateSink>();
    tel::LoggerOptions o;
    o.mode = tel::QueueMode::Lanes;
    o.overflow = ringkit::Overflow::DropNewest;
    o.capacity = std::size_t{1} << 20;
    o.sinks = {gate};
    tel::Logger lg(std::move(o));
    RK_LOG_INFO(lg, "hold {}", 0);
    while (!gate->held.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    const std::uint64_t n = std::uint64_t{1} << 20;
    for (std::uint64_t i = 0; i < n + 1; ++i)
      RK_LOG_INFO(lg, "Logging int: {}, int: {}, double: {}", static_cast<int>(i), 1, 0.5);
    const tel::Metrics m = lg.metrics();
    r["lanes_1m_rss_mb"] = static_cast<double>(rss_kb() - before_lanes) / 1024.0;
    r["lanes_1m_held"] = static_cast<double>(n + 1 - m.dropped);
    gate->open.store(true);
  }
  return r;
}

// Runs fn in a child process; the child writes "key value" lines to a pipe.
Results in_child(const std::function<Results()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const Results r = fn();
    std::string s;
    for (const auto& [k, v] : r) s += k + " " + std::to_string(v) + "\n";
    (void)!write(fds[1], s.data(), s.size());
    _exit(0);
  }
  close(fds[1]);
  std::string s;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Results r;
  std::size_t pos = 0;
  while (pos < s.size()) {  // "key value\n" lines; a key may contain spaces ("<library> <metric>")
    const std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) break;  // a cut-off last line (the child died while writing)
    const std::string line = s.substr(pos, nl - pos);
    const std::size_t sp = line.rfind(' ');
    if (sp != std::string::npos) {
      char* end = nullptr;
      const double v = std::strtod(line.c_str() + sp + 1, &end);
      if (end != line.c_str() + sp + 1) r[line.substr(0, sp)] = v;
    }
    pos = nl + 1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      std::printf("CHILD FAILED: killed by signal %d\n", WTERMSIG(status));
    else
      std::printf("CHILD FAILED: exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    r["child_failed"] = 1;
  }
  return r;
}

void clock_costs() {
  constexpr int n = 2'000'000;
  auto time = [&](const char* name, auto&& fn) {
    std::uint64_t sink = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) sink += fn();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
    std::printf("  %-34s %6.1f ns/call%s\n", name, ns, sink == 1 ? " " : "");
  };
  std::printf("clock read cost (%d calls each):\n", n);
  time("rdtsc", [] { return tel::read_tsc(); });
  time("clock_gettime(CLOCK_REALTIME)", [] { return tel::realtime_ns(); });
  time("clock_gettime(CLOCK_MONOTONIC)", [] {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_nsec);
  });
  time("std::chrono::steady_clock::now()", [] { return static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()); });
  std::printf("  invariant TSC: %s; clocksource: ", tel::tsc_is_invariant() ? "yes" : "no");
  std::ifstream cs("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string src;
  cs >> src;
  std::printf("%s\n", src.c_str());
}

// Writes the CSV rows (if a file was asked for); false (with a message) if it cannot.
bool write_csv(const std::string& csv, const std::vector<std::string>& rows) {
  if (csv.empty()) return true;
  std::FILE* f = std::fopen(csv.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "logbench: cannot write %s: %s\n", csv.c_str(), std::strerror(errno));
    return false;
  }
  std::fputs("library,threads,metric,value\n", f);
  for (const auto& r : rows) std::fprintf(f, "%s\n", r.c_str());
  if (std::fclose(f) != 0) {
    std::fprintf(stderr, "logbench: cannot write %s: %s\n", csv.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, interleave = false, no_throughput = false;
  int rounds = 0;
  std::string csv, dir = "/tmp", only;
  // The command line (CLI11). --help prints it and exits 0; a usage error prints why and exits 2.
  CLI::App app{"The ringkit telemetry logger (shared and lanes modes) against spdlog's async logger and\n"
               "Boost.Log's asynchronous sink: latency, throughput, backend CPU, memory. Tables to stdout;\n"
               "exit status 1 if a run's self-check (every line written) fails.",
               "logbench"};
  app.add_flag("--quick", quick, "fewer iterations and messages: a rough picture in a short run");
  app.add_option("--csv", csv, "also write the results as CSV (library,threads,metric,value) to FILE")
      ->option_text("FILE");
  app.add_option("--dir", dir, "directory for the benchmark's log files (default /tmp)")->option_text("DIR");
  app.add_option("--only", only, "run only this library")->option_text("LIB")->check(CLI::IsMember(kLibraries));
  app.add_flag("--interleave", interleave,
               "latency: each ringkit variant in one process with the peers, one burst each per round in a "
               "random order (the VM's slow spells fall on all of them alike; the ratios hold across them)");
  app.add_option("--rounds", rounds, "latency: bursts per thread (default 1500, --quick 300)")
      ->option_text("N")->check(CLI::Range(6, 1000000));
  app.add_flag("--no-throughput", no_throughput, "latency only: skip the throughput and memory runs");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: stdout, 0; a usage error: stderr, 2
  }
  const int iterations = rounds > 0 ? rounds : quick ? 300 : 1500;
  const std::uint64_t msgs = quick ? 500'000 : 4'000'000;
  // Boost.Log formats on the caller's thread and runs at ~0.1M msgs/s here: capped so a run stays short.
  const std::uint64_t boost_msgs = std::min<std::uint64_t>(msgs, quick ? 200'000 : 1'000'000);
  std::printf("logbench%s%s: %u CPUs; latency: %d x 20 calls per thread (2 ms apart%s); throughput: %s; "
              "ringkit flight recorder: %zu records per thread\n",
              quick ? " --quick" : "", interleave ? " --interleave" : "", std::thread::hardware_concurrency(), iterations,
              interleave ? ", every library in one process, one burst each per round in a random order; one pass per ringkit variant with the peers"
                         : ", each library in its own process",
              no_throughput ? "not run" : (std::to_string(msgs) + " messages").c_str(), tel::LoggerOptions{}.flight_records);
  if (std::thread::hardware_concurrency() < 5)
    std::printf("note: 4 producer threads + 1 backend oversubscribe these %u CPUs\n", std::thread::hardware_concurrency());
  clock_costs();

  std::vector<std::string> rows;
  bool ok = true;
  auto row = [&](const std::string& lib, int threads, const char* metric, double v) {
    rows.push_back(lib + "," + std::to_string(threads) + "," + metric + "," + fmt::format("{:.1f}", v));
  };
  std::printf("\n%-24s %3s %10s %10s %10s\n", "latency (ns per call)", "thr", "p50_ns", "p99_ns", "p99.9_ns");
  std::vector<std::string> libs;
  for (const auto& lib : kLibraries)
    if (only.empty() || lib == only) libs.push_back(lib);
  std::map<std::pair<std::string, int>, Results> lat;  // (library, threads) -> p50_ns, p99_ns, p999_ns, lines_ok
  std::map<std::pair<std::string, int>, Results> pass_spdlog;  // --interleave: spdlog in a ringkit row's pass
  for (int threads : {1, 4}) {
    if (interleave) {
      // One pass per ringkit variant, each with the peers: the ringkit variants share code, the call
      // site and the thread's slots, so one of them running just before another would warm it (in a
      // first cut with all six in one pass, Lanes' p50 moved from 73-115 to 29-46 ns between two
      // orders of the same libraries). A peer's figures are the median over the passes; a ringkit
      // row's ratio uses the peer's figures from its own pass.
      std::vector<std::string> peers, variants;
      for (const auto& lib : libs) (lib.rfind("ringkit", 0) == 0 ? variants : peers).push_back(lib);
      std::vector<std::vector<std::string>> passes;
      if (variants.empty()) passes.push_back(peers);
      for (const auto& v : variants) {
        passes.push_back({v});
        passes.back().insert(passes.back().end(), peers.begin(), peers.end());
      }
      std::map<std::string, std::vector<Results>> peer_runs;
      const std::string prefix = dir + "/logbench-" + std::to_string(getpid()) + "-";
      for (const auto& pass : passes) {
        Results r = in_child([&] { return run_latency_interleaved(pass, prefix, threads, iterations); });
        for (const auto& lib : pass) {
          Results one;
          for (const char* k : {"p50_ns", "p99_ns", "p999_ns", "lines_ok"}) one[k] = r[lib + " " + k];
          one["child_failed"] = r["child_failed"];
          std::remove((prefix + lib + ".log").c_str());  // the child removes them, unless it died
          if (lib.rfind("ringkit", 0) == 0) {
            lat[{lib, threads}] = one;
            if (r.count("spdlog_async p50_ns") != 0) {
              pass_spdlog[{lib, threads}] = {{"p50_ns", r["spdlog_async p50_ns"]}, {"p99_ns", r["spdlog_async p99_ns"]},
                                             {"child_failed", r["child_failed"]}};
            }
          } else {
            peer_runs[lib].push_back(one);
          }
        }
      }
      for (auto& [lib, runs] : peer_runs) {
        Results& agg = lat[{lib, threads}];
        for (const char* k : {"p50_ns", "p99_ns", "p999_ns"}) {
          std::vector<double> v;
          for (auto& x : runs) v.push_back(x[k]);
          std::sort(v.begin(), v.end());
          agg[k] = v[v.size() / 2];
        }
        agg["lines_ok"] = 1;
        agg["child_failed"] = 0;
        for (auto& x : runs) {
          agg["lines_ok"] = std::min(agg["lines_ok"], x["lines_ok"]);
          agg["child_failed"] = std::max(agg["child_failed"], x["child_failed"]);
        }
      }
    } else {
      for (const auto& lib : libs) {
        const std::string path = dir + "/logbench-" + lib + "-" + std::to_string(getpid()) + ".log";
        lat[{lib, threads}] = in_child([&] { return run_latency(lib, path, threads, iterations); });
        std::remove(path.c_str());
      }
    }
    for (const auto& lib : libs) {
      Results& r = lat[{lib, threads}];
      if (r["child_failed"] != 0) {  // no figures: nothing printed or written as data
        ok = false;
        std::printf("%-24s %3d FAILED (its process did not finish; see above)\n", lib.c_str(), threads);
        continue;
      }
      if (r["lines_ok"] != 1.0) {
        ok = false;
        std::printf("SELF-CHECK FAILED: %s latency run did not write every line\n", lib.c_str());
      }
      std::printf("%-24s %3d %10.1f %10.1f %10.1f\n", lib.c_str(), threads, r["p50_ns"], r["p99_ns"], r["p999_ns"]);
      row(lib, threads, "p50_ns", r["p50_ns"]);
      row(lib, threads, "p99_ns", r["p99_ns"]);
      row(lib, threads, "p999_ns", r["p999_ns"]);
    }
  }
  // The targets are ratios to spdlog's async logger: print them (same run; with --interleave,
  // the same process and rounds: the ringkit row's pass).
  const bool any_ringkit =
      std::any_of(libs.begin(), libs.end(), [](const std::string& l) { return l.rfind("ringkit", 0) == 0; });
  if (any_ringkit && std::find(libs.begin(), libs.end(), "spdlog_async") != libs.end()) {
    std::printf("\n%-24s %3s %12s %12s\n", "spdlog_async / library", "thr", "p50 ratio", "p99 ratio");
    for (int threads : {1, 4})
      for (const auto& lib : libs) {
        if (lib.rfind("ringkit", 0) != 0) continue;
        Results& r = lat[{lib, threads}];
        Results& sp = interleave ? pass_spdlog[{lib, threads}] : lat[{"spdlog_async", threads}];
        if (r["child_failed"] != 0 || sp["child_failed"] != 0) continue;
        std::printf("%-24s %3d %11.1fx %11.1fx\n", lib.c_str(), threads, r["p50_ns"] > 0 ? sp["p50_ns"] / r["p50_ns"] : 0.0,
                    r["p99_ns"] > 0 ? sp["p99_ns"] / r["p99_ns"] : 0.0);
      }
  }
  if (no_throughput) {
    if (!write_csv(csv, rows)) return 2;
    return ok ? 0 : 1;
  }
  std::printf("\n%-24s %3s %12s %9s %12s %12s %10s\n", "throughput (until flushed)", "thr", "msgs_per_s", "seconds", "backend_cpu",
              "producer_cpu", "peak_rss");
  for (int threads : {1, 4}) {
    for (const auto& lib : kLibraries) {
      if (!only.empty() && lib != only) continue;
      const std::string path = dir + "/logbench-" + lib + "-" + std::to_string(getpid()) + ".log";
      const std::uint64_t n = lib.rfind("boost", 0) == 0 ? boost_msgs : msgs;
      Results r = in_child([&] { return run_throughput(lib, path, threads, n); });
      std::remove(path.c_str());
      if (r["child_failed"] != 0) {
        ok = false;
        std::printf("%-24s %3d FAILED (its process did not finish; see above)\n", lib.c_str(), threads);
        continue;
      }
      if (r["lines_ok"] != 1.0) {
        ok = false;
        std::printf("SELF-CHECK FAILED: %s throughput run did not write every line\n", lib.c_str());
      }
      std::printf("%-24s %3d %12.0f %9.2f %10.2f s %10.2f s %7.1f MB\n", lib.c_str(), threads, r["msgs_per_s"],
                  r["seconds"], r["backend_cpu_s"], r["producer_cpu_s"], r["peak_rss_mb"]);
      row(lib, threads, "msgs_per_s", r["msgs_per_s"]);
    }
  }
  if (only.empty() || only.rfind("ringkit", 0) == 0) {
    Results m = in_child(run_memory);
    if (m["child_failed"] != 0) {
      std::printf("\nmemory: FAILED (its process did not finish; see above)\n");
      if (!write_csv(csv, rows)) return 2;
      return 1;
    }
    std::printf("\nmemory: a shared logger with a 1M-record ring (64-byte records, flight recorder off): +%.1f MB RSS\n",
                m["shared_1m_rss_mb"]);
    // The message's arguments are 16 bytes (int, int, double); a lane record adds an 8-byte header
    // (48 bits of timestamp, a 16-bit call-site id; the length is the site's).
    std::printf("memory: a lanes logger, capacity 2^20 (one 24 MiB lane), holding %.0f benchmark messages while the\n"
                "        backend is held: +%.1f MB RSS = %.1f bytes per event (16 of them the arguments: %.1f MB beyond\n"
                "        the arguments per 1M events)\n",
                m["lanes_1m_held"], m["lanes_1m_rss_mb"], m["lanes_1m_rss_mb"] * 1048576.0 / m["lanes_1m_held"],
                (m["lanes_1m_rss_mb"] * 1048576.0 / m["lanes_1m_held"] - 16.0));
    row("ringkit_lanes", 1, "rss_mb_per_1m_events", m["lanes_1m_rss_mb"] * 1048576.0 / m["lanes_1m_held"]);
    row("ringkit_shared", 1, "rss_mb_per_1m_events", m["shared_1m_rss_mb"]);
  }
  if (!write_csv(csv, rows)) return 2;
  return ok ? 0 : 1;
}
