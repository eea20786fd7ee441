// SPDX-License-Identifier: MIT
// The reward service: blocking and asynchronous clients over the four mailbox x log-buffer combinations
// and the three WAL backends; ack levels gate delivery; recovery agrees with what was delivered; a failing
// write or sync reaches the clients as WalError, never as an acknowledgement; zero allocation per draw.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

// The counting global operator new/delete for this executable (ringkit::AllocationCounter below).
#define RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS
#include <ringkit/alloc_counter.hpp>

#include "faulty_file_io.hpp"
#include "rewardpool/async_client.hpp"
#include "rewardpool/service.hpp"
#include "rewardpool_test.hpp"

using namespace rewardpool;
namespace fs = std::filesystem;

namespace {

using test::GatedFileIo;
using test::HeldSegmentWriteIo;
using test::WatchedFileIo;
using test::TempDir;

struct Combo {
  MailboxKind mailbox;
  BufferKind buffer;
  wal::Backend backend;
};

std::string combo_name(const ::testing::TestParamInfo<Combo>& p) {
  return std::string(to_string(p.param.mailbox)) + "_" + std::string(to_string(p.param.buffer)) + "_" +
         std::string(wal::to_string(p.param.backend));
}

Catalog catalog(std::int64_t per_item) {
  return Catalog{{{"gold", per_item, 1.0}, {"silver", per_item, 3.0}, {"bronze", per_item, 6.0}, {"gem", 1, 0.01}}};
}

ServiceOptions options(const std::string& dir, wal::Backend backend, Ack ack = Ack::Written) {
  ServiceOptions o;
  o.wal.dir = dir;
  o.wal.backend = backend;
  o.default_ack = backend == wal::Backend::Null ? Ack::Applied : ack;
  o.wal.segment_bytes = 16 * 1024;  // several rotations
  o.mailbox_capacity = 64;
  o.log_capacity = 64;
  o.window = 64;
  return o;
}

ServiceState fresh(const TempDir& dir, const Catalog& c, wal::Backend backend) {
  if (backend == wal::Backend::Null) return ServiceState{c, 0, 0, 1, 1};
  std::vector<std::string> warnings;
  return open_data_dir(dir.str(), &c, false, warnings);
}

class ServiceCombo : public ::testing::TestWithParam<Combo> {};

}  // namespace

TEST_P(ServiceCombo, ConcurrentBlockingClientsDrainThePoolExactlyAndRecoveryAgrees) {
  const Combo c = GetParam();
  TempDir dir;
  const auto per_item = static_cast<std::int64_t>(test::scaled(1500, 10));
  const Catalog initial = catalog(per_item);
  ServiceOptions o = options(dir.str(), c.backend);
  o.snapshot_every = static_cast<std::uint64_t>(per_item);  // a few snapshots along the way
  auto svc = make_service(c.mailbox, c.buffer, fresh(dir, initial, c.backend), o);
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
  EXPECT_TRUE(st.snapshot_error.empty()) << st.snapshot_error;

  std::map<std::uint32_t, std::int64_t> total;
  std::set<std::uint64_t> all_lsns;
  for (int t = 0; t < kClients; ++t) {
    for (auto [i, n] : got[static_cast<std::size_t>(t)]) total[i] += n;
    for (auto l : lsns[static_cast<std::size_t>(t)]) EXPECT_TRUE(all_lsns.insert(l).second) << "lsn " << l << " acked twice";
  }
  for (std::uint32_t i = 0; i < initial.items.size(); ++i) EXPECT_EQ(total[i], initial.items[i].quantity) << "item " << i;

  if (c.backend == wal::Backend::Null) return;
  const wal::RecoveryResult r = wal::recover(dir.str());
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  for (const Item& it : r.catalog.items) EXPECT_EQ(it.quantity, 0) << it.id;
  EXPECT_EQ(r.draws, static_cast<std::uint64_t>(3 * per_item + 1));
  EXPECT_EQ(r.lsn, st.lsn);
  EXPECT_GE(st.snapshots, 1u);
}

