// SPDX-License-Identifier: MIT
// The four overflow policies, with exact counts: the backend is held inside a sink (a gate) while the
// test logs into a ring of 8 records, so what fits, what is dropped, evicted or spilled is known.
// Invariant everywhere: logged == delivered + dropped + lost + incomplete (+ in_flight, 0 after flush).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/telemetry/logger.hpp"
#include "support/capture_sink.hpp"
#include "support/telemetry_test.hpp"

using namespace ringkit::telemetry;
using ringkit::Overflow;
using ringkit::telemetry::test::CaptureSink;

namespace {

struct Drops {
  std::atomic<std::uint64_t> newest{0}, lost{0}, incomplete{0}, other{0};
  std::function<void(const DropInfo&)> callback() {
    return [this](const DropInfo& d) {
      switch (d.reason) {
        case DropInfo::Reason::dropped_newest: newest += d.count; break;
        case DropInfo::Reason::lost: lost += d.count; break;
        case DropInfo::Reason::incomplete: incomplete += d.count; break;
        default: other += d.count; break;
      }
    };
  }
};

LoggerOptions gated(std::shared_ptr<CaptureSink> sink, QueueMode mode, Overflow overflow, Drops& drops) {
  LoggerOptions o;
  o.mode = mode;
  o.overflow = overflow;
  o.capacity = 8;
  o.level = Level::trace;
  o.sinks = {std::move(sink)};
  o.on_drop = drops.callback();
  return o;
}

void expect_balanced(const Metrics& m) {
  EXPECT_EQ(m.in_flight, 0u);
  EXPECT_EQ(m.logged, m.delivered + m.dropped + m.lost + m.incomplete);
}

// Logs message 0, waits until the backend holds it inside the sink, then logs 1..100 into the ring of 8.
// Each message carries 12 argument bytes (the int and an 8-byte field, which is not part of the text): a
// Lanes-mode capacity counts messages of 9-16 argument bytes (24-byte records), a Shared one 64-byte
// records (up to 32 argument bytes), so exactly 8 fit in either mode.
void fill_while_held(Logger& log, CaptureSink& sink) {
  sink.close_gate();
  RK_LOG_INFO(log, "m {}", 0, kv<"pad">(std::int64_t{0}));
  sink.wait_entered();
  for (int i = 1; i <= 100; ++i) RK_LOG_INFO(log, "m {}", i, kv<"pad">(std::int64_t{0}));
}

class DropNewestPolicy : public ::testing::TestWithParam<QueueMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, DropNewestPolicy, ::testing::Values(QueueMode::Shared, QueueMode::Lanes),
                         [](const auto& p) { return p.param == QueueMode::Shared ? "Shared" : "Lanes"; });

TEST_P(DropNewestPolicy, KeepsTheFirstThatFitAndCountsEveryRejection) {
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  Logger log(gated(sink, GetParam(), Overflow::DropNewest, drops));
  fill_while_held(log, *sink);
  sink->open_gate();
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 9u);  // message 0 (in the sink) + the 8 that fit
  for (int i = 0; i <= 8; ++i) EXPECT_EQ(m[static_cast<std::size_t>(i)], "m " + std::to_string(i));
  const Metrics x = log.metrics();
  EXPECT_EQ(x.logged, 101u);
  EXPECT_EQ(x.delivered, 9u);
  EXPECT_EQ(x.dropped, 92u);
  EXPECT_EQ(drops.newest.load(), 92u);
  EXPECT_EQ(x.lost + x.incomplete, 0u);
  expect_balanced(x);
}

TEST(DropOldestPolicy, KeepsTheNewestAndCountsTheEvictedAsLost) {
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  Logger log(gated(sink, QueueMode::Shared, Overflow::DropOldest, drops));
  fill_while_held(log, *sink);
  sink->open_gate();
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 9u);
  EXPECT_EQ(m[0], "m 0");
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(m[static_cast<std::size_t>(i)], "m " + std::to_string(92 + i));
  const Metrics x = log.metrics();
  EXPECT_EQ(x.logged, 101u);
  EXPECT_EQ(x.delivered, 9u);
  EXPECT_EQ(x.evicted_records, 92u);
  EXPECT_EQ(x.lost, 92u);  // the sequence gap the backend saw
  EXPECT_EQ(drops.lost.load(), 92u);
  EXPECT_EQ(x.dropped, 0u);
  expect_balanced(x);
}

TEST(DropOldestPolicy, EvictedPartsOfLongMessagesAreCountedIncompleteOrLostNeverDeliveredHalf) {
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  Logger log(gated(sink, QueueMode::Shared, Overflow::DropOldest, drops));
  sink->close_gate();
  RK_LOG_INFO(log, "m {}", 0);
  sink->wait_entered();
  const std::string s(70, 'z');  // 4 + 4 + 70 bytes: 3 records per message
  for (int i = 1; i <= 10; ++i) RK_LOG_INFO(log, "m {} {}", i, s);
  sink->open_gate();
  log.flush();
  const Metrics x = log.metrics();
  for (const auto& msg : sink->messages()) {
    if (msg == "m 0") continue;
    int i = -1;
    ASSERT_EQ(std::sscanf(msg.c_str(), "m %d", &i), 1) << msg;
    EXPECT_EQ(msg, "m " + std::to_string(i) + " " + s) << "a message must arrive whole or not at all";
  }
  EXPECT_EQ(x.logged, 11u);
  EXPECT_GE(x.lost + x.incomplete, 1u);
  EXPECT_EQ(x.evicted_records, 30u - 8u + 0u);  // 30 records into a ring of 8
  expect_balanced(x);
}

