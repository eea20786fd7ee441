// SPDX-License-Identifier: MIT
// telemetry_crash_demo DIR [--lanes]: four threads log numbered events, the main thread logs "final event", then
// the process raises SIGSEGV. The crash handler writes the flight recorder to DIR/flight-<pid>.ttlog;
// `ttlog-cat` prints it. The sinks get nothing here (no sink is configured and the backend may not
// have run): the dump is the only record, as after a real crash. --lanes: QueueMode::Lanes (the dump is
// read out of the threads' lanes) instead of the default QueueMode::Shared.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "ringkit/telemetry/crash.hpp"
#include "ringkit/telemetry/logger.hpp"

int main(int argc, char** argv) {
  const bool lanes = argc == 3 && std::strcmp(argv[2], "--lanes") == 0;
  if (argc != 2 && !lanes) {
    std::fprintf(stderr, "usage: telemetry_crash_demo DIR [--lanes]\n");
    return 2;
  }
  using namespace ringkit::telemetry;
  try {
    install_crash_handler(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "telemetry_crash_demo: %s\n", e.what());
    return 2;
  }
  LoggerOptions o;
  o.flight_records = 64;
  if (lanes) o.mode = QueueMode::Lanes;
  Logger log(std::move(o));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 100; ++i) RK_LOG_INFO(log, "thread {} event {}", t, i, kv<"worker">(t));
    });
  }
  for (auto& th : threads) th.join();
  RK_LOG_ERROR(log, "final event");
  std::raise(SIGSEGV);
  return 0;  // not reached
}
