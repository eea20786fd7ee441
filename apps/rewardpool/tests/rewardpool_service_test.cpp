// The reward service: actor + WAL over all four mailbox x log-buffer combinations; WAL-first acks,
// recovery after a clean stop, snapshots, fault injection reaching the clients, zero allocation per draw.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

// counting_allocator.hpp frees with std::free what its operator new got from malloc/aligned_alloc, which
// GCC -O1 cannot see and reports as -Wmismatched-new-delete (a false positive here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "counting_allocator.hpp"
#pragma GCC diagnostic pop
#include "rewardpool/service.hpp"
#include "scratch_dir.hpp"
#include "test_scale.hpp"

using namespace rewardpool;
namespace fs = std::filesystem;

namespace {

using TempDir = ringkit::test::ScratchDir;  // tests/support/scratch_dir.hpp

struct Combo {
  MailboxKind mailbox;
  BufferKind buffer;
  wal::Backend backend;
  RingWait wait = RingWait::Blocking;
};

std::string combo_name(const ::testing::TestParamInfo<Combo>& p) {
  return std::string(to_string(p.param.mailbox)) + "_" + std::string(to_string(p.param.buffer)) + "_" +
         std::string(wal::to_string(p.param.backend)) + (p.param.wait == RingWait::Park ? "_park" : "");
}

Catalog catalog(std::int64_t per_item) {
  return Catalog{{{"gold", per_item, 1.0}, {"silver", per_item, 3.0}, {"bronze", per_item, 6.0}, {"gem", 1, 0.01}}};
}

RingWait g_wait = RingWait::Blocking;  // set per test from the Combo

ServiceOptions options(const std::string& dir, wal::Backend backend, wal::SyncPolicy sync = {wal::SyncPolicy::Kind::None, {}}) {
  ServiceOptions o;
  o.ring_wait = g_wait;
  o.wal.dir = dir;
  o.wal.backend = backend;
  o.wal.sync = sync;
  o.wal.segment_bytes = 16 * 1024;  // several rotations
  o.mailbox_capacity = 64;
  o.log_capacity = 64;
  return o;
}

class ServiceTest : public ::testing::TestWithParam<Combo> {
 protected:
  void SetUp() override { g_wait = GetParam().wait; }
  void TearDown() override { g_wait = RingWait::Blocking; }
};

}  // namespace

TEST_P(ServiceTest, ConcurrentClientsDrainThePoolExactlyAndRecoveryAgrees) {
  const Combo c = GetParam();
  TempDir dir;
  const auto per_item = static_cast<std::int64_t>(ringkit::test::scaled(1500, 10));
  const Catalog initial = catalog(per_item);
  std::vector<std::string> warnings;
  ServiceState state = open_data_dir(dir.str(), &initial, false, warnings);
  ServiceOptions o = options(dir.str(), c.backend);
  o.snapshot_every = static_cast<std::uint64_t>(per_item);  // a few snapshots along the way
  auto svc = make_service(c.mailbox, c.buffer, state, o);
  constexpr int kClients = 4;
  std::vector<std::map<std::uint32_t, std::int64_t>> got(kClients);
  std::vector<std::set<std::uint64_t>> lsns(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto client = svc->client();
      for (;;) {
        const DrawResult r = client.draw();
        if (r.status == Status::Empty) break;
        ASSERT_EQ(r.status, Status::Ok);
        ++got[static_cast<std::size_t>(t)][r.index];
        lsns[static_cast<std::size_t>(t)].insert(r.lsn);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(svc->draw().status, Status::Empty);
  svc->stop();
  EXPECT_EQ(svc->draw().status, Status::Closed);
  const ServiceStats st = svc->stats();
  EXPECT_TRUE(st.wal_error.empty()) << st.wal_error;

  std::map<std::uint32_t, std::int64_t> total;
  std::set<std::uint64_t> all_lsns;
  for (int t = 0; t < kClients; ++t) {
    for (auto [i, n] : got[static_cast<std::size_t>(t)]) total[i] += n;
    for (auto l : lsns[static_cast<std::size_t>(t)]) EXPECT_TRUE(all_lsns.insert(l).second) << "lsn " << l << " acked twice";
  }
  for (std::uint32_t i = 0; i < initial.items.size(); ++i) EXPECT_EQ(total[i], initial.items[i].quantity) << "item " << i;

  if (c.backend == wal::Backend::Null) return;
  const wal::RecoveryResult r = wal::recover(dir.str());
  EXPECT_TRUE(r.warnings.empty());
  for (const Item& it : r.catalog.items) EXPECT_EQ(it.quantity, 0) << it.id;
  EXPECT_EQ(r.draws, static_cast<std::uint64_t>(3 * per_item + 1));
  EXPECT_EQ(r.lsn, st.lsn);
  EXPECT_GT(r.snapshot_lsn, 0u);
  EXPECT_GE(st.wal.snapshots, 2u);
}

TEST_P(ServiceTest, UpdatesAreLoggedAndRecovered) {
  const Combo c = GetParam();
  if (c.backend == wal::Backend::Null) GTEST_SKIP() << "nothing to recover";
  TempDir dir;
  const Catalog initial = catalog(5);
  std::vector<std::string> warnings;
  {
    auto svc = make_service(c.mailbox, c.buffer, open_data_dir(dir.str(), &initial, false, warnings),
                            options(dir.str(), c.backend, {}));
    EXPECT_EQ(svc->update("gold", 100, 2.0).status, Status::Ok);
    EXPECT_EQ(svc->update("nope", 1, 1.0).status, Status::UnknownItem);
    EXPECT_EQ(svc->update("gold", -1, 1.0).status, Status::InvalidArgument);
    EXPECT_EQ(svc->draw().status, Status::Ok);
    svc->stop();
  }
  ServiceState s = open_data_dir(dir.str(), nullptr, false, warnings);
  EXPECT_EQ(s.lsn, 2u);
  EXPECT_EQ(s.draws, 1u);
  std::int64_t sum = 0;
  for (const Item& it : s.catalog.items) sum += it.quantity;
  EXPECT_EQ(sum, 100 + 5 + 5 + 1 - 1);
  EXPECT_EQ(s.catalog.items[0].weight, 2.0);
  // Reopen and keep going from there.
  auto svc = make_service(c.mailbox, c.buffer, s, options(dir.str(), c.backend, {}));
  EXPECT_EQ(svc->draw().lsn, 3u);
  svc->stop();
  EXPECT_EQ(wal::recover(dir.str()).lsn, 3u);
}

TEST_P(ServiceTest, NoAllocationPerDraw) {
  const Combo c = GetParam();
  TempDir dir;
  const Catalog initial = catalog(1'000'000);
  std::vector<std::string> warnings;
  auto svc = make_service(c.mailbox, c.buffer, open_data_dir(dir.str(), &initial, false, warnings),
                          options(dir.str(), c.backend));
  auto client = svc->client();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(client.draw().status, Status::Ok);  // warm-up: buffers reach size
  const ringkit::test::AllocationCounter counter;
  const int n = static_cast<int>(ringkit::test::scaled(4000, 10));
  for (int i = 0; i < n; ++i) ASSERT_EQ(client.draw().status, Status::Ok);
  // Segment rotation (16 KiB segments) allocates a path string per new segment, not per draw.
  const long per_rotation_allowance = c.backend == wal::Backend::Null ? 0 : 16 * (n * 24 / (16 * 1024) + 1);
  EXPECT_LE(counter.allocations(), per_rotation_allowance) << "allocations in " << n << " draws";
  svc->stop();
}

INSTANTIATE_TEST_SUITE_P(
    Combos, ServiceTest,
    ::testing::Values(Combo{MailboxKind::Channel, BufferKind::Vector, wal::Backend::File},
                      Combo{MailboxKind::Ring, BufferKind::Vector, wal::Backend::File},
                      Combo{MailboxKind::Channel, BufferKind::Ring, wal::Backend::Mmap},
                      Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::File},
                      Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::Mmap},
                      Combo{MailboxKind::Channel, BufferKind::Vector, wal::Backend::Null},
                      Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::Null},
                      Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::File, RingWait::Park},
                      Combo{MailboxKind::Ring, BufferKind::Vector, wal::Backend::Mmap, RingWait::Park}),
    combo_name);