TEST(SpillToDiskPolicy, DeliversEverythingInOrderAndCountsTheSpilled) {
  ringkit::telemetry::test::ScratchDir dir;
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  LoggerOptions o = gated(sink, QueueMode::Shared, Overflow::SpillToDisk, drops);
  o.spill_directory = dir.path();
  Logger log(std::move(o));
  fill_while_held(log, *sink);
  EXPECT_GT(log.metrics().spilled_records, 0u);
  sink->open_gate();
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(m[static_cast<std::size_t>(i)], "m " + std::to_string(i));
  const Metrics x = log.metrics();
  EXPECT_EQ(x.spilled_records, 92u);
  EXPECT_EQ(x.delivered, 101u);
  EXPECT_EQ(x.dropped + x.lost + x.incomplete, 0u);
  expect_balanced(x);
}

class BlockPolicy : public ::testing::TestWithParam<QueueMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, BlockPolicy, ::testing::Values(QueueMode::Shared, QueueMode::Lanes),
                         [](const auto& p) { return p.param == QueueMode::Shared ? "Shared" : "Lanes"; });

TEST_P(BlockPolicy, WaitsForRoomAndLosesNothing) {
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  Logger log(gated(sink, GetParam(), Overflow::Block, drops));
  sink->close_gate();
  RK_LOG_INFO(log, "m {}", 0);
  sink->wait_entered();
  std::atomic<int> done{0};
  std::thread producer([&] {
    for (int i = 1; i <= 100; ++i) {
      RK_LOG_INFO(log, "m {}", i);
      done.store(i);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LT(done.load(), 100) << "the producer should be waiting on the full ring";
  sink->open_gate();
  producer.join();
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(m[static_cast<std::size_t>(i)], "m " + std::to_string(i));
  const Metrics x = log.metrics();
  EXPECT_EQ(x.dropped + x.lost + x.incomplete, 0u);
  expect_balanced(x);
}

// Many producers against a small ring and a slow backend: whatever the policy, every message is
// either delivered exactly once (per-thread order kept) or counted, and the counts balance.
struct StressCase {
  QueueMode mode;
  Overflow overflow;
};
class PolicyStress : public ::testing::TestWithParam<StressCase> {};
INSTANTIATE_TEST_SUITE_P(Cases, PolicyStress,
                         ::testing::Values(StressCase{QueueMode::Shared, Overflow::DropNewest},
                                           StressCase{QueueMode::Shared, Overflow::DropOldest},
                                           StressCase{QueueMode::Shared, Overflow::SpillToDisk},
                                           StressCase{QueueMode::Lanes, Overflow::DropNewest}),
                         [](const auto& p) {
                           return std::string(p.param.mode == QueueMode::Shared ? "Shared" : "Lanes") +
                                  std::string(ringkit::to_string(p.param.overflow));
                         });

TEST_P(PolicyStress, EveryMessageIsDeliveredOnceOrCounted) {
  ringkit::telemetry::test::ScratchDir dir;
  auto sink = std::make_shared<CaptureSink>();
  Drops drops;
  LoggerOptions o = gated(sink, GetParam().mode, GetParam().overflow, drops);
  o.capacity = 64;
  o.spill_directory = dir.path();
  Logger log(std::move(o));
  const int threads = 4;
  const int per = static_cast<int>(ringkit::telemetry::test::scaled(20000));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&log, t, per] {
      const std::string pad(50, 'q');
      for (int i = 0; i < per; ++i) {
        if (i % 10 == 0) RK_LOG_INFO(log, "{} {} {}", t, i, pad);  // 3 records
        else RK_LOG_INFO(log, "{} {}", t, i);
      }
    });
  }
  for (auto& th : ts) th.join();
  log.flush();
  const Metrics x = log.metrics();
  std::vector<int> last(static_cast<std::size_t>(threads), -1);
  std::size_t n = 0;
  for (const auto& msg : sink->messages()) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(msg.c_str(), "%d %d", &t, &i), 2) << msg;
    ASSERT_GT(i, last[static_cast<std::size_t>(t)]) << "duplicate or reordered for thread " << t;
    last[static_cast<std::size_t>(t)] = i;
    if (i % 10 == 0) {
      EXPECT_EQ(msg.size(), std::to_string(t).size() + std::to_string(i).size() + 2 + 50) << "half a message";
    }
    ++n;
  }
  EXPECT_EQ(x.logged, static_cast<std::uint64_t>(threads * per));
  EXPECT_EQ(x.delivered, n);
  EXPECT_EQ(drops.newest.load(), x.dropped);
  EXPECT_EQ(drops.lost.load(), x.lost);
  EXPECT_EQ(drops.incomplete.load(), x.incomplete);
  if (GetParam().overflow == Overflow::SpillToDisk) {
    EXPECT_EQ(x.delivered, x.logged);
  }
  expect_balanced(x);
}

}  // namespace
