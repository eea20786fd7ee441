// SPDX-License-Identifier: MIT
// Metrics: readable in-process (events/s, high-water mark, backend lag, drops) and logged periodically
// by the logger itself as a structured event.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>

#include "ringkit/telemetry/logger.hpp"
#include "support/capture_sink.hpp"

using namespace ringkit::telemetry;
using ringkit::telemetry::test::CaptureSink;

namespace {

TEST(Metrics, CountRateHighWaterAndLag) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.sinks = {sink};
  o.capacity = 1024;
  Logger log(std::move(o));
  // A burst while the backend is held: the high-water mark sees it.
  sink->close_gate();
  RK_LOG_INFO(log, "hold");
  sink->wait_entered();
  for (int i = 0; i < 500; ++i) RK_LOG_INFO(log, "burst {}", i);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sink->open_gate();
  // Then ~1.2 s of steady logging, so the per-second rate has a full window.
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  int n = 0;
  while (std::chrono::steady_clock::now() < end) {
    RK_LOG_INFO(log, "steady {}", n++);
    if (n % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  log.flush();
  const Metrics m = log.metrics();
  EXPECT_EQ(m.logged, 501u + static_cast<std::uint64_t>(n));
  EXPECT_EQ(m.delivered, m.logged);
  EXPECT_GE(m.queue_high_water, 256u);  // sampled every 64th position: at least most of the 500
  EXPECT_LE(m.queue_high_water, 1024u);
  EXPECT_GT(m.events_per_s, 0.0);
  EXPECT_GE(m.max_backend_lag_ns, 5'000'000u);  // the burst waited >= 5 ms behind the gate
  EXPECT_EQ(m.in_flight, 0u);
}

TEST(Metrics, TheLoggerLogsItsOwnMetricsPeriodically) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.sinks = {sink};
  o.metrics_interval = std::chrono::milliseconds(50);
  Logger log(std::move(o));
  for (int i = 0; i < 10; ++i) RK_LOG_INFO(log, "e {}", i);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  log.flush();
  int reports = 0;
  for (const auto& e : sink->events()) {
    if (e.message != "telemetry metrics") continue;
    ++reports;
    std::map<std::string, std::string> f(e.fields.begin(), e.fields.end());
    for (const char* key : {"logged", "delivered", "dropped", "lost", "evicted_records", "spilled_records",
                            "queue_high_water", "backend_lag_ns", "events_per_s", "sink_errors"}) {
      EXPECT_TRUE(f.count(key)) << key;
    }
    if (reports > 1) {
      EXPECT_EQ(f["logged"], "10");
    }
  }
  EXPECT_GE(reports, 2);
}

TEST(Metrics, LanesModeReportsItsHighWaterMark) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.mode = QueueMode::Lanes;
  o.sinks = {sink};
  o.capacity = 256;
  Logger log(std::move(o));
  sink->close_gate();
  RK_LOG_INFO(log, "hold");
  sink->wait_entered();
  for (int i = 0; i < 100; ++i) RK_LOG_INFO(log, "burst {}", i);
  sink->open_gate();
  log.flush();
  const Metrics m = log.metrics();
  EXPECT_GE(m.queue_high_water, 1u);
  EXPECT_LE(m.queue_high_water, 256u);
  EXPECT_EQ(m.delivered, 101u);
}

}  // namespace
