// Crash test (RELIABILITY row 12): fork/exec `rewardpool run` drawing under load with --sync always,
// SIGKILL it at random moments, restart, and check after every round that the recovered catalog is the
// initial one minus every acknowledged draw (plus at most the draws in flight at the kill), that no
// acknowledged draw was lost (its LSN is never reused, its record names its item) and nothing is
// oversold. Also the CLI contract of `inspect` (JSON, exit codes) on the same directory.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "rewardpool/wal.hpp"
#include "scratch_dir.hpp"
#include "test_scale.hpp"

#ifndef REWARDPOOL_BIN
#error "REWARDPOOL_BIN (the rewardpool binary) is set by apps/rewardpool/CMakeLists.txt"
#endif

using namespace rewardpool;
namespace fs = std::filesystem;

namespace {

using TempDir = ringkit::test::ScratchDir;  // tests/support/scratch_dir.hpp

struct Child {
  pid_t pid = -1;
  int ack_fd = -1;  // read end
};

// Starts `rewardpool` with `args`; its stdout goes to `out_path`; --ack-fd is added when `acks`.
Child spawn(std::vector<std::string> args, bool acks, const std::string& out_path) {
  int fds[2] = {-1, -1};
  if (acks) {
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    args.push_back("--ack-fd");
    args.push_back(std::to_string(fds[1]));
  }
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (acks) ::close(fds[0]);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    std::vector<char*> argv;
    static std::string bin = REWARDPOOL_BIN;
    argv.push_back(bin.data());
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  if (acks) ::close(fds[1]);
  return Child{pid, fds[0]};
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(RewardpoolCrashTest, SigkillAtRandomMomentsLosesNoAcknowledgedDraw) {
  TempDir tmp;
  const std::string data = (tmp.path() / "data").string();
  const std::string catalog_path = (tmp.path() / "catalog.json").string();
  const std::map<std::string, std::int64_t> initial{{"gold", 300}, {"silver", 3000}, {"bronze", 1'000'000}};
  std::ofstream(catalog_path) << R"({"items": [{"id": "gold", "quantity": 300, "weight": 1},
                                               {"id": "silver", "quantity": 3000, "weight": 5},
                                               {"id": "bronze", "quantity": 1000000, "weight": 20}]})";
  constexpr unsigned kClients = 4;
  const int rounds = static_cast<int>(ringkit::test::scaled(6, 2));
  std::mt19937 rng(20251122);
  std::map<std::uint64_t, std::uint32_t> acked;  // lsn -> item, every round
  std::map<std::uint32_t, std::int64_t> acked_per_item;
  const char* combos[4][2] = {{"ring", "ring"}, {"channel", "vector"}, {"ring", "vector"}, {"channel", "ring"}};
  for (int round = 0; round < rounds; ++round) {
    const auto& combo = combos[round % 4];
    const std::string backend = round % 2 ? "mmap" : "file";
    Child c = spawn({"run", "--catalog", catalog_path, "--data-dir", data, "--clients", std::to_string(kClients),
                     "--draws", "1000000000", "--mailbox", combo[0], "--wal-buffer", combo[1], "--wal", backend,
                     "--sync", "always", "--segment-bytes", "8192", "--snapshot-every", "150", "--quiet", "--seed",
                     std::to_string(round), "--ring-wait", round % 3 == 2 ? "park" : "blocking"},
                    true, (tmp.path() / "out.txt").string());
    // Kill at a random moment once acks flow.
    const auto kill_after = std::chrono::milliseconds(std::uniform_int_distribution<int>(30, 300)(rng));
    std::vector<unsigned char> bytes;
    std::optional<std::chrono::steady_clock::time_point> first_ack;
    const auto watchdog = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool killed = false;
    for (;;) {
      pollfd p{c.ack_fd, POLLIN, 0};
      ::poll(&p, 1, 5);
      if (p.revents & (POLLIN | POLLHUP)) {
        unsigned char buf[4096];
        const ssize_t n = ::read(c.ack_fd, buf, sizeof buf);
        if (n > 0) {
          bytes.insert(bytes.end(), buf, buf + n);
          if (!first_ack) first_ack = std::chrono::steady_clock::now();
        } else if (n == 0) {
          break;  // EOF: the child is gone (after the kill, or it died)
        }
      }
      const auto now = std::chrono::steady_clock::now();
      if (!killed && first_ack && now - *first_ack >= kill_after) {
        ::kill(c.pid, SIGKILL);
        killed = true;
      }
      if (now > watchdog) {
        ::kill(c.pid, SIGKILL);
        wait_exit(c.pid);
        FAIL() << "round " << round << ": no progress in 120 s";
      }
    }
    ::close(c.ack_fd);
    const int status = wait_exit(c.pid);
    ASSERT_TRUE(killed) << "round " << round << ": the child exited by itself with " << status;
    ASSERT_EQ(status, 128 + SIGKILL);
    ASSERT_EQ(bytes.size() % 12, 0u) << "acks are written whole (12 bytes < PIPE_BUF)";
    const std::size_t round_acks = bytes.size() / 12;
    ASSERT_GT(round_acks, 0u);
    for (std::size_t i = 0; i < bytes.size(); i += 12) {
      const auto* b = reinterpret_cast<const std::byte*>(bytes.data() + i);
      const std::uint64_t lsn = wal::get_u64(b);
      const std::uint32_t item = wal::get_u32(b + 8);
      ASSERT_TRUE(acked.emplace(lsn, item).second)
          << "round " << round << ": lsn " << lsn << " acknowledged twice: an acknowledged draw was lost and its LSN reused";
      ++acked_per_item[item];
    }

    // Recover (as the next start-up will) and compare.
    wal::RecoveryOptions ro;
    ro.collect_records = true;
    const wal::RecoveryResult r = wal::recover(data, ro);
    ASSERT_GE(r.lsn, acked.rbegin()->first) << "round " << round;
    std::map<std::uint64_t, std::uint32_t> logged;
    for (const auto& rec : r.records) {
      if (rec.type == wal::RecordType::Draw) logged[rec.lsn] = rec.item;
    }
    for (const auto& [lsn, item] : acked) {
      if (lsn <= r.snapshot_lsn) continue;  // folded into the snapshot; counted below
      const auto it = logged.find(lsn);
      ASSERT_NE(it, logged.end()) << "round " << round << ": acknowledged lsn " << lsn << " is not in the log";
      ASSERT_EQ(it->second, item) << "round " << round << ": lsn " << lsn;
    }
    std::int64_t drawn_total = 0;
    for (std::uint32_t i = 0; i < r.catalog.items.size(); ++i) {
      const Item& it = r.catalog.items[i];
      const std::int64_t drawn = initial.at(it.id) - it.quantity;
      ASSERT_GE(it.quantity, 0) << it.id << " oversold";
      ASSERT_GE(drawn, acked_per_item[i]) << "round " << round << ": " << it.id << " lost acknowledged draws";
      drawn_total += drawn;
    }
    EXPECT_EQ(static_cast<std::uint64_t>(drawn_total), r.draws);
    std::printf("round %d (%s+%s, %s): killed after %lld ms, %zu acks; recovered lsn %llu, snapshot lsn %llu, "
                "%lld drawn in total, %zu acknowledged\n",
                round, combo[0], combo[1], backend.c_str(), static_cast<long long>(kill_after.count()), round_acks,
                static_cast<unsigned long long>(r.lsn), static_cast<unsigned long long>(r.snapshot_lsn),
                static_cast<long long>(drawn_total), acked.size());
    // Durable but unacknowledged draws: at most one in flight per client per kill.
    EXPECT_LE(static_cast<std::uint64_t>(drawn_total) - acked.size(), static_cast<std::uint64_t>(kClients) * static_cast<std::uint64_t>(round + 1))
        << "round " << round;
  }

  // inspect agrees with recovery, in JSON, and exits 0 on a clean directory.
  const std::string json_path = (tmp.path() / "inspect.json").string();
  Child ins = spawn({"inspect", "--data-dir", data, "--json"}, false, json_path);
  ASSERT_EQ(wait_exit(ins.pid), 0) << read_text(json_path);
  const auto j = nlohmann::json::parse(read_text(json_path));
  const wal::RecoveryResult r = wal::recover(data);
  EXPECT_EQ(j.at("lsn").get<std::uint64_t>(), r.lsn);
  EXPECT_EQ(j.at("draws").get<std::uint64_t>(), r.draws);
  ASSERT_EQ(j.at("items").size(), 3u);
  EXPECT_EQ(j.at("items")[0].at("id"), "gold");
  EXPECT_EQ(j.at("items")[0].at("remaining").get<std::int64_t>(), r.catalog.items[0].quantity);

  // Damage before the tail: inspect exits non-zero naming segment and offset; run refuses to start
  // unless --repair.
  // A clean run appends a segment of 50 draws; damage its first record, which another follows, so the
  // damage is not a torn tail.
  Child more = spawn({"run", "--data-dir", data, "--draws", "50", "--sync", "none", "--quiet"}, false,
                     (tmp.path() / "more.txt").string());
  ASSERT_EQ(wait_exit(more.pid), 0) << read_text((tmp.path() / "more.txt").string());
  fs::path seg;
  for (const auto& s : wal::recover(data).segments) {
    if (s.records >= 2) seg = fs::path(data) / s.name;
  }
  ASSERT_FALSE(seg.empty());
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(wal::kSegmentHeaderSize + wal::kRecordHeaderSize + 1));
    f.put('\x55');
  }
  const std::string err_path = (tmp.path() / "inspect.txt").string();
  Child bad = spawn({"inspect", "--data-dir", data, "--json"}, false, err_path);
  EXPECT_EQ(wait_exit(bad.pid), 1);
  EXPECT_NE(read_text(err_path).find(seg.string() + " offset " + std::to_string(wal::kSegmentHeaderSize)), std::string::npos)
      << read_text(err_path);
  Child refuse = spawn({"run", "--data-dir", data, "--draws", "10", "--quiet"}, false, err_path);
  EXPECT_EQ(wait_exit(refuse.pid), 1);
  Child repair = spawn({"run", "--data-dir", data, "--draws", "10", "--quiet", "--repair", "--sync", "none"}, false, err_path);
  EXPECT_EQ(wait_exit(repair.pid), 0);
  Child clean = spawn({"inspect", "--data-dir", data}, false, err_path);
  EXPECT_EQ(wait_exit(clean.pid), 0) << read_text(err_path);

  // Usage errors exit 2.
  Child usage = spawn({"run", "--mailbox", "pigeon", "--catalog", catalog_path, "--wal", "none"}, false, err_path);
  EXPECT_EQ(wait_exit(usage.pid), 2);
  Child usage2 = spawn({"inspect"}, false, err_path);
  EXPECT_EQ(wait_exit(usage2.pid), 2);
}
