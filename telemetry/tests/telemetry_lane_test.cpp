// SPDX-License-Identifier: MIT
// detail::ByteLane (the Lanes-mode queue and flight recorder) and the logger in Lanes mode: every
// record arrives exactly once, in order and intact; a flight reader racing the producer never returns
// a torn record; the Lanes-mode flight recorder dumps the last messages of every thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/telemetry/byte_lane.hpp"
#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/ttlog.hpp"
#include "support/capture_sink.hpp"
#include "support/telemetry_test.hpp"

using namespace ringkit::telemetry;
using ringkit::telemetry::detail::ByteLane;
using ringkit::telemetry::test::CaptureSink;
namespace fs = std::filesystem;

namespace {

// Record `i`: 1 + i % 7 words (the lane does not interpret records: its reader knows their length);
// word 0 = i, word k = i * 31 + k.
std::size_t words_of(std::uint64_t first_word) { return 1 + static_cast<std::size_t>(first_word % 7); }
std::size_t make_record(std::uint64_t i, std::uint64_t* w) {
  const std::size_t n = words_of(i);
  w[0] = i;
  for (std::size_t k = 1; k < n; ++k) w[k] = i * 31 + k;
  return n;
}
std::size_t size_from_first_word(const auto& word) { return words_of(word(0)); }

bool check_record(std::uint64_t i, const std::uint64_t* w, std::size_t n) {
  std::uint64_t expect[64];
  const std::size_t m = make_record(i, expect);
  if (m != n) return false;
  for (std::size_t k = 0; k < n; ++k)
    if (w[k] != expect[k]) return false;
  return true;
}

TEST(ByteLane, EveryRecordArrivesOnceInOrderAndIntact) {
  ByteLane lane(504, 0);  // small, and not a power of two: the producer wraps and waits often
  const std::uint64_t total = ringkit::telemetry::test::scaled(400000);
  std::thread producer([&] {
    std::uint64_t w[64];
    for (std::uint64_t i = 0; i < total; ++i) {
      const std::size_t n = make_record(i, w);
      while (!lane.try_write(w, n, i)) std::this_thread::yield();
    }
  });
  std::uint64_t buf[64];
  std::uint64_t next = 0;
  while (next < total) {
    if (lane.front() == nullptr) {
      std::this_thread::yield();
      continue;
    }
    const std::size_t n = words_of(*lane.front());
    lane.pop(buf, n);
    ASSERT_EQ(buf[0], next) << "lost, duplicated or reordered";
    ASSERT_TRUE(check_record(next, buf, n)) << "record " << next << " damaged";
    ++next;
  }
  producer.join();
  EXPECT_EQ(lane.front(), nullptr);
  EXPECT_TRUE(lane.empty());
}

TEST(ByteLane, FullLaneRefusesAndRecordsWrapAroundTheEnd) {
  ByteLane lane(72, 0);  // 9 words: not a power of two
  std::uint64_t w[4] = {1, 11, 12, 13};
  ASSERT_TRUE(lane.try_write(w, std::integral_constant<std::size_t, 4>{}, 0));
  w[0] = 2;
  ASSERT_TRUE(lane.try_write(w, 4, 1));
  EXPECT_FALSE(lane.try_write(w, 2, 2)) << "8 of 9 words are taken";
  std::uint64_t out[8];
  ASSERT_NE(lane.front(), nullptr);
  EXPECT_EQ(lane.front()[0], 1u);
  lane.pop(out, 4);
  EXPECT_EQ(out[0], 1u);
  // 6 words from word 8: wraps (word 8, then 0..4); refused while only 5 words are free.
  const std::uint64_t big[6] = {3, 21, 22, 23, 24, 25};
  EXPECT_FALSE(lane.try_write(big, std::integral_constant<std::size_t, 6>{}, 2));
  ASSERT_NE(lane.front(), nullptr);
  EXPECT_EQ(lane.word(0), 2u);
  lane.pop(out, 4);
  EXPECT_EQ(out[0], 2u);
  ASSERT_TRUE(lane.try_write(big, std::integral_constant<std::size_t, 6>{}, 2));
  ASSERT_NE(lane.front(), nullptr);
  EXPECT_EQ(lane.word(5), 25u) << "word() follows the record around the end of the ring";
  lane.pop(out, 6);
  for (int k = 0; k < 6; ++k) EXPECT_EQ(out[k], big[k]);
  EXPECT_EQ(lane.front(), nullptr);
  EXPECT_TRUE(lane.empty());
}

TEST(ByteLane, FlightReaderNeverSeesATornRecord) {
  ByteLane lane(1000, 64);
  const std::uint64_t total = ringkit::telemetry::test::scaled(300000);
  std::atomic<std::uint64_t> sent{0};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> passes{0};
  std::thread producer([&] {
    std::uint64_t w[64];
    std::uint64_t buf[64];
    for (std::uint64_t i = 0; i < total; ++i) {
      const std::size_t n = make_record(i, w);
      while (!lane.try_write(w, n, i)) {  // this thread is also the consumer: keeps the lane moving
        ASSERT_NE(lane.front(), nullptr);
        lane.pop(buf, words_of(*lane.front()));
      }
      sent.store(i + 1, std::memory_order_release);  // release: pairs with the reader's acquire (as Producer::sent)
      if (i % 4096 == 4095) {  // now and then, let the reader make a whole pass over a quiet lane
        const std::uint64_t p0 = passes.load();
        while (passes.load() < p0 + 2) std::this_thread::yield();
      }
    }
    done.store(true);
  });
  std::uint64_t good = 0;
  std::uint64_t out[64];
  while (!done.load()) {
    const std::uint64_t s = sent.load(std::memory_order_acquire);  // acquire: pairs with the release above
    for (std::uint64_t k = s > 63 ? s - 63 : 0; k < s; ++k) {
      const std::size_t n = lane.read_flight(k, out, 64, [](const auto& word) { return size_from_first_word(word); });
      if (n == 0) continue;
      ASSERT_EQ(out[0], k);
      ASSERT_TRUE(check_record(k, out, n)) << "torn flight record " << k;
      ++good;
    }
    passes.fetch_add(1);
  }
  producer.join();
  // Quiescent now: the last messages that still fit in the lane are all readable.
  std::size_t readable = 0;
  for (std::uint64_t k = total - 10; k < total; ++k)
    readable += lane.read_flight(k, out, 64, [](const auto& word) { return size_from_first_word(word); }) != 0;
  EXPECT_EQ(readable, 10u);
  EXPECT_GT(good, 0u);
}

// A kernel built with transparent huge pages has this directory; madvise(MADV_HUGEPAGE) then succeeds
// whatever the "enabled" mode (the mode decides whether the kernel acts on the advice).
bool kernel_has_thp() { return fs::exists("/sys/kernel/mm/transparent_hugepage/enabled"); }

// A lane of at least 1 MiB asked for huge pages is one 2 MiB-aligned mapping holding the flight index
// and then the ring; records written through it, around its end and back, arrive intact, and the
// flight reader finds the last ones.
TEST(ByteLane, ALaneOfAtLeast1MiBAskedForHugePagesIsOneAlignedAdvisedMappingThatWorks) {
  if (!kernel_has_thp()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  const std::size_t bytes = std::size_t{3} << 19;  // 1.5 MiB: the default capacity's lane
  ByteLane lane(bytes, 64, true);
  ASSERT_TRUE(lane.huge_pages_advised());
  const auto ring = reinterpret_cast<std::uintptr_t>(lane.ring_address());
  const std::uintptr_t index_bytes = 64 * 8;  // 64 flight entries, a multiple of the 128-byte alignment
  EXPECT_EQ((ring - index_bytes) % (std::uintptr_t{2} << 20), 0u) << "the block starts on a 2 MiB boundary";
  std::uint64_t w[64], out[64];
  const std::uint64_t total = 3 * bytes / (8 * 4) + 5;  // records of 1-7 words: about three laps
  std::uint64_t next = 0;
  for (std::uint64_t i = 0; i < total; ++i) {
    const std::size_t n = make_record(i, w);
    while (!lane.try_write(w, n, i)) {
      ASSERT_NE(lane.front(), nullptr);
      const std::size_t m = words_of(*lane.front());
      lane.pop(out, m);
      ASSERT_TRUE(check_record(next, out, m)) << "record " << next << " damaged";
      ++next;
    }
  }
  for (std::uint64_t k = total - 10; k < total; ++k)
    EXPECT_NE(lane.read_flight(k, out, 64, [](const auto& word) { return size_from_first_word(word); }), 0u) << k;
  while (lane.front() != nullptr) {
    const std::size_t m = words_of(*lane.front());
    lane.pop(out, m);
    ASSERT_TRUE(check_record(next, out, m)) << "record " << next << " damaged";
    ++next;
  }
  EXPECT_EQ(next, total);
  EXPECT_GT(next, 2 * bytes / (8 * 7)) << "the test did not wrap the ring";
}

TEST(ByteLane, ALaneBelow1MiBOrNotAskedUsesTheOrdinaryAllocator) {
  EXPECT_FALSE(ByteLane((std::size_t{1} << 20) - 1024, 64, true).huge_pages_advised()) << "below 1 MiB with its index";
  EXPECT_FALSE(ByteLane(std::size_t{3} << 19, 64, false).huge_pages_advised()) << "not asked";
  EXPECT_FALSE(ByteLane().huge_pages_advised()) << "no ring";
}

// LoggerOptions::lane_huge_pages (off by default) reaches every thread's lane (the default lane is 1.5 MiB).
TEST(LanesLogger, LanesFollowTheHugePagesOption) {
  if (!kernel_has_thp()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  for (const bool huge : {true, false}) {
    auto sink = std::make_shared<CaptureSink>();
    LoggerOptions o;
    o.mode = QueueMode::Lanes;
    o.sinks = {sink};
    EXPECT_FALSE(o.lane_huge_pages) << "the default";
    o.lane_huge_pages = huge;
    Logger log(std::move(o));
    RK_LOG_INFO(log, "main {}", 1);
    std::thread([&] { RK_LOG_INFO(log, "other {}", 2); }).join();
    log.flush();
    int lanes = 0;
    log.for_each_producer([&](detail::Producer& p) {
      ++lanes;
      EXPECT_EQ(p.lane_ring.huge_pages_advised(), huge);
    });
    EXPECT_EQ(lanes, 2);
    EXPECT_EQ(sink->messages().size(), 2u);
  }
}

// The logger's queueing in Lanes mode with the Block policy: 4 threads, small lanes, variable sizes.
TEST(LanesLogger, EveryEventArrivesExactlyOncePerThreadInOrder) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.mode = QueueMode::Lanes;
  o.capacity = 64;  // 1.5 KiB lanes (64 x 24 bytes): producers wait for the backend often
  o.level = Level::trace;
  o.sinks = {sink};
  Logger log(std::move(o));
  const int threads = 4;
  const int per = static_cast<int>(ringkit::telemetry::test::scaled(20000));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&log, t, per] {
      const std::string pad(static_cast<std::size_t>(10 + t * 20), 'p');
      for (int i = 0; i < per; ++i) {
        if (i % 3 == 0) RK_LOG_INFO(log, "{} {} {}", t, i, pad);
        else if (i % 3 == 1) RK_LOG_INFO(log, "{} {} {:.1f}", t, i, 0.5);
        else RK_LOG_INFO(log, "{} {}", t, i);
      }
    });
  }
  for (auto& th : ts) th.join();
  log.flush();
  std::vector<int> next(threads, 0);
  for (const auto& msg : sink->messages()) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(msg.c_str(), "%d %d", &t, &i), 2) << msg;
    ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "thread " << t << ": lost, duplicated or reordered";
    const std::string expect = i % 3 == 0   ? std::to_string(t) + " " + std::to_string(i) + " " +
                                                std::string(static_cast<std::size_t>(10 + t * 20), 'p')
                               : i % 3 == 1 ? std::to_string(t) + " " + std::to_string(i) + " 0.5"
                                            : std::to_string(t) + " " + std::to_string(i);
    ASSERT_EQ(msg, expect);
    ++next[static_cast<std::size_t>(t)];
  }
  for (int t = 0; t < threads; ++t) EXPECT_EQ(next[static_cast<std::size_t>(t)], per);
  const Metrics m = log.metrics();
  EXPECT_EQ(m.logged, static_cast<std::uint64_t>(threads * per));
  EXPECT_EQ(m.delivered, m.logged);
  EXPECT_EQ(m.dropped + m.lost + m.incomplete + m.in_flight, 0u);
}