TEST_P(ServiceCombo, PipelinedDrawsCompleteOnceInOrderAtEveryAckLevel) {
  const Combo c = GetParam();
  for (Ack ack : {Ack::Applied, Ack::Written, Ack::Durable}) {
    if (c.backend == wal::Backend::Null && ack != Ack::Applied) continue;
    TempDir dir;
    const auto n = static_cast<std::uint32_t>(test::scaled(20000, 10));
    auto svc = make_service(c.mailbox, c.buffer, fresh(dir, Catalog{{{"gold", n, 1.0}, {"mud", kUnlimited, 3.0}}}, c.backend),
                            options(dir.str(), c.backend, ack));
    auto client = svc->client(256);
    std::array<Completion, 100> buf;
    std::uint64_t submitted = 0, last_id = 0, last_lsn = 0;
    std::vector<std::uint64_t> expected_tags;  // one per draw, in submission order
    std::vector<Completion> all;
    auto take = [&](std::size_t k) {
      for (std::size_t i = 0; i < k; ++i) {
        const Completion& d = buf[i];
        ASSERT_EQ(d.status, Status::Ok);
        ASSERT_LT(all.size(), expected_tags.size());
        ASSERT_EQ(d.tag, expected_tags[all.size()]) << "completions come in submission order";
        ASSERT_GT(d.request_id, last_id);
        ASSERT_GT(d.lsn, last_lsn);
        ASSERT_EQ(d.ack, ack);
        if (ack != Ack::Applied) {
          ASSERT_LE(d.lsn, svc->published_lsn(ack)) << "delivered before its ack level";
        }
        last_id = d.request_id;
        last_lsn = d.lsn;
        all.push_back(d);
      }
    };
    while (submitted < n) {
      const std::uint32_t k = submitted % 7 == 3 ? std::min<std::uint32_t>(5, static_cast<std::uint32_t>(n - submitted)) : 1;
      const Submit s = k == 1 ? client.submit_draw(submitted) : client.submit_draw_n(k, submitted);
      if (s == Submit::Accepted) {
        expected_tags.insert(expected_tags.end(), k, submitted);  // a draw_n's completions share its tag
        submitted += k;
        continue;
      }
      ASSERT_TRUE(s == Submit::WindowFull || s == Submit::Busy) << to_string(s);
      take(client.wait(buf));
    }
    while (client.in_flight() > 0) take(client.wait(buf));
    ASSERT_EQ(all.size(), n);
    EXPECT_EQ(client.wait(buf), 0u) << "nothing in flight: wait returns at once";
    svc->stop();
    if (c.backend == wal::Backend::Null) continue;
    wal::RecoveryOptions ro;
    ro.collect_records = true;
    const wal::RecoveryResult r = wal::recover(dir.str(), ro);
    std::set<std::uint64_t> logged;
    for (const auto& rec : r.records)
      if (rec.type == wal::RecordType::Draw) logged.insert(rec.lsn);
    for (const Completion& d : all) ASSERT_TRUE(logged.count(d.lsn)) << "delivered lsn " << d.lsn << " not in the log";
  }
}

