// SPDX-License-Identifier: MIT
// The sinks: text and JSON-lines files, rotation by size and by time with retention, the console's
// colour, and a full disk (injected ENOSPC): reported through metrics and the callback, never blocking
// producers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/sinks.hpp"
#include "support/telemetry_test.hpp"

using namespace ringkit::telemetry;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

LoggerOptions with_sink(std::shared_ptr<Sink> s) {
  LoggerOptions o;
  o.level = Level::trace;
  o.sinks = {std::move(s)};
  return o;
}

TEST(FileSink, TextLinesCarryTimeLevelThreadMessageFieldsAndSource) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "app.log";
  {
    FileSinkOptions fo;
    fo.path = file;
    Logger log(with_sink(std::make_shared<FileSink>(fo)));
    RK_LOG_WARN(log, "disk {} at {}%", "sda", 93, kv<"host">(std::string("db1")));
  }
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& l = lines[0];
  // 2026-12-02T09:43:52.123456789Z warn  [1234] disk sda at 93% host=db1 (telemetry_sinks_test.cpp:NN)
  ASSERT_GE(l.size(), 31u);
  EXPECT_EQ(l[4], '-');
  EXPECT_EQ(l[10], 'T');
  EXPECT_EQ(l[29], 'Z');
  EXPECT_NE(l.find(" warn  ["), std::string::npos) << l;
  EXPECT_NE(l.find("] disk sda at 93% host=db1 (telemetry_sinks_test.cpp:"), std::string::npos) << l;
}

TEST(FileSink, JsonLinesAreValidJsonWithTypedFields) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "app.jsonl";
  {
    FileSinkOptions fo;
    fo.path = file;
    fo.format = FileFormat::Json;
    Logger log(with_sink(std::make_shared<FileSink>(fo)));
    RK_LOG_INFO(log, "quote \" backslash \\ newline \n tab \t", kv<"n">(42), kv<"s">(std::string_view("x\"y")),
                kv<"f">(1.5), kv<"ok">(true));
  }
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 1u);
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "quote \" backslash \\ newline \n tab \t");
  EXPECT_EQ(j["fields"]["n"], 42);
  EXPECT_EQ(j["fields"]["s"], "x\"y");
  EXPECT_EQ(j["fields"]["f"], 1.5);
  EXPECT_EQ(j["fields"]["ok"], "true");
  EXPECT_TRUE(j["tid"].is_number());
  EXPECT_EQ(j["ts"].get<std::string>().size(), 30u);
}

TEST(FileSink, RotatesBySizeAndKeepsOnlyTheNewestFiles) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "app.log";
  std::shared_ptr<FileSink> sink;
  {
    FileSinkOptions fo;
    fo.path = file;
    fo.max_bytes = 4096;
    fo.max_files = 3;
    fo.buffer_bytes = 512;
    sink = std::make_shared<FileSink>(fo);
    Logger log(with_sink(sink));
    for (int i = 0; i < 2000; ++i) RK_LOG_INFO(log, "line {:05}", i);
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 4u) << "3 rotated + the live file";
  EXPECT_EQ(names[0], "app.log");
  EXPECT_GT(sink->stats().rotations, 3u);
  // Each file stays near the limit (at most one write buffer over) and the retained lines are the
  // newest ones, consecutive, ending with the last.
  std::vector<int> seen;
  std::vector<std::pair<std::uint64_t, fs::path>> rotated;
  for (const auto& n : names) {
    if (n == "app.log") continue;
    rotated.emplace_back(std::stoull(n.substr(8)), dir.path() / n);
  }
  std::sort(rotated.begin(), rotated.end());
  rotated.emplace_back(~0ull, file);
  for (const auto& [idx, p] : rotated) {
    EXPECT_LE(fs::file_size(p), 4096u + 512u) << p;
    for (const auto& l : read_lines(p)) seen.push_back(std::stoi(l.substr(l.find("line ") + 5, 5)));
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 1999);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i - 1] + 1);
}

TEST(FileSink, RotatesByTime) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "t.log";
  {
    FileSinkOptions fo;
    fo.path = file;
    fo.rotate_every = std::chrono::seconds(1);
    Logger log(with_sink(std::make_shared<FileSink>(fo)));
    RK_LOG_INFO(log, "before");
    log.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    RK_LOG_INFO(log, "after");
  }
  ASSERT_TRUE(fs::exists(dir.path() / "t.log.1"));
  const auto old_lines = read_lines(dir.path() / "t.log.1");
  const auto new_lines = read_lines(file);
  ASSERT_EQ(old_lines.size(), 1u);
  ASSERT_EQ(new_lines.size(), 1u);
  EXPECT_NE(old_lines[0].find("before"), std::string::npos);
  EXPECT_NE(new_lines[0].find("after"), std::string::npos);
}

TEST(FileSink, ContinuesTheRotationNumbersOfAnEarlierRun) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "a.log";
  std::ofstream(dir.path() / "a.log.7") << "old\n";
  FileSinkOptions fo;
  fo.path = file;
  fo.max_bytes = 10;
  {
    Logger log(with_sink(std::make_shared<FileSink>(fo)));
    RK_LOG_INFO(log, "first line, longer than ten bytes");
    log.flush();
    RK_LOG_INFO(log, "second");
  }
  EXPECT_TRUE(fs::exists(dir.path() / "a.log.8"));
  EXPECT_EQ(read_lines(dir.path() / "a.log.7"), std::vector<std::string>{"old"});
}

