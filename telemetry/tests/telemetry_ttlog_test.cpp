// SPDX-License-Identifier: MIT
// The binary ttlog format and ttlog-cat: round trip, text and JSON output, level and time filters,
// damaged blocks reported by offset with reading resumed at the next good block, truncated tails,
// follow mode.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/sinks.hpp"
#include "ringkit/telemetry/ttlog.hpp"
#include "support/telemetry_test.hpp"
#include "ttlog_cat.hpp"

using namespace ringkit::telemetry;
namespace fs = std::filesystem;

namespace {

struct CatResult {
  int rc;
  std::string out, err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::size_t pos = 0;
    while (pos < out.size()) {
      const std::size_t nl = out.find('\n', pos);
      v.push_back(out.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return v;
  }
};

std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

CatResult cat(std::vector<std::string> args) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const int rc = ttlog_cat(args, out, err);
  return {rc, slurp(out), slurp(err)};
}

// Writes `blocks` blocks of `per` events each (a flush ends a block); levels cycle info, warn, error.
fs::path write_log(const fs::path& dir, int blocks, int per) {
  const fs::path file = dir / "log.ttlog";
  FileSinkOptions fo;
  fo.path = file;
  fo.format = FileFormat::Binary;
  LoggerOptions o;
  o.level = Level::trace;
  o.sinks = {std::make_shared<FileSink>(fo)};
  Logger log(std::move(o));
  int n = 0;
  for (int b = 0; b < blocks; ++b) {
    for (int i = 0; i < per; ++i, ++n) {
      switch (n % 3) {
        case 0: RK_LOG_INFO(log, "event {}", n, kv<"block">(b)); break;
        case 1: RK_LOG_WARN(log, "event {}", n, kv<"block">(b)); break;
        default: RK_LOG_ERROR(log, "event {}", n, kv<"block">(b)); break;
      }
    }
    log.flush();
  }
  return file;
}

TEST(Ttlog, RoundTripsEveryEventAsTextAndJson) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path f = write_log(dir.path(), 3, 10);
  const CatResult text = cat({f.string()});
  EXPECT_EQ(text.rc, 0) << text.err;
  const auto lines = text.lines();
  ASSERT_EQ(lines.size(), 30u);
  for (int n = 0; n < 30; ++n) {
    EXPECT_NE(lines[static_cast<std::size_t>(n)].find("] event " + std::to_string(n) + " block=" + std::to_string(n / 10)),
              std::string::npos)
        << lines[static_cast<std::size_t>(n)];
  }
  const CatResult json = cat({f.string(), "--json"});
  EXPECT_EQ(json.rc, 0);
  const auto jl = json.lines();
  ASSERT_EQ(jl.size(), 30u);
  const auto j = nlohmann::json::parse(jl[4]);
  EXPECT_EQ(j["msg"], "event 4");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["fields"]["block"], 0);
}

TEST(Ttlog, FiltersByLevelAndTime) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path f = write_log(dir.path(), 1, 30);
  EXPECT_EQ(cat({f.string(), "--level", "warn"}).lines().size(), 20u);
  EXPECT_EQ(cat({f.string(), "--level", "error"}).lines().size(), 10u);
  EXPECT_EQ(cat({f.string(), "--since", "2000-01-01T00:00:00Z"}).lines().size(), 30u);
  EXPECT_EQ(cat({f.string(), "--until", "2000-01-01T00:00:00Z"}).lines().size(), 0u);
  EXPECT_EQ(cat({f.string(), "--since", "4102444800"}).lines().size(), 0u);  // 2100-01-01
  const CatResult bad = cat({f.string(), "--level", "loud"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("unknown level 'loud'"), std::string::npos);
  const CatResult badtime = cat({f.string(), "--since", "yesterday"});
  EXPECT_EQ(badtime.rc, 2);
  EXPECT_NE(badtime.err.find("cannot read time 'yesterday'"), std::string::npos);
}