// ---- fault injection: a failing write/fsync reaches the waiting clients ----------------------------
class ServiceFaultTest : public ::testing::TestWithParam<std::tuple<MailboxKind, BufferKind, int>> {};

TEST_P(ServiceFaultTest, FailedIoIsAnErrorNeverAnAckOfAnUnwrittenDraw) {
  const auto [mailbox, buffer, which] = GetParam();  // which: 0 = write, 1 = fsync
  for (long nth : {1L, 3L, 17L}) {
    TempDir dir;
    const Catalog initial = catalog(100000);
    std::vector<std::string> warnings;
    ServiceState state = open_data_dir(dir.str(), &initial, false, warnings);
    wal::FaultyFileIo io;
    ServiceOptions o = options(dir.str(), wal::Backend::File, {});  // sync always
    o.wal.io = &io;
    auto svc = make_service(mailbox, buffer, state, o);
    // Arm after the segment was created.
    if (which == 0) io.fail_write_at = io.writes.load() + nth;
    else io.fail_sync_at = io.syncs.load() + nth;
    constexpr int kClients = 3;
    std::vector<std::vector<DrawResult>> acked(kClients);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        auto client = svc->client();
        for (int i = 0; i < 200; ++i) {
          const DrawResult r = client.draw();
          if (r.status == Status::Ok) {
            acked[static_cast<std::size_t>(t)].push_back(r);
          } else {
            ASSERT_EQ(r.status, Status::WalError);
            ++errors;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    svc->stop();
    EXPECT_GT(errors.load(), 0) << "nth=" << nth;
    EXPECT_FALSE(svc->stats().wal_error.empty());
    // Every acknowledged draw is in the log, at its LSN, with its item.
    wal::RecoveryOptions ro;
    ro.collect_records = true;
    const wal::RecoveryResult r = wal::recover(dir.str(), ro);
    std::map<std::uint64_t, std::uint32_t> logged;
    for (const wal::Record& rec : r.records) logged[rec.lsn] = rec.item;
    std::size_t n_acked = 0;
    for (const auto& v : acked) {
      for (const DrawResult& d : v) {
        ++n_acked;
        ASSERT_TRUE(logged.count(d.lsn)) << "acked lsn " << d.lsn << " is not in the log";
        EXPECT_EQ(logged[d.lsn], d.index);
      }
    }
    EXPECT_LE(n_acked, r.records.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, ServiceFaultTest,
                         ::testing::Combine(::testing::Values(MailboxKind::Channel, MailboxKind::Ring),
                                            ::testing::Values(BufferKind::Vector, BufferKind::Ring),
                                            ::testing::Values(0, 1)));
