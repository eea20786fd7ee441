// SPDX-License-Identifier: MIT
// lane_call_cost: the cost of one Lanes-mode log call, for instruction counting under valgrind.
//   valgrind --tool=callgrind --callgrind-out-file=cg.out build/bin/lane_call_cost [calls] [l|r|s]
//   callgrind_annotate cg.out | grep one_call     -> Ir of one_call / calls = instructions per call
// Without valgrind it prints the warm-loop time per call (1,000-call batches, median) as well.
// l: Lanes mode (the default), r: Lanes with TimestampSource::Realtime (the vDSO clock), s: Shared mode,
// b: Lanes in bursts of 20 calls with an 8 MiB sweep between bursts (logbench's cold start, for
//    valgrind --tool=callgrind --cache-sim=yes: cache misses per call).
// w: logbench's latency loop in one thread (20 timed calls, a 2 ms wait, repeated `calls / 20` times;
//    p50/p99 of the 20-call averages), to take the burst cost apart. Optional further arguments:
//    IDLE_US: the backend's idle sleep (default the logger's default); WAIT: `sleep` (default, as
//    logbench) or `spin` (busy-wait the 2 ms: the producer's core stays awake and its caches warm);
//    PIN: `cross` (the backend on CPU 1, this thread on CPU 0: every burst crosses cores), `same`
//    (both on CPU 0), or none (the scheduler decides, as in logbench).
// h: huge pages against 4 KiB pages in one process: two Lanes loggers that differ only in
//    LoggerOptions::lane_huge_pages, this thread alternating 20-call bursts between them (2 ms sleep
//    before each, which logger goes first alternates), so both see the same machine state; `calls`
//    counts each logger's calls. Prints p50/p90/p99 per call for each and the process's AnonHugePages.
// The message is logbench's: "Logging int: {}, int: {}, double: {}" with int, int, double.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "ringkit/telemetry/logger.hpp"

namespace tel = ringkit::telemetry;

