// SPDX-License-Identifier: MIT
// The hot path and the backend: formatting on the backend, structured fields, level filters, long
// strings, zero allocation per call, exactly-once delivery from many threads in both queue modes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/alloc_counter.hpp"
#include "ringkit/telemetry/logger.hpp"
#include "support/capture_sink.hpp"
#include "support/telemetry_test.hpp"

using namespace ringkit::telemetry;
using namespace ringkit::telemetry::literals;
using ringkit::telemetry::test::CaptureSink;

namespace {

struct Point {  // a user type: trivially copyable, with a formatter
  int x, y;
};

}  // namespace

template <>
struct fmt::formatter<Point> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  auto format(const Point& p, fmt::format_context& ctx) const { return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y); }
};

namespace {

LoggerOptions opts(std::shared_ptr<CaptureSink> sink, QueueMode mode = QueueMode::Shared) {
  LoggerOptions o;
  o.mode = mode;
  o.level = Level::trace;
  o.capacity = 1024;
  o.sinks = {std::move(sink)};
  return o;
}

class LogCall : public ::testing::TestWithParam<QueueMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, LogCall, ::testing::Values(QueueMode::Shared, QueueMode::Lanes),
                         [](const auto& p) { return p.param == QueueMode::Shared ? "Shared" : "Lanes"; });

TEST_P(LogCall, BackendFormatsTheArgumentsTheCallerCopied) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, GetParam()));
  std::string s = "owned string";
  RK_LOG_INFO(log, "Logging int: {}, int: {}, double: {}", 1, -2, 3.5);
  RK_LOG_INFO(log, "strings: {} {} {}", s, std::string_view("view"), "literal");
  RK_LOG_WARN(log, "{:>6}|{:x}|{:.2f}|{}|{}", 42u, 255, 2.0 / 3, true, 'c');
  RK_LOG_ERROR(log, "user type {}", Point{3, 4});
  RK_LOG_INFO(log, "no arguments");
  s = "changed after the call";  // the record holds a copy
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0], "Logging int: 1, int: -2, double: 3.5");
  EXPECT_EQ(m[1], "strings: owned string view literal");
  EXPECT_EQ(m[2], "    42|ff|0.67|true|c");
  EXPECT_EQ(m[3], "user type (3, 4)");
  EXPECT_EQ(m[4], "no arguments");
  EXPECT_EQ(sink->events()[2].level, Level::warn);
}

TEST_P(LogCall, StructuredFieldsArriveAsKeyValuePairs) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, GetParam()));
  std::string venue = "XNAS";
  RK_LOG_INFO(log, "order {} filled", 7, kv<"venue">(venue), kv<"qty">(100), "px"_kv = 12.5);
  log.flush();
  const auto e = sink->events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "order 7 filled");
  ASSERT_EQ(e[0].fields.size(), 3u);
  EXPECT_EQ(e[0].fields[0], (std::pair<std::string, std::string>("venue", "XNAS")));
  EXPECT_EQ(e[0].fields[1], (std::pair<std::string, std::string>("qty", "100")));
  EXPECT_EQ(e[0].fields[2], (std::pair<std::string, std::string>("px", "12.5")));
  EXPECT_FALSE(e[0].numeric[0]);
  EXPECT_TRUE(e[0].numeric[1]);
  EXPECT_TRUE(e[0].numeric[2]);
}

TEST_P(LogCall, RuntimeLevelFilterSkipsTheCallAndItsArguments) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, GetParam()));
  log.set_level(Level::warn);
  int evaluated = 0;
  auto arg = [&] { return ++evaluated; };
  RK_LOG_INFO(log, "hidden {}", arg());
  RK_LOG_DEBUG(log, "hidden {}", arg());
  RK_LOG_WARN(log, "shown {}", arg());
  log.set_level(Level::trace);
  RK_LOG_TRACE(log, "shown {}", arg());
  log.flush();
  EXPECT_EQ(evaluated, 2);
  EXPECT_EQ(sink->messages(), (std::vector<std::string>{"shown 1", "shown 2"}));
  EXPECT_EQ(log.metrics().logged, 2u);
}

TEST_P(LogCall, LongStringsSpanRecordsAndArriveWhole) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, GetParam()));
  const std::string big(3000, 'x');
  std::string mixed;
  for (int i = 0; i < 500; ++i) mixed += static_cast<char>('a' + i % 26);
  RK_LOG_INFO(log, "{}|{}|{}", 1, big, mixed);
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "1|" + big + "|" + mixed);
  EXPECT_EQ(log.metrics().truncated, 0u);
}