TEST(LanesLogger, StringsLongerThanTheLaneAreCutAndCounted) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.mode = QueueMode::Lanes;
  o.capacity = 4;  // 96-byte lanes: at most 96 - 24 = 72 payload bytes (room for the widest header)
  o.sinks = {sink};
  Logger log(std::move(o));
  const std::string s(500, 's');
  RK_LOG_INFO(log, "{} {}", 7, s);
  log.flush();
  const auto m = sink->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "7 " + std::string(72 - 4 - 4, 's') + " [truncated]");
  EXPECT_EQ(log.metrics().truncated, 1u);
}

TEST(LanesLogger, FlightRecorderDumpsTheLastMessagesOfEveryThreadFromTheLanes) {
  ringkit::telemetry::test::ScratchDir dir;
  LoggerOptions o;
  o.mode = QueueMode::Lanes;
  o.flight_records = 16;
  o.level = Level::trace;
  Logger log(std::move(o));
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t) {
    ts.emplace_back([&log, t] {
      for (int i = 0; i < 100; ++i) RK_LOG_DEBUG(log, "thread {} event {} {}", t, i, std::string(static_cast<std::size_t>(i % 40), 'x'));
    });
  }
  for (auto& th : ts) th.join();
  log.flush();
  const fs::path f = dir.path() / "dump.ttlog";
  EXPECT_EQ(log.dump_flight_recorder(f), 3 * 15);  // the oldest of the 16 index entries is skipped
  std::vector<char> bytes;
  {
    std::FILE* fp = std::fopen(f.c_str(), "rb");
    ASSERT_NE(fp, nullptr);
    char b[4096];
    for (std::size_t n; (n = std::fread(b, 1, sizeof b, fp)) > 0;) bytes.insert(bytes.end(), b, b + n);
    std::fclose(fp);
  }
  std::map<int, std::vector<int>> per_thread;
  int damages = 0;
  ttlog::parse(std::as_bytes(std::span(bytes.data(), bytes.size())), 0, true,
               [&](const ttlog::Entry& e) {
                 if (e.kind != ttlog::RecordKind::RawEvent) return;
                 int t = -1, i = -1;
                 ASSERT_EQ(std::sscanf(e.message.c_str(), "thread %d event %d", &t, &i), 2) << e.message;
                 EXPECT_EQ(e.message, "thread " + std::to_string(t) + " event " + std::to_string(i) + " " +
                                          std::string(static_cast<std::size_t>(i % 40), 'x'));
                 per_thread[t].push_back(i);
               },
               [&](const ttlog::Damage&) { ++damages; });
  EXPECT_EQ(damages, 0);
  ASSERT_EQ(per_thread.size(), 3u);
  for (const auto& [t, v] : per_thread) {
    ASSERT_EQ(v.size(), 15u);
    for (std::size_t k = 0; k < v.size(); ++k) EXPECT_EQ(v[k], 85 + static_cast<int>(k));
  }
}