[[gnu::noinline]] void one_call(tel::Logger& lg, int i, double d) {
  RK_LOG_INFO(lg, "Logging int: {}, int: {}, double: {}", i, i + 1, d);
}

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 20000;
  const char mode = argc > 2 ? argv[2][0] : 'l';
  const bool shared = mode == 's';
  tel::LoggerOptions o;
  o.mode = shared ? tel::QueueMode::Shared : tel::QueueMode::Lanes;
  if (mode == 'r') o.timestamps = tel::TimestampSource::Realtime;
  if (mode == 'w') {
    if (argc > 3) o.backend_idle_sleep = std::chrono::microseconds(std::atol(argv[3]));
    const bool spin = argc > 4 && argv[4][0] == 's' && argv[4][1] == 'p';
    const char pin = argc > 5 ? argv[5][0] : 'n';
    auto pin_to = [](int cpu) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("sched_setaffinity");
    };
    if (pin == 'c') pin_to(1);  // the backend thread inherits this affinity
    if (pin == 's') pin_to(0);
    tel::Logger wlg(std::move(o));
    if (pin == 'c') pin_to(0);
    one_call(wlg, 0, 0.5);
    wlg.flush();
    std::vector<double> avg;
    for (long done = 0; done < calls; done += 20) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < 20; ++k) one_call(wlg, static_cast<int>(done + k), 0.25);
      const auto t1 = std::chrono::steady_clock::now();
      avg.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / 20.0);
      if (spin) {
        const auto until = t1 + std::chrono::milliseconds(2);
        while (std::chrono::steady_clock::now() < until) {
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    avg.erase(avg.begin(), avg.begin() + std::min<long>(5, static_cast<long>(avg.size())));
    std::sort(avg.begin(), avg.end());
    const tel::Metrics m = wlg.metrics();
    std::printf("bursts (%s, pin %c, idle sleep %lld us): %zu bursts, p50 %.1f ns, p99 %.1f ns per call; in flight %llu\n",
                spin ? "spin" : "sleep", pin, static_cast<long long>(wlg.options().backend_idle_sleep.count()), avg.size(),
                avg[avg.size() / 2], avg[avg.size() * 99 / 100], static_cast<unsigned long long>(m.in_flight));
    return 0;
  }
  if (mode == 'h') {
    std::unique_ptr<tel::Logger> lgs[2];
    for (int i = 0; i < 2; ++i) {
      tel::LoggerOptions ho;
      ho.mode = tel::QueueMode::Lanes;
      ho.lane_huge_pages = i == 1;
      lgs[i] = std::make_unique<tel::Logger>(std::move(ho));
      one_call(*lgs[i], 0, 0.5);  // this thread's lane in each logger is built now
      lgs[i]->flush();
    }
    std::vector<double> avg[2];
    for (long done = 0; done < calls; done += 20) {
      for (int j = 0; j < 2; ++j) {
        const int i = (j + static_cast<int>(done / 20)) & 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < 20; ++k) one_call(*lgs[i], static_cast<int>(done + k), 0.25);
        const auto t1 = std::chrono::steady_clock::now();
        avg[i].push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / 20.0);
      }
    }
    long huge_kb = -1;
    if (std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r")) {
      char line[256];
      while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "AnonHugePages: %ld kB", &huge_kb) == 1) break;
      std::fclose(f);
    }
    const char* names[2] = {"4 KiB pages", "huge pages"};
    for (int i = 0; i < 2; ++i) {
      auto& v = avg[i];
      v.erase(v.begin(), v.begin() + std::min<long>(5, static_cast<long>(v.size())));
      std::sort(v.begin(), v.end());
      std::printf("%-12s (lane on huge pages advised: %s): %zu bursts, p50 %.1f p90 %.1f p99 %.1f ns per call\n", names[i],
                  lgs[i]->producer()->lane_ring.huge_pages_advised() ? "yes" : "no", v.size(), v[v.size() / 2],
                  v[v.size() * 9 / 10], v[v.size() * 99 / 100]);
    }
    std::printf("AnonHugePages of the process: %ld kB\n", huge_kb);
    return 0;
  }
  if (mode == 'b') {
    tel::Logger blg(std::move(o));
    one_call(blg, 0, 0.5);
    blg.flush();
    std::vector<unsigned char> sweep(std::size_t{8} << 20);
    for (long done = 0; done < calls; done += 20) {
      for (int k = 0; k < 20; ++k) one_call(blg, static_cast<int>(done + k), 0.25);
      for (std::size_t i = 0; i < sweep.size(); i += 64) sweep[i] = static_cast<unsigned char>(sweep[i] + 1);
      if (done % 20000 == 0) blg.flush();
    }
    std::printf("bursts: %ld calls (%u)\n", calls, static_cast<unsigned>(sweep[64]));
    return 0;
  }
  o.capacity = std::size_t{1} << 16;  // no sink: the backend only decodes
  tel::Logger lg(std::move(o));
  one_call(lg, 0, 0.5);  // registration outside the counted calls' steady state
  lg.flush();
  std::vector<double> per_call;
  for (long done = 0; done < calls;) {
    const long batch = std::min(1000L, calls - done);
    const auto t0 = std::chrono::steady_clock::now();
    for (long k = 0; k < batch; ++k) one_call(lg, static_cast<int>(done + k), 0.25);
    const auto t1 = std::chrono::steady_clock::now();
    per_call.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(batch));
    done += batch;
    lg.flush();  // the lane never fills: each batch starts with the backend caught up
  }
  std::nth_element(per_call.begin(), per_call.begin() + static_cast<long>(per_call.size() / 2), per_call.end());
  std::printf("%s: %ld calls, median %.1f ns per call (1,000-call batches)\n",
              shared ? "shared" : mode == 'r' ? "lanes, realtime clock" : "lanes", calls + 1,
              per_call[per_call.size() / 2]);
  return 0;
}