TEST_P(LogCall, AStringLongerThanTheMaximumIsCutAndCounted) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, GetParam()));
  const std::string huge(kMaxPayload + 100, 'y');
  RK_LOG_INFO(log, "{} {}", 5, huge);
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 1u);
  // The int (4 bytes) and the string's length (4 bytes) leave kMaxPayload - 8 bytes for the string.
  EXPECT_EQ(m[0], "5 " + std::string(kMaxPayload - 8, 'y') + " [truncated]");
  EXPECT_EQ(log.metrics().truncated, 1u);
  EXPECT_EQ(log.metrics().delivered, 1u);
}

TEST_P(LogCall, ALogCallAllocatesNothing) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o = opts(sink, GetParam());
  o.sinks.clear();  // the capture sink allocates on the backend thread; count only the caller
  o.capacity = 1 << 14;
  Logger log(std::move(o));
  const std::string s(200, 's');  // a multi-record message too
  RK_LOG_INFO(log, "warm-up registers this thread {}", 1);  // the first call per thread allocates its slot
  RK_LOG_INFO(log, "warm-up multi-record {}", s);
  log.flush();
  // The counter is process-wide: the backend (no sinks here) has grown its buffers during the
  // warm-up and allocates nothing per message after that, so what is counted is the caller's.
  ringkit::AllocationCounter counter;
  for (int i = 0; i < 1000; ++i) {
    RK_LOG_INFO(log, "Logging int: {}, int: {}, double: {}", i, i + 1, 0.5 * i);
    if (i % 100 == 0) RK_LOG_INFO(log, "str {} {}", s, std::string_view("v"), kv<"k">(i));
  }
  const long allocs = counter.allocations();
  log.flush();
  EXPECT_EQ(allocs, 0) << "log calls allocated";
  EXPECT_EQ(log.metrics().delivered, 1012u);
}

// A thread caches its producer per logger in 4 TLS slots (logger id mod 4): two live loggers whose ids
// differ by 4 evict each other on every alternate call. Each such call finds the thread's producer again
// and must not register the thread anew (an exit-list entry per call: unbounded growth, allocations).
TEST_P(LogCall, LoggersSharingAThreadCacheSlotAllocateNothingPerCall) {
  std::vector<std::unique_ptr<Logger>> logs;
  for (int i = 0; i < 5; ++i) {
    LoggerOptions o = opts(std::make_shared<CaptureSink>(), GetParam());
    o.sinks.clear();  // count only the caller's allocations
    logs.push_back(std::make_unique<Logger>(std::move(o)));
  }
  Logger* a = nullptr;
  Logger* b = nullptr;
  for (auto& x : logs)
    for (auto& y : logs)
      if (x != y && (x->id() & 3) == (y->id() & 3)) a = x.get(), b = y.get();
  ASSERT_NE(a, nullptr) << "5 loggers with consecutive ids: two share a slot";
  RK_LOG_INFO(*a, "warm-up {}", 1);  // registers this thread with each logger (allocates)
  RK_LOG_INFO(*b, "warm-up {}", 2);
  a->flush();
  b->flush();
  ringkit::AllocationCounter counter;
  for (int i = 0; i < 1000; ++i) {
    RK_LOG_INFO(*a, "Logging int: {}, int: {}, double: {}", i, i + 1, 0.5 * i);
    RK_LOG_INFO(*b, "Logging int: {}, int: {}, double: {}", i, i + 1, 0.5 * i);
  }
  const long allocs = counter.allocations();
  a->flush();
  b->flush();
  EXPECT_EQ(allocs, 0) << "alternating loggers that share a TLS slot allocated";
  EXPECT_EQ(a->metrics().delivered, 1001u);
  EXPECT_EQ(b->metrics().delivered, 1001u);
}

TEST_P(LogCall, EveryMessageFromEveryThreadArrivesOnceInPerThreadOrder) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o = opts(sink, GetParam());
  o.capacity = 256;  // small: producers wait for the backend (Block)
  Logger log(std::move(o));
  const int threads = 4;
  const int per = static_cast<int>(ringkit::telemetry::test::scaled(20000));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&log, t, per] {
      for (int i = 0; i < per; ++i) {
        if (i % 97 == 0) RK_LOG_INFO(log, "{} {} {}", t, i, std::string(static_cast<std::size_t>(40 + i % 50), 'p'));  // multi-record
        else RK_LOG_INFO(log, "{} {}", t, i);
      }
    });
  }
  for (auto& th : ts) th.join();
  log.flush();
  const auto e = sink->events();
  ASSERT_EQ(e.size(), static_cast<std::size_t>(threads * per));
  std::vector<int> next(static_cast<std::size_t>(threads), 0);
  std::map<std::uint32_t, int> tid_of;
  for (const auto& c : e) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(c.message.c_str(), "%d %d", &t, &i), 2) << c.message;
    ASSERT_GE(t, 0);
    ASSERT_LT(t, threads);
    ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "thread " << t << " out of order or duplicated";
    ++next[static_cast<std::size_t>(t)];
    auto [it, fresh] = tid_of.emplace(c.tid, t);
    EXPECT_EQ(it->second, t) << "one thread id per thread";
  }
  const Metrics m = log.metrics();
  EXPECT_EQ(m.logged, static_cast<std::uint64_t>(threads * per));
  EXPECT_EQ(m.delivered, m.logged);
  EXPECT_EQ(m.dropped + m.lost + m.incomplete + m.in_flight, 0u);
}

