// SPDX-License-Identifier: MIT
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
#include <optional>
#include <random>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "rewardpool/wal.hpp"
#include "rewardpool_test.hpp"

using namespace rewardpool;
namespace fs = std::filesystem;

namespace {

using test::read_text;
using test::TempDir;
using test::wait_exit;

struct Child {
  pid_t pid = -1;
  int ack_fd = -1;  // read end
};

// Starts `rewardpool` with `args`; its stdout and stderr go to `out_path`; --ack-fd is added when `acks`.
Child spawn(std::vector<std::string> args, bool acks, const std::string& out_path) {
  int fds[2] = {-1, -1};
  if (acks) {
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    args.push_back("--ack-fd");
    args.push_back(std::to_string(fds[1]));
  }
  const pid_t pid = test::spawn_rewardpool(std::move(args), out_path, -1, fds[0]);
  if (acks) ::close(fds[1]);
  return Child{pid, fds[0]};
}

}  // namespace

namespace {

const std::map<std::string, std::int64_t> kInitial{{"gold", 300}, {"silver", 3000}, {"bronze", 1'000'000'000'000}};

std::string write_catalog(const fs::path& dir) {
  const std::string path = (dir / "catalog.json").string();
  std::ofstream(path) << R"({"items": [{"id": "gold", "quantity": 300, "weight": 1},
                                       {"id": "silver", "quantity": 3000, "weight": 5},
                                       {"id": "bronze", "quantity": 1000000000000, "weight": 20}]})";
  return path;
}

struct AckedDraw {
  std::uint64_t lsn;
  std::uint32_t item;
};

// Runs `rewardpool run` with `args` and --ack-fd, SIGKILLs it `kill_after` after its first
// acknowledgement; returns every acknowledgement it made. Fails the test if it never acknowledged or
// exited by itself.
std::vector<AckedDraw> run_and_kill(const std::vector<std::string>& args, std::chrono::milliseconds kill_after,
                                    const std::string& out_path) {
  Child c = spawn(args, true, out_path);
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
        break;  // EOF: the child is gone
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!killed && first_ack && now - *first_ack >= kill_after) {
      ::kill(c.pid, SIGKILL);
      killed = true;
    }
    if (now > watchdog) {
      ::kill(c.pid, SIGKILL);
      killed = true;
      ADD_FAILURE() << "no progress in 120 s: " << read_text(out_path);
    }
  }
  ::close(c.ack_fd);
  const int status = wait_exit(c.pid);
  EXPECT_TRUE(killed) << "the child exited by itself with " << status << ": " << read_text(out_path);
  EXPECT_EQ(status, 128 + SIGKILL);
  EXPECT_EQ(bytes.size() % 12, 0u) << "acks are written whole (12 bytes < PIPE_BUF)";
  std::vector<AckedDraw> acks;
  for (std::size_t i = 0; i + 12 <= bytes.size(); i += 12) {
    const auto* b = reinterpret_cast<const std::byte*>(bytes.data() + i);
    acks.push_back({wal::get_u64(b), wal::get_u32(b + 8)});
  }
  EXPECT_FALSE(acks.empty());
  return acks;
}

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : def;
}

}  // namespace