TEST_P(ServiceCombo, UpdatesAreLoggedAndRecoveredAndRequestIdsKeepIncreasingAcrossRestarts) {
  const Combo c = GetParam();
  if (c.backend == wal::Backend::Null) GTEST_SKIP() << "nothing to recover";
  TempDir dir;
  const Catalog initial = catalog(5);
  std::vector<std::string> warnings;
  std::uint64_t last_id = 0;
  {
    auto svc = make_service(c.mailbox, c.buffer, fresh(dir, initial, c.backend), options(dir.str(), c.backend, Ack::Durable));
    EXPECT_EQ(svc->update("gold", 100, 2.0).status, Status::Ok);
    EXPECT_EQ(svc->update("nope", 1, 1.0).status, Status::UnknownItem);
    EXPECT_EQ(svc->update("gold", -2, 1.0).status, Status::InvalidArgument);
    auto client = svc->client();
    ASSERT_EQ(client.submit_draw(), Submit::Accepted);
    std::array<Completion, 1> one;
    ASSERT_EQ(client.wait(one), 1u);
    EXPECT_EQ(one[0].status, Status::Ok);
    last_id = one[0].request_id;
    svc->stop();
  }
  ServiceState s = open_data_dir(dir.str(), nullptr, false, warnings);
  EXPECT_EQ(s.draws, 1u);
  EXPECT_GT(s.next_request_id, last_id);
  std::int64_t sum = 0;
  for (const Item& it : s.catalog.items) sum += it.quantity;
  EXPECT_EQ(sum, 100 + 5 + 5 + 1 - 1);
  EXPECT_EQ(s.catalog.items[0].weight, 2.0);
  const std::uint64_t lsn = s.lsn;
  auto svc = make_service(c.mailbox, c.buffer, s, options(dir.str(), c.backend, Ack::Durable));
  auto client = svc->client();
  ASSERT_EQ(client.submit_draw(), Submit::Accepted);
  std::array<Completion, 1> one;
  ASSERT_EQ(client.wait(one), 1u);
  EXPECT_GT(one[0].request_id, last_id) << "request ids increase across restarts";
  EXPECT_GT(one[0].lsn, lsn);
  svc->stop();
}

TEST_P(ServiceCombo, NoAllocationPerDrawBlockingOrPipelined) {
  const Combo c = GetParam();
  TempDir dir;
  ServiceOptions o = options(dir.str(), c.backend);
  o.wal.segment_bytes = 64 << 20;  // no rotation in the measured part
  // The vector log buffer allocates whenever a batch outgrows every earlier one (as the Go original's
  // slice does); with 256 draws in flight at `written`, a batch holds at most ~260 records.
  o.log_capacity = 1024;
  auto svc = make_service(c.mailbox, c.buffer, fresh(dir, catalog(1'000'000), c.backend), o);
  auto client = svc->client(256);
  std::array<Completion, 64> buf;
  auto pipelined = [&](int n) {
    int submitted = 0;
    while (submitted < n) {
      if (client.submit_draw() == Submit::Accepted) {
        ++submitted;
        continue;
      }
      for (std::size_t k = client.wait(buf), i = 0; i < k; ++i) ASSERT_EQ(buf[i].status, Status::Ok);
    }
    while (client.in_flight()) client.wait(buf);
  };
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(client.draw().status, Status::Ok);  // warm-up: buffers reach size
  pipelined(5000);
  const ringkit::AllocationCounter counter;
  const int n = static_cast<int>(test::scaled(4000, 10));
  for (int i = 0; i < n; ++i) ASSERT_EQ(client.draw().status, Status::Ok);
  pipelined(4 * n);
  EXPECT_EQ(counter.allocations(), 0) << "allocations in " << 5 * n << " draws";
  svc->stop();
}

INSTANTIATE_TEST_SUITE_P(Combos, ServiceCombo,
                         ::testing::Values(Combo{MailboxKind::Channel, BufferKind::Vector, wal::Backend::File},
                                           Combo{MailboxKind::Ring, BufferKind::Vector, wal::Backend::File},
                                           Combo{MailboxKind::Channel, BufferKind::Ring, wal::Backend::Mmap},
                                           Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::File},
                                           Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::Mmap},
                                           Combo{MailboxKind::Channel, BufferKind::Vector, wal::Backend::Null},
                                           Combo{MailboxKind::Ring, BufferKind::Ring, wal::Backend::Null}),
                         combo_name);

