// SPDX-License-Identifier: MIT
// The flight recorder: the last records of every thread, dumped on demand (ttlog format, read back
// here with the same parser ttlog-cat uses) and by the crash handler from inside a fatal signal.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/telemetry/crash.hpp"
#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/ttlog.hpp"
#include "support/telemetry_test.hpp"

using namespace ringkit::telemetry;
namespace fs = std::filesystem;

namespace {

struct Dump {
  std::vector<ttlog::Entry> entries;
  int damages = 0;
};

Dump read_dump(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  Dump d;
  ttlog::parse(std::as_bytes(std::span(bytes.data(), bytes.size())), 0, true,
               [&](const ttlog::Entry& e) { d.entries.push_back(e); }, [&](const ttlog::Damage&) { ++d.damages; });
  return d;
}

TEST(FlightRecorder, DumpHoldsTheLastRecordsOfEveryThreadInOrder) {
  ringkit::telemetry::test::ScratchDir dir;
  LoggerOptions o;
  o.flight_records = 16;
  o.level = Level::trace;
  Logger log(std::move(o));
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t) {
    ts.emplace_back([&log, t] {
      for (int i = 0; i < 100; ++i) RK_LOG_DEBUG(log, "thread {} event {} {:.1f}", t, i, i * 0.5, kv<"t">(t));
    });
  }
  for (auto& th : ts) th.join();
  const fs::path f = dir.path() / "dump.ttlog";
  const long n = log.dump_flight_recorder(f);
  EXPECT_EQ(n, 3 * 15);  // the oldest of the 16 slots is skipped (the one a live writer reuses next)
  const Dump d = read_dump(f);
  EXPECT_EQ(d.damages, 0);
  std::map<int, std::vector<int>> per_thread;
  for (const auto& e : d.entries) {
    if (e.kind == ttlog::RecordKind::Note) continue;
    EXPECT_EQ(e.kind, ttlog::RecordKind::RawEvent);
    EXPECT_EQ(e.level, Level::debug);
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(e.message.c_str(), "thread %d event %d", &t, &i), 2) << e.message;
    EXPECT_EQ(e.message, "thread " + std::to_string(t) + " event " + std::to_string(i) + " " +
                             fmt::format("{:.1f}", i * 0.5));
    ASSERT_EQ(e.fields.size(), 1u);
    EXPECT_EQ(e.fields[0].key, "t");
    EXPECT_EQ(e.fields[0].value, std::to_string(t));
    per_thread[t].push_back(i);
  }
  ASSERT_EQ(per_thread.size(), 3u);
  for (const auto& [t, v] : per_thread) {
    ASSERT_EQ(v.size(), 15u);
    for (std::size_t k = 0; k < v.size(); ++k) EXPECT_EQ(v[k], 85 + static_cast<int>(k));
  }
}

TEST(FlightRecorder, LongMessagesAreReassembledInTheDump) {
  ringkit::telemetry::test::ScratchDir dir;
  LoggerOptions o;
  o.flight_records = 64;
  Logger log(std::move(o));
  const std::string s(150, 'w');  // 5 records
  for (int i = 0; i < 20; ++i) RK_LOG_INFO(log, "{} {}", i, s);
  const fs::path f = dir.path() / "dump.ttlog";
  log.dump_flight_recorder(f);
  const Dump d = read_dump(f);
  std::vector<std::string> msgs;
  for (const auto& e : d.entries)
    if (e.kind == ttlog::RecordKind::RawEvent) msgs.push_back(e.message);
  // 63 readable slots hold the last 12 whole messages (63 / 5 = 12.6: the partial 13th is skipped).
  ASSERT_EQ(msgs.size(), 12u);
  for (std::size_t k = 0; k < msgs.size(); ++k) EXPECT_EQ(msgs[k], std::to_string(8 + k) + " " + s);
}

TEST(FlightRecorder, IsOffWhenConfiguredWithZeroRecords) {
  ringkit::telemetry::test::ScratchDir dir;
  LoggerOptions o;
  o.flight_records = 0;
  Logger log(std::move(o));
  RK_LOG_INFO(log, "not recorded");
  EXPECT_EQ(log.dump_flight_recorder(dir.path() / "d.ttlog"), 0);
}

TEST(CrashHandlerDeathTest, AbortDumpsTheFlightRecorderThenDiesOfTheSignal) {
  GTEST_FLAG_SET(death_test_style, "fast");  // fork only: the child writes into this test's ScratchDir
  ringkit::telemetry::test::ScratchDir dir;
  EXPECT_EXIT(
      {
        install_crash_handler(dir.path());
        LoggerOptions o;
        o.flight_records = 32;
        Logger log(std::move(o));
        for (int i = 0; i < 10; ++i) RK_LOG_INFO(log, "before abort {}", i);
        RK_LOG_CRITICAL(log, "last words {}", std::string("goodbye"));
        std::abort();
      },
      ::testing::KilledBySignal(SIGABRT), "");
  std::vector<fs::path> dumps;
  for (const auto& e : fs::directory_iterator(dir.path())) dumps.push_back(e.path());
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(dumps[0].filename().string().rfind("flight-", 0), 0u);
  const Dump d = read_dump(dumps[0]);
  EXPECT_EQ(d.damages, 0);
  ASSERT_GE(d.entries.size(), 12u);
  EXPECT_EQ(d.entries.front().kind, ttlog::RecordKind::Note);
  EXPECT_NE(d.entries.front().message.find("SIGABRT"), std::string::npos) << d.entries.front().message;
  EXPECT_EQ(d.entries.back().message, "last words goodbye");
  EXPECT_EQ(d.entries.back().level, Level::critical);
}

TEST(CrashHandler, RefusesADirectoryThatDoesNotExist) {
  EXPECT_THROW(install_crash_handler("/nonexistent/telemetry-dumps"), std::invalid_argument);
}

}  // namespace