TEST(Ttlog, ReportsADamagedBlockByOffsetAndContinuesAtTheNextGoodOne) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path f = write_log(dir.path(), 3, 10);
  // Find the second block's offset by parsing, then flip a byte inside its payload.
  std::vector<std::uint64_t> block_offsets;
  {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    ttlog::parse(std::as_bytes(std::span(bytes.data(), bytes.size())), 0, true,
                 [&](const ttlog::Entry& e) {
                   if (block_offsets.empty() || block_offsets.back() != e.offset) block_offsets.push_back(e.offset);
                 },
                 [](const ttlog::Damage&) { FAIL() << "fresh file is damaged"; });
  }
  ASSERT_EQ(block_offsets.size(), 3u);
  {
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(block_offsets[1] + 40));
    io.put('\x7f');
  }
  const CatResult r = cat({f.string()});
  EXPECT_EQ(r.rc, 1);
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_NE(lines[9].find("event 9 "), std::string::npos);
  EXPECT_NE(lines[10].find("event 20 "), std::string::npos);
  EXPECT_NE(r.err.find("damaged data at offset " + std::to_string(block_offsets[1])), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("CRC mismatch"), std::string::npos) << r.err;
}

TEST(Ttlog, ReportsATruncatedTail) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path f = write_log(dir.path(), 2, 10);
  const auto size = fs::file_size(f);
  fs::resize_file(f, size - 5);
  const CatResult r = cat({f.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.lines().size(), 10u);
  EXPECT_NE(r.err.find("block truncated"), std::string::npos) << r.err;
}

TEST(Ttlog, RejectsAFileThatIsNotTtlogAndNamesIt) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path f = dir.path() / "plain.txt";
  std::ofstream(f) << "this is a plain text file, not a binary log\n";
  const CatResult r = cat({f.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("not a ttlog file header"), std::string::npos) << r.err;
  const CatResult missing = cat({(dir.path() / "nope.ttlog").string()});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("nope.ttlog"), std::string::npos);
}

TEST(Ttlog, FollowPrintsEventsAppendedWhileItRuns) {
  ringkit::telemetry::test::ScratchDir dir;
  const fs::path file = dir.path() / "live.ttlog";
  FileSinkOptions fo;
  fo.path = file;
  fo.format = FileFormat::Binary;
  LoggerOptions o;
  o.sinks = {std::make_shared<FileSink>(fo)};
  Logger log(std::move(o));
  RK_LOG_INFO(log, "first");
  log.flush();
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      RK_LOG_INFO(log, "later {}", i);
      log.flush();
    }
  });
  const CatResult r = cat({file.string(), "-f", "--follow-idle-exit", "1.5"});
  writer.join();
  EXPECT_EQ(r.rc, 0) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_NE(lines[0].find("first"), std::string::npos);
  EXPECT_NE(lines[5].find("later 4"), std::string::npos);
}

TEST(Ttlog, ParseNeverReadsPastGarbage) {
  // Random-ish bytes, a valid header, then junk: reported as damage, no crash, no entries.
  std::vector<std::byte> data(ttlog::kFileHeaderSize + 300);
  ttlog::write_file_header(data.data());
  for (std::size_t i = ttlog::kFileHeaderSize; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 131 + 7);
  int entries = 0, damages = 0;
  ttlog::parse(data, 0, true, [&](const ttlog::Entry&) { ++entries; }, [&](const ttlog::Damage&) { ++damages; });
  EXPECT_EQ(entries, 0);
  EXPECT_GE(damages, 1);
}

}  // namespace

// A damaged file may hold any byte where a bool argument was written; formatting reads the byte (non-zero
// is true) instead of loading an invalid bool object (fuzz_ttlog found this under UBSan).
TEST(Ttlog, ABoolArgumentByteOtherThanZeroOrOneFormatsAsTrue) {
  std::vector<ttlog::Arg> args{ttlog::Arg{ArgTag::boolean, "", std::string(1, '\x07')},
                        ttlog::Arg{ArgTag::boolean, "", std::string(1, '\x00')}};
  EXPECT_EQ(ttlog::format_raw("{} {}", args), "true false");
}