TEST(LaneRecord, TimesAreRebuiltFromTheir48LowBitsAcrossAWrap) {
  namespace lr = ringkit::telemetry::detail::lane_record;
  const std::uint64_t wrap = std::uint64_t{1} << 48;
  for (const std::uint64_t t : {std::uint64_t{12345}, 5 * wrap - 10, 5 * wrap, 7 * wrap + 99, ~std::uint64_t{0} - (wrap / 2)}) {
    const std::uint64_t low = t & lr::kTickMask;
    EXPECT_EQ(lr::expand_ticks(low, t), t) << "read at once";
    EXPECT_EQ(lr::expand_ticks(low, t + 20), t) << "read 20 ticks later, across a 2^48 boundary for 5*2^48-10";
    EXPECT_EQ(lr::expand_ticks(low, t + 3 * (wrap / 4) - 1), t) << "read just inside the window";
    EXPECT_EQ(lr::expand_ticks(low, t - 1000), t) << "stamped a little after the reference (another core)";
  }
  // Older than the window: off by one wrap (the documented limit).
  EXPECT_EQ(lr::expand_ticks(100, 100 + 3 * (wrap / 4) + 1), 100 + wrap);
}

// In a child process (the site table is process-wide): fills the table, then logs from sites that get no
// id; exits 0 if every message came out intact.
[[noreturn]] void log_with_a_full_site_table() {
    namespace lr = ringkit::telemetry::detail::lane_record;
    static constexpr Metadata dummy{Level::info, 1, "x", "x", nullptr, 0, 0, nullptr};
    for (std::uint32_t k = 0; k < lr::kMaxSites; ++k) {
      std::atomic<std::uint32_t> id{0};
      (void)lr::register_site(&dummy, 0, false, id);
    }
    auto sink = std::make_shared<CaptureSink>();
    LoggerOptions o;
    o.mode = QueueMode::Lanes;
    o.capacity = 8;  // 192-byte lanes: the wide form's 3 header words leave 168 payload bytes
    o.sinks = {sink};
    Logger log(std::move(o));
    for (int i = 0; i < 3; ++i) {
      RK_LOG_INFO(log, "fixed {} {}", i, 2.5);
      RK_LOG_INFO(log, "string {} {}", i, std::string(static_cast<std::size_t>(i) * 7, 'w'));
    }
    RK_LOG_INFO(log, "long {}", std::string(500, 'L'));
    log.flush();
    const auto m = sink->messages();
    bool ok = m.size() == 7 && log.metrics().truncated == 1 &&
              m[6] == "long " + std::string(168 - 4, 'L') + " [truncated]";
    for (int i = 0; ok && i < 3; ++i)
      ok = m[static_cast<std::size_t>(2 * i)] == "fixed " + std::to_string(i) + " 2.5" &&
           m[static_cast<std::size_t>(2 * i + 1)] == "string " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i) * 7, 'w');
    if (!ok)
      for (const auto& s : m) std::fprintf(stderr, "got: %s\n", s.c_str());
    std::exit(ok ? 0 : 1);
}