TEST(LanesLogger, MergesLanesInTimestampOrder) {
  auto sink = std::make_shared<CaptureSink>();
  Logger log(opts(sink, QueueMode::Lanes));
  // Threads log one after another (each joins before the next starts), so timestamps are ordered
  // across threads and the merged output must be too.
  for (int t = 0; t < 3; ++t) {
    std::thread([&log, t] {
      for (int i = 0; i < 50; ++i) RK_LOG_INFO(log, "{} {}", t, i);
    }).join();
  }
  log.flush();
  const auto e = sink->events();
  ASSERT_EQ(e.size(), 150u);
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_LE(e[i - 1].ts_ns, e[i].ts_ns);
  EXPECT_EQ(e.front().message, "0 0");
  EXPECT_EQ(e.back().message, "2 49");
}

TEST(Logger, DestructionDeliversEverythingQueued) {
  auto sink = std::make_shared<CaptureSink>();
  {
    Logger log(opts(sink));
    for (int i = 0; i < 500; ++i) RK_LOG_INFO(log, "m {}", i);
  }
  EXPECT_EQ(sink->messages().size(), 500u);
  EXPECT_GE(sink->flushes(), 1);
}

TEST(Logger, TimestampsAreWallClockNanoseconds) {
  for (TimestampSource src : {TimestampSource::Realtime, TimestampSource::Tsc}) {
    if (src == TimestampSource::Tsc && !tsc_is_invariant()) continue;
    auto sink = std::make_shared<CaptureSink>();
    LoggerOptions o = opts(sink);
    o.timestamps = src;
    Logger log(std::move(o));
    const std::uint64_t before = realtime_ns();
    RK_LOG_INFO(log, "now");
    const std::uint64_t after = realtime_ns();
    log.flush();
    const auto e = sink->events();
    ASSERT_EQ(e.size(), 1u);
    // TSC conversion: within 1 ms of the bracketing clock reads.
    EXPECT_GE(e[0].ts_ns + 1'000'000, before);
    EXPECT_LE(e[0].ts_ns, after + 1'000'000);
  }
}

TEST(Logger, RejectsInvalidOptionsNamingTheProblem) {
  auto expect_msg = [](LoggerOptions o, const char* part) {
    try {
      Logger log(std::move(o));
      ADD_FAILURE() << "no exception for " << part;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  LoggerOptions a;
  a.capacity = 1000;
  expect_msg(a, "power of two");
  LoggerOptions b;
  b.mode = QueueMode::Lanes;
  b.overflow = ringkit::Overflow::DropOldest;
  expect_msg(b, "Lanes");
  LoggerOptions c;
  c.overflow = ringkit::Overflow::SpillToDisk;
  expect_msg(c, "spill_directory");
  LoggerOptions d;
  d.flight_records = 100;
  expect_msg(d, "flight_records");
}

TEST(Logger, ThreadSlotsAreReusedAfterThreadsExit) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o = opts(sink);
  o.max_threads = 2;
  Logger log(std::move(o));
  for (int round = 0; round < 10; ++round) {
    std::thread([&log, round] { RK_LOG_INFO(log, "round {}", round); }).join();
    log.flush();  // the exited thread's messages are accounted: its slot can be reused
  }
  const Metrics m = log.metrics();
  EXPECT_EQ(m.delivered, 10u);
  EXPECT_EQ(m.dropped, 0u);
}

TEST(Logger, MoreLiveThreadsThanSlotsAreCountedAsDrops) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o = opts(sink);
  o.max_threads = 1;
  std::atomic<int> drops{0};
  o.on_drop = [&](const DropInfo& d) {
    if (d.reason == DropInfo::Reason::no_thread_slot) drops += static_cast<int>(d.count);
  };
  Logger log(std::move(o));
  RK_LOG_INFO(log, "main holds the only slot");
  std::thread([&log] { RK_LOG_INFO(log, "no slot for me"); }).join();
  log.flush();
  const Metrics m = log.metrics();
  EXPECT_EQ(m.delivered, 1u);
  EXPECT_EQ(m.dropped, 1u);
  EXPECT_EQ(m.logged, 2u);
  EXPECT_EQ(drops.load(), 1);
}

}  // namespace