// ---- client handle edges ---------------------------------------------------------------------------
TEST(ServiceClient, WindowBoundsInFlightAndBadCountsAreRefused) {
  auto svc = make_service(MailboxKind::Ring, BufferKind::Ring, ServiceState{catalog(1000), 0, 0, 1, 1},
                          options("", wal::Backend::Null));
  auto client = svc->client(8);
  EXPECT_EQ(client.window(), 8u);
  EXPECT_EQ(client.submit_draw_n(0), Submit::Invalid);
  EXPECT_EQ(client.submit_draw_n(9), Submit::Invalid) << "more than the window can never fit";
  EXPECT_EQ(client.submit_draw_n(6), Submit::Accepted);
  EXPECT_EQ(client.submit_draw_n(3), Submit::WindowFull);
  EXPECT_EQ(client.submit_draw_n(2), Submit::Accepted);
  EXPECT_EQ(client.in_flight(), 8u);
  EXPECT_EQ(client.submit_draw(), Submit::WindowFull);
  std::array<Completion, 16> buf;
  std::size_t got = 0;
  while (got < 8) got += client.wait(std::span(buf).subspan(got));
  EXPECT_EQ(client.in_flight(), 0u);
  EXPECT_EQ(client.submit_update("nope", 1, 1.0), Submit::Invalid);
  EXPECT_THROW(
      {
        ASSERT_EQ(client.submit_draw(), Submit::Accepted);
        (void)client.draw();
      },
      std::logic_error)
      << "the blocking call needs nothing else in flight";
  svc->stop();
  EXPECT_EQ(client.submit_draw(), Submit::Closed);
}

TEST(ServiceClient, UnlimitedItemsNeverRunOut) {
  auto svc = make_service(MailboxKind::Channel, BufferKind::Vector,
                          ServiceState{Catalog{{{"rare", 2, 1.0}, {"mud", kUnlimited, 1.0}}}, 0, 0, 1, 1},
                          options("", wal::Backend::Null));
  auto client = svc->client();
  std::map<std::uint32_t, int> count;
  for (int i = 0; i < 500; ++i) {
    const DrawResult r = client.draw();
    ASSERT_EQ(r.status, Status::Ok);
    ++count[r.index];
  }
  EXPECT_EQ(count[0], 2);
  EXPECT_EQ(count[1], 498);
  svc->stop();
}