// Per ack level: a child draws under load and is SIGKILLed at random moments; after every kill the
// directory is recovered as the next start-up would. At `written` and `durable` no acknowledged draw is
// lost (a process crash keeps the page cache); at `applied` the acknowledged draws that are not in the
// log are counted and reported (the loss window). At every level nothing is oversold and the recovered
// state is exactly the initial catalog minus the logged draws. A SIGKILL cannot tell `written` from
// `durable` (both survive it; only a power loss separates them): that `durable` waits for an fdatasync
// covering the record, and `written` for the write() only, is checked at the file layer by
// ServiceAckLevel.WrittenWaitsForTheWriteAndDurableForTheFdatasyncOfTheFileLayer (service test).
TEST(RewardpoolCrash, PerAckLevelSigkillAtRandomMomentsLosesNothingAcknowledged) {
  // make test: a few rounds per level; make soak: REWARDPOOL_CRASH_ROUNDS in total (1,000), at most
  // SOAK_MINUTES.
  const int total_rounds = env_int("REWARDPOOL_CRASH_ROUNDS", 3 * static_cast<int>(test::scaled(3, 1)));
  const int soak_minutes = env_int("SOAK_MINUTES", 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(soak_minutes > 0 ? soak_minutes : 24 * 60);
  const char* levels[] = {"written", "durable", "applied"};
  const char* combos[4][2] = {{"ring", "ring"}, {"channel", "vector"}, {"ring", "vector"}, {"channel", "ring"}};
  std::mt19937 rng(20251202);
  int rounds_done = 0;
  for (int level = 0; level < 3; ++level) {
    TempDir tmp;
    const std::string data = (tmp.path() / "data").string();
    const std::string catalog_path = write_catalog(tmp.path());
    std::map<std::uint64_t, std::uint32_t> acked;  // written/durable: lsn -> item, over every round
    std::map<std::uint32_t, std::int64_t> acked_per_item;
    std::uint64_t applied_lost_max = 0, applied_lost_total = 0, applied_acked_total = 0;
    const int rounds = total_rounds / 3 + (level < total_rounds % 3);
    for (int round = 0; round < rounds && std::chrono::steady_clock::now() < deadline; ++round, ++rounds_done) {
      const auto& combo = combos[round % 4];
      const std::string backend = round % 2 ? "mmap" : "file";
      const auto kill_after = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 250)(rng));
      const std::vector<AckedDraw> acks = run_and_kill(
          {"run", "--catalog", catalog_path, "--data-dir", data, "--clients", "4", "--draws", "1000000000", "--mailbox",
           combo[0], "--log-buffer", combo[1], "--wal", backend, "--ack", levels[level], "--segment-bytes", "8192",
           "--snapshot-every", "150", "--quiet", "--seed", std::to_string(round)},
          kill_after, (tmp.path() / "out.txt").string());
      if (HasFailure()) return;

      wal::RecoveryOptions ro;
      ro.collect_records = true;
      const wal::RecoveryResult r = wal::recover(data, ro);
      std::map<std::uint64_t, std::uint32_t> logged;
      for (const auto& rec : r.records)
        if (rec.type == wal::RecordType::Draw) logged[rec.lsn] = rec.item;
      std::int64_t drawn_total = 0;
      for (std::uint32_t i = 0; i < r.catalog.items.size(); ++i) {
        const Item& it = r.catalog.items[i];
        ASSERT_GE(it.quantity, 0) << it.id << " oversold";
        drawn_total += kInitial.at(it.id) - it.quantity;
      }
      ASSERT_EQ(static_cast<std::uint64_t>(drawn_total), r.draws) << "the recovered state is the catalog minus the log";
      if (std::string(levels[level]) == "applied") {
        // Acknowledged in memory only: those above the recovered LSN are lost (their LSNs will be reused).
        std::uint64_t lost = 0;
        for (const AckedDraw& a : acks) lost += a.lsn > r.lsn;
        applied_lost_max = std::max(applied_lost_max, lost);
        applied_lost_total += lost;
        applied_acked_total += acks.size();
        continue;
      }
      for (const AckedDraw& a : acks) {
        ASSERT_TRUE(acked.emplace(a.lsn, a.item).second)
            << levels[level] << " round " << round << ": lsn " << a.lsn << " acknowledged twice: a draw was lost and its LSN reused";
        ++acked_per_item[a.item];
      }
      ASSERT_GE(r.lsn, acked.rbegin()->first) << levels[level] << " round " << round;
      for (const auto& [lsn, item] : acked) {
        if (lsn <= r.snapshot_lsn) continue;  // folded into the snapshot; counted below
        const auto it = logged.find(lsn);
        ASSERT_NE(it, logged.end()) << levels[level] << " round " << round << ": acknowledged lsn " << lsn << " is not in the log";
        ASSERT_EQ(it->second, item);
      }
      for (std::uint32_t i = 0; i < r.catalog.items.size(); ++i) {
        ASSERT_GE(kInitial.at(r.catalog.items[i].id) - r.catalog.items[i].quantity, acked_per_item[i])
            << levels[level] << " round " << round << ": " << r.catalog.items[i].id << " lost acknowledged draws";
      }
    }
    if (std::string(levels[level]) == "applied") {
      std::printf("ack applied: loss window over %d rounds: %llu of %llu acknowledged draws lost (max %llu in one kill)\n",
                  rounds, static_cast<unsigned long long>(applied_lost_total),
                  static_cast<unsigned long long>(applied_acked_total), static_cast<unsigned long long>(applied_lost_max));
    } else {
      std::printf("ack %s: %d rounds, %zu acknowledged draws, none lost\n", levels[level], rounds, acked.size());
    }
  }
  std::printf("crash rounds done: %d\n", rounds_done);
}