TEST(LanesLogger, SitesBeyondTheIdTableLogTheWideFormIntact) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(log_with_a_full_site_table(), ::testing::ExitedWithCode(0), "");
}

// Layout that keeps the backend off the producer's lines (docs/telemetry.md, "Which cache lines a Lanes
// call shares with the backend"): a thread's message count is its lane's count, beside the write index,
// not a field of the Producer struct that the backend reads every round.
TEST(LanesLogger, TheMessageCountLivesInTheLanesWriteIndexLine) {
  auto sink = std::make_shared<CaptureSink>();
  LoggerOptions o;
  o.mode = QueueMode::Lanes;
  o.sinks = {sink};
  Logger log(std::move(o));
  for (int i = 0; i < 3; ++i) RK_LOG_INFO(log, "m {}", i);
  log.flush();
  int producers = 0;
  log.for_each_producer([&](detail::Producer& p) {
    ++producers;
    const auto line = [](const void* a) { return reinterpret_cast<std::uintptr_t>(a) / 64; };
    const auto* lane_begin = reinterpret_cast<const char*>(&p.lane_ring);
    const auto* count = reinterpret_cast<const char*>(&p.sent());
    EXPECT_TRUE(count >= lane_begin && count < lane_begin + sizeof(p.lane_ring)) << "the count is not the lane's";
    EXPECT_NE(line(count), line(&p.dropped)) << "the count shares a line with the Producer's own fields";
    EXPECT_NE(line(count), line(&p.index)) << "the count shares a line with the Producer's own fields";
    EXPECT_EQ(p.lane_ring.count().load(), 3u);
  });
  EXPECT_EQ(producers, 1);
  EXPECT_EQ(sink->messages().size(), 3u);
}

}  // namespace