TEST(FileSink, AFullDiskIsCountedAndReportedAndNeverBlocksProducers) {
  ringkit::telemetry::test::ScratchDir dir;
  std::atomic<std::uint64_t> callback_bytes{0};
  std::atomic<int> callback_errno{0};
  std::atomic<std::uint64_t> budget{2000};  // the "disk" takes 2000 bytes, then ENOSPC
  FileSinkOptions fo;
  fo.path = dir.path() / "full.log";
  fo.buffer_bytes = 256;
  fo.on_error = [&](const SinkError& e) {
    callback_bytes += e.bytes_lost;
    callback_errno = e.error;
  };
  fo.write_fn = [&](int fd, const void* p, std::size_t n) -> ssize_t {
    const std::uint64_t left = budget.load();
    if (left == 0) {
      errno = ENOSPC;
      return -1;
    }
    const std::size_t k = std::min<std::uint64_t>(n, left);
    budget -= k;
    return ::write(fd, p, k);
  };
  auto sink = std::make_shared<FileSink>(fo);
  LoggerOptions o = with_sink(sink);
  o.overflow = ringkit::Overflow::DropNewest;
  Logger log(std::move(o));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i) RK_LOG_INFO(log, "event {}", i);
  const auto took = std::chrono::steady_clock::now() - t0;
  log.flush();
  const Metrics m = log.metrics();
  const SinkStats s = sink->stats();
  EXPECT_GT(m.sink_errors, 0u);
  EXPECT_EQ(m.sink_errors, s.errors);
  EXPECT_EQ(m.sink_bytes_dropped, s.bytes_dropped);
  EXPECT_EQ(callback_bytes.load(), s.bytes_dropped);
  EXPECT_EQ(callback_errno.load(), ENOSPC);
  EXPECT_EQ(s.bytes, 2000u);
  EXPECT_EQ(fs::file_size(fo.path), 2000u);
  EXPECT_GT(s.events_dropped, 0u);
  // Logged, delivered to the sink: the loss is the sink's, and it is counted there.
  EXPECT_EQ(m.logged, m.delivered + m.dropped);
  EXPECT_LT(took, std::chrono::seconds(5)) << "producers must not wait on a failing sink";
}

// The same on a real full file system: a 64 KiB tmpfs (needs root or CAP_SYS_ADMIN; skipped otherwise).
TEST(FileSink, ARealFullTmpfsIsCountedAndReportedAndNeverBlocksProducers) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path mnt = dir.path() / "small";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << ")";
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  std::atomic<int> errors{0};
  std::atomic<int> last_errno{0};
  std::shared_ptr<FileSink> text, binary;
  Metrics m;
  {
    FileSinkOptions fo;
    fo.path = mnt / "app.log";
    fo.buffer_bytes = 4096;
    fo.on_error = [&](const SinkError& e) {
      ++errors;
      last_errno = e.error;
    };
    text = std::make_shared<FileSink>(fo);
    fo.path = mnt / "app.ttlog";
    fo.format = FileFormat::Binary;
    binary = std::make_shared<FileSink>(fo);
    LoggerOptions o;
    o.sinks = {text, binary};
    o.overflow = ringkit::Overflow::DropNewest;
    Logger log(std::move(o));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i) RK_LOG_INFO(log, "event number {} with some padding text", i);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    log.flush();
    m = log.metrics();
  }
  EXPECT_GT(errors.load(), 0);
  EXPECT_EQ(last_errno.load(), ENOSPC);
  EXPECT_GT(m.sink_errors, 0u);
  EXPECT_GT(m.sink_bytes_dropped, 0u);
  EXPECT_EQ(m.logged, m.delivered + m.dropped);
  EXPECT_LE(fs::file_size(mnt / "app.log") + fs::file_size(mnt / "app.ttlog"), 64u * 1024u);
}

TEST(ConsoleSink, ColoursOnlyWhenAskedOrOnATerminal) {
  for (ColorMode mode : {ColorMode::Always, ColorMode::Never, ColorMode::Auto}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    {
      Logger log(with_sink(std::make_shared<ConsoleSink>(fds[1], mode)));
      RK_LOG_ERROR(log, "boom");
    }
    ::close(fds[1]);
    char buf[512];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    ASSERT_GT(n, 0);
    const std::string out(buf, static_cast<std::size_t>(n));
    EXPECT_NE(out.find("boom"), std::string::npos);
    // A pipe is not a terminal: Auto means no colour.
    EXPECT_EQ(out.find("\x1b["), mode == ColorMode::Always ? out.find("\x1b[") : std::string::npos) << out;
    if (mode == ColorMode::Always) {
      EXPECT_NE(out.find("\x1b[31m"), std::string::npos);
    }
  }
}

TEST(FileSink, RefusesAPathItCannotOpenNamingIt) {
  FileSinkOptions fo;
  fo.path = "/nonexistent-dir-for-telemetry/x.log";
  try {
    FileSink s(fo);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-for-telemetry/x.log"), std::string::npos) << e.what();
  }
}

}  // namespace