TEST(RewardpoolCrash, CommandLineContractOfRunAndInspect) {
  TempDir tmp;
  const std::string data = (tmp.path() / "data").string();
  const std::string catalog_path = write_catalog(tmp.path());
  const std::string out = (tmp.path() / "out.txt").string();
  Child first = spawn({"run", "--catalog", catalog_path, "--data-dir", data, "--draws", "500", "--quiet"}, false, out);
  ASSERT_EQ(wait_exit(first.pid), 0) << read_text(out);

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
  // Defect 5: --wal none with a data directory is refused, naming both, instead of ignoring DIR.
  Child none = spawn({"run", "--wal", "none", "--ack", "applied", "--data-dir", data, "--catalog", catalog_path}, false, err_path);
  EXPECT_EQ(wait_exit(none.pid), 2);
  EXPECT_NE(read_text(err_path).find("--wal none keeps nothing, so --data-dir"), std::string::npos) << read_text(err_path);
  Child none_ok = spawn({"run", "--wal", "none", "--ack", "applied", "--catalog", catalog_path, "--draws", "100"}, false, err_path);
  EXPECT_EQ(wait_exit(none_ok.pid), 0);
  EXPECT_NE(read_text(err_path).find("wal none (nothing is kept), ack applied"), std::string::npos) << read_text(err_path);
  Child help = spawn({"bench", "--help"}, false, err_path);
  EXPECT_EQ(wait_exit(help.pid), 0);
}

// Defect 1, as a new user met it: the mmap backend on a full tmpfs. Needs root to mount a tmpfs
// (skipped otherwise).
TEST(RewardpoolCrash, MmapOnAFullDiskFailsCleanlyAndKeepsWhatWasAcknowledged) {
  TempDir tmp;
  const fs::path mnt = tmp.path() / "small";
  fs::create_directories(mnt);
  if (::geteuid() != 0 || std::system(("mount -t tmpfs -o size=2m tmpfs " + mnt.string() + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { (void)std::system(("umount " + p.string()).c_str()); }
  } unmount{mnt};
  const std::string data = (mnt / "data").string();
  const std::string catalog_path = write_catalog(tmp.path());
  const std::string err = (tmp.path() / "err.txt").string();
  Child c = spawn({"run", "--catalog", catalog_path, "--data-dir", data, "--wal", "mmap", "--ack", "written",
                   "--segment-bytes", "1048576", "--draws", "200000", "--clients", "1", "--quiet"},
                  true, err);
  std::vector<unsigned char> bytes;
  unsigned char buf[4096];
  for (ssize_t n; (n = ::read(c.ack_fd, buf, sizeof buf)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
  ::close(c.ack_fd);
  const int status = wait_exit(c.pid);
  EXPECT_EQ(status, 1) << "exit 135 is SIGBUS: " << read_text(err);
  EXPECT_NE(read_text(err).find("No space left on device"), std::string::npos) << read_text(err);
  const wal::RecoveryResult r = wal::recover(data);
  EXPECT_GE(r.draws, bytes.size() / 12) << "acknowledged draws were lost";
  EXPECT_GT(bytes.size(), 0u);
}