TEST(ServiceAdapter, CallbackAndCoroutineAdaptersDeliverEveryDraw) {
  auto svc = make_service(MailboxKind::Ring, BufferKind::Ring, ServiceState{catalog(1000), 0, 0, 1, 1},
                          options("", wal::Backend::Null));
  std::vector<std::uint64_t> tags;
  CallbackClient cb(svc->client(32), [&](const Completion& c) {
    EXPECT_EQ(c.status, Status::Ok);
    tags.push_back(c.tag);
  });
  for (std::uint64_t t = 0; t < 20; ++t) ASSERT_EQ(cb.submit_draw(t), Submit::Accepted);
  while (cb.in_flight()) cb.dispatch_wait();
  ASSERT_EQ(tags.size(), 20u);
  for (std::uint64_t t = 0; t < 20; ++t) EXPECT_EQ(tags[t], t);

  // A fire-and-forget coroutine type, enough to drive the awaitable.
  struct Task {
    struct promise_type {
      Task get_return_object() { return {}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { std::terminate(); }
    };
  };
  auto client = svc->client(16);
  int finished = 0;
  std::set<std::uint64_t> ids;
  auto three_draws = [&](Service::Client& c) -> Task {
    for (int i = 0; i < 3; ++i) {
      const Completion d = co_await async_draw(c);
      EXPECT_EQ(d.status, Status::Ok);
      ids.insert(d.request_id);
    }
    ++finished;
  };
  for (int i = 0; i < 4; ++i) three_draws(client);
  while (finished < 4) resume_completed(client, /*block=*/true);
  EXPECT_EQ(ids.size(), 12u);
  svc->stop();
}

// ---- fault injection: a failing write/fsync reaches the waiting clients ----------------------------
class ServiceFault : public ::testing::TestWithParam<std::tuple<MailboxKind, BufferKind, int, Ack>> {};

TEST_P(ServiceFault, FailedIoIsAnErrorNeverAnAckOfAnUnwrittenDraw) {
  const auto [mailbox, buffer, which, ack] = GetParam();  // which: 0 = write, 1 = fsync
  for (long nth : {1L, 3L, 17L}) {
    TempDir dir;
    test::FaultyFileIo io;
    ServiceOptions o = options(dir.str(), wal::Backend::File, ack);
    o.wal.io = &io;
    auto svc = make_service(mailbox, buffer, fresh(dir, catalog(100000), wal::Backend::File), o);
    if (which == 0) io.fail_write_at = io.writes.load() + nth;
    else io.fail_sync_at = io.syncs.load() + nth + 4;  // past the segment's creation syncs
    constexpr int kClients = 3;
    std::vector<std::vector<Completion>> acked(kClients);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        auto client = svc->client(16);
        std::array<Completion, 16> buf;
        int submitted = 0;
        while (submitted < 300 || client.in_flight()) {
          if (submitted < 300 && client.submit_draw() == Submit::Accepted) {
            ++submitted;
            continue;
          }
          for (std::size_t k = client.wait(buf), i = 0; i < k; ++i) {
            if (buf[i].status == Status::Ok) {
              acked[static_cast<std::size_t>(t)].push_back(buf[i]);
            } else {
              ASSERT_EQ(buf[i].status, Status::WalError);
              ++errors;
            }
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    svc->stop();
    if (which == 1 && ack != Ack::Durable && io.syncs.load() < io.fail_sync_at.load()) continue;  // no sync reached
    EXPECT_GT(errors.load(), 0) << "nth=" << nth;
    EXPECT_FALSE(svc->stats().wal_error.empty());
    wal::RecoveryOptions ro;
    ro.collect_records = true;
    const wal::RecoveryResult r = wal::recover(dir.str(), ro);
    std::map<std::uint64_t, std::uint32_t> logged;
    for (const wal::Record& rec : r.records) logged[rec.lsn] = rec.item;
    for (const auto& v : acked) {
      for (const Completion& d : v) {
        ASSERT_TRUE(logged.count(d.lsn)) << "acked lsn " << d.lsn << " is not in the log";
        EXPECT_EQ(logged[d.lsn], d.item);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, ServiceFault,
                         ::testing::Combine(::testing::Values(MailboxKind::Channel, MailboxKind::Ring),
                                            ::testing::Values(BufferKind::Vector, BufferKind::Ring), ::testing::Values(0, 1),
                                            ::testing::Values(Ack::Written, Ack::Durable)));

// ---- snapshots run off the acknowledgement path (defect 6) ----------------------------------------
namespace {
// Holds the fdatasync of snapshot temporaries until released: a snapshot that takes as long as the test wants.
class HeldSnapshotIo final : public GatedFileIo {
 public:
  HeldSnapshotIo() : GatedFileIo(".snap.tmp") {}
  int fdatasync(int fd) override {
    if (fd == watched_fd.load()) hold();
    return FileIo::fdatasync(fd);
  }
};
}  // namespace

TEST(ServiceSnapshot, ASnapshotInProgressDoesNotHoldBackDurableAcknowledgements) {
  TempDir dir;
  HeldSnapshotIo io;
  ServiceOptions o = options(dir.str(), wal::Backend::File, Ack::Durable);
  o.wal.io = &io;
  o.snapshot_every = 100;
  auto svc = make_service(MailboxKind::Ring, BufferKind::Ring, fresh(dir, catalog(100000), wal::Backend::File), o);
  auto client = svc->client();
  for (int i = 0; i < 150; ++i) ASSERT_EQ(client.draw().status, Status::Ok);
  {
    std::unique_lock lock(io.mu);
    ASSERT_TRUE(io.cv.wait_for(lock, std::chrono::seconds(60), [&] { return io.held; })) << "no snapshot started";
  }
  // The snapshot is stuck in its fdatasync; durable draws must still be acknowledged.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(client.draw().status, Status::Ok);
  {
    std::lock_guard lock(io.mu);
    EXPECT_FALSE(io.released) << "the draws above completed while the snapshot was held";
  }
  io.release();
  svc->stop();
  EXPECT_GE(svc->stats().snapshots, 1u);
}

// ---- review findings (rpfix): each test failed on the code before its fix --------------------------
namespace {
// Records, each time a snapshot is renamed into place, its LSN and the service's durable LSN then.
class SnapshotRenameIo final : public wal::FileIo {
 public:
  int rename(const char* from, const char* to) override {
    const std::string t = to;
    const auto at = t.rfind("snapshot-");
    if (at != std::string::npos && t.size() > 5 && t.substr(t.size() - 5) == ".snap") {
      std::lock_guard lock(mu);
      renamed.emplace_back(std::stoull(t.substr(at + 9, 20)), service.load()->published_lsn(Ack::Durable));
    }
    return FileIo::rename(from, to);
  }
  std::atomic<Service*> service{nullptr};
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> renamed;  // (snapshot lsn, durable lsn at the rename)
};
}  // namespace

// Bug 5 (first half): an Applied completion handed its request id to the client before the RequestIds
// record reserving that id was written; a crash then let recovery hand the same id out again.
TEST(ServiceRequestId, AnAppliedCompletionIsDeliveredOnlyOnceItsRequestIdReservationIsWritten) {
  for (MailboxKind mk : {MailboxKind::Channel, MailboxKind::Ring}) {
    TempDir dir;
    HeldSegmentWriteIo io;
    ServiceOptions o = options(dir.str(), wal::Backend::File, Ack::Applied);
    o.wal.io = &io;
    auto svc = make_service(mk, BufferKind::Ring, fresh(dir, catalog(1000), wal::Backend::File), o);
    std::thread releaser([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      io.release();
    });
    auto client = svc->client();
    ASSERT_EQ(client.submit_draw(), Submit::Accepted);
    std::array<Completion, 1> one;
    ASSERT_EQ(client.wait(one), 1u);
    ASSERT_EQ(one[0].status, Status::Ok);
    // What a crash right now would leave: recovery must not hand this id out again.
    const wal::RecoveryResult r = wal::recover(dir.str(), {.read_only = true});
    EXPECT_GT(r.next_request_id, one[0].request_id) << to_string(mk) << ": id " << one[0].request_id
                                                    << " was delivered before its reservation was written";
    releaser.join();
    svc->stop();
  }
}

// Bug 6: snapshots were written at the actor's applied LSN while the log was not yet durable (or even
// written) that far: a snapshot ahead of the log. Now every snapshot is renamed into place only once the
// log is durable up to its LSN.
TEST(ServiceSnapshot, ASnapshotIsNeverAheadOfTheDurableLog) {
  for (Ack ack : {Ack::Applied, Ack::Written}) {
    TempDir dir;
    SnapshotRenameIo io;
    ServiceOptions o = options(dir.str(), wal::Backend::File, ack);
    o.wal.io = &io;
    o.wal.sync = wal::SyncPolicy{wal::SyncPolicy::Kind::None, {}};  // nothing else syncs
    o.wal.segment_bytes = 64 << 20;                                  // no rotation (it syncs)
    o.snapshot_every = 100;
    auto svc = make_service(MailboxKind::Ring, BufferKind::Ring, fresh(dir, catalog(100000), wal::Backend::File), o);
    io.service = svc.get();
    auto client = svc->client(64);
    std::array<Completion, 64> buf;
    int submitted = 0;
    while (submitted < 2000 || client.in_flight() > 0) {
      if (submitted < 2000 && client.submit_draw() == Submit::Accepted) {
        ++submitted;
        continue;
      }
      for (std::size_t k = client.wait(buf), i = 0; i < k; ++i) ASSERT_EQ(buf[i].status, Status::Ok);
    }
    // Let at least one snapshot finish before stop() (stop makes everything durable anyway).
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lock(io.mu);
        if (!io.renamed.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    svc->stop();
    std::lock_guard lock(io.mu);
    ASSERT_FALSE(io.renamed.empty()) << "no snapshot was written";
    for (const auto& [lsn, durable] : io.renamed) {
      EXPECT_LE(lsn, durable) << to_string(ack) << ": snapshot at lsn " << lsn << " while the log was durable to " << durable;
    }
    EXPECT_TRUE(svc->stats().snapshot_error.empty()) << svc->stats().snapshot_error;
  }
}

// ---- what each ack level promises, checked against the file layer (bug 9) --------------------------
namespace {
// Watches the WAL at the system-call level: the highest LSN that write() has handed to the kernel (decoded
// from the bytes written) and the highest LSN covered by a completed fdatasync of the segment. Ground
// truth independent of the service's own published LSNs.
class AckLevelIo final : public WatchedFileIo {
 public:
  long write(int fd, const void* data, std::size_t n) override {
    const auto* p = static_cast<const std::byte*>(data);
    for (std::size_t done = 0; done < n;) {  // whole buffers only, so the records can be decoded below
      const long w = FileIo::write(fd, p + done, n - done);
      if (w < 0) return w;
      done += static_cast<std::size_t>(w);
    }
    if (fd == watched_fd.load() && !(n >= 8 && std::memcmp(p, wal::kSegmentMagic.data(), 8) == 0)) {
      std::uint64_t last = 0;
      for (std::size_t off = 0; off + wal::kRecordHeaderSize <= n; off += wal::kRecordHeaderSize + wal::get_u32(p + off + 4)) {
        last = wal::get_u64(p + off + 12);
      }
      written_lsn.store(std::max(written_lsn.load(), last));
    }
    return static_cast<long>(n);
  }
  int fdatasync(int fd) override {
    const std::uint64_t covered = written_lsn.load();  // everything written before the call
    const int rc = FileIo::fdatasync(fd);
    if (rc == 0 && fd == watched_fd.load()) {
      if (covered > synced_lsn.load()) ++data_syncs;
      synced_lsn.store(std::max(synced_lsn.load(), covered));
    }
    return rc;
  }
  std::atomic<std::uint64_t> written_lsn{0};
  std::atomic<std::uint64_t> synced_lsn{0};
  std::atomic<long> data_syncs{0};  // fdatasyncs that made records durable
};
}  // namespace

// `written` is delivered once the record went through write() and never waits for a sync; `durable` only
// once an fdatasync that covers the record returned. (A SIGKILL test cannot tell the two apart: the page
// cache survives it. A mutant that delivers `durable` at the written LSN fails here.)
TEST(ServiceAckLevel, WrittenWaitsForTheWriteAndDurableForTheFdatasyncOfTheFileLayer) {
  for (MailboxKind mk : {MailboxKind::Channel, MailboxKind::Ring}) {
    for (Ack ack : {Ack::Written, Ack::Durable}) {
      TempDir dir;
      AckLevelIo io;
      ServiceOptions o = options(dir.str(), wal::Backend::File, ack);
      o.wal.io = &io;
      o.wal.sync = wal::SyncPolicy{wal::SyncPolicy::Kind::None, {}};  // only durable acks sync
      o.wal.segment_bytes = 64 << 20;                                  // no rotation (it syncs)
      auto svc = make_service(mk, BufferKind::Ring, fresh(dir, catalog(100000), wal::Backend::File), o);
      auto client = svc->client(64);
      std::array<Completion, 64> buf;
      int submitted = 0, delivered = 0, beyond_synced = 0;
      while (submitted < 3000 || client.in_flight() > 0) {
        if (submitted < 3000 && client.submit_draw() == Submit::Accepted) {
          ++submitted;
          continue;
        }
        const std::size_t k = client.wait(buf);
        // Read after the delivery: the file layer's state when the completions were delivered, or later.
        const std::uint64_t written = io.written_lsn.load(), synced = io.synced_lsn.load();
        for (std::size_t i = 0; i < k; ++i) {
          ASSERT_EQ(buf[i].status, Status::Ok);
          ASSERT_LE(buf[i].lsn, written) << to_string(ack) << ": delivered before write() took its record";
          if (ack == Ack::Durable) {
            ASSERT_LE(buf[i].lsn, synced) << "durable: delivered before an fdatasync covering it returned";
          }
          beyond_synced += buf[i].lsn > synced;
          ++delivered;
        }
      }
      ASSERT_EQ(delivered, 3000);
      if (ack == Ack::Written) {
        EXPECT_EQ(io.data_syncs.load(), 0) << "written never asks for a sync (policy none)";
        EXPECT_EQ(beyond_synced, 3000) << "so every written completion came before any sync";
      } else {
        EXPECT_GT(io.data_syncs.load(), 0);
        EXPECT_EQ(beyond_synced, 0);
      }
      svc->stop();
    }
  }
}
