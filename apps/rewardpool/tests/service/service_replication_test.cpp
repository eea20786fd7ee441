// SPDX-License-Identifier: MIT
// Replication through NATS JetStream. Each test starts its own nats-server (JetStream, a temporary
// store, a free loopback port). Release and ASan only (gRPC is not TSan-instrumented).
//  - the primary is SIGKILLed under load at ack `replicated`: the replica holds every draw acknowledged,
//    and `serve --data-dir` on the replica's directory continues from its LSN (promotion);
//  - nats-server is killed and restarted under load at ack `written`: the primary keeps answering,
//    reports its lag, and catches up;
//  - a gap in the stream is detected and never applied.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include <nats/nats.h>

#include "service_client.hpp"
#include "service_process.hpp"

using namespace svctest;
namespace fs = std::filesystem;

namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// nats-server -js -sd DIR -p PORT -a 127.0.0.1, as a child process; restartable on the same port/store.
struct NatsServer {
  std::string store;
  int port;
  pid_t pid = -1;
  NatsServer(std::string dir, int p) : store(std::move(dir)), port(p) { start(); }
  ~NatsServer() { kill(SIGKILL); }
  void start() {
    pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string p = std::to_string(port);
      ::execlp("nats-server", "nats-server", "-js", "-sd", store.c_str(), "-p", p.c_str(), "-a", "127.0.0.1",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it accepts connections.
    for (int i = 0; i < 200; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (ok) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("nats-server did not start on port " + std::to_string(port));
  }
  void kill(int sig) {
    if (pid > 0) {
      ::kill(pid, sig);
      ::waitpid(pid, nullptr, 0);
    }
    pid = -1;
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port); }
};

std::string write_catalog(const rewardpool::test::TempDir& d, std::int64_t gold) {
  const std::string path = (d.path() / "catalog.json").string();
  std::ofstream(path) << R"({"catalog": [{"item_id": "gold", "quantity": )" << gold
                      << R"(, "probability": 1}, {"item_id": "silver", "quantity": )" << gold << R"(, "probability": 2}]})";
  return path;
}

rewardpool::wal::RecoveryResult recover(const std::string& dir) {
  rewardpool::wal::RecoveryOptions ro;
  ro.read_only = true;
  return rewardpool::wal::recover(dir, ro);
}

// Draw streams that pipeline requests until told to stop (or the server goes away), counting the
// responses with an item per item id, and the largest request id acknowledged.
struct Load {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::RewardPoolService::Stub> stub;
  std::mutex mu;
  std::map<std::string, std::int64_t> acked;
  std::uint64_t max_request_id = 0;
  std::atomic<std::uint64_t> total{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;

  Load(const std::string& address, int streams) : channel(connect(address)), stub(pb::RewardPoolService::NewStub(channel)) {
    for (int s = 0; s < streams; ++s) contexts.push_back(std::make_unique<grpc::ClientContext>());
    for (int s = 0; s < streams; ++s) {
      threads.emplace_back([this, ctx = contexts[static_cast<std::size_t>(s)].get()] {
        auto stream = stub->Draw(ctx);
        std::thread writer([&] {
          pb::DrawRequest r;
          r.set_count(5);
          while (!stop.load() && stream->Write(r)) {
          }
          stream->WritesDone();
        });
        std::map<std::string, std::int64_t> mine;
        std::uint64_t max_id = 0;
        pb::DrawResponse resp;
        while (stream->Read(&resp)) {
          if (!resp.error().empty()) continue;
          ++mine[resp.item_id()];
          max_id = std::max(max_id, resp.request_id());
          total.fetch_add(1);
        }
        (void)stream->Finish();
        writer.join();
        std::lock_guard l(mu);
        for (auto& [k, v] : mine) acked[k] += v;
        max_request_id = std::max(max_request_id, max_id);
      });
    }
  }
  void wait_for(std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (total.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(total.load(), n) << "the load made no progress";
  }
  void join() {
    stop = true;
    for (auto& t : threads) t.join();
    threads.clear();
  }
  ~Load() {
    if (!threads.empty()) {
      for (auto& c : contexts) c->TryCancel();
      join();
    }
  }
};

}  // namespace

TEST(ServiceReplication, ThePrimarySigkilledUnderLoadLosesNoDrawAcknowledgedAtReplicatedAndTheReplicaCanBePromoted) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  const std::int64_t initial = 100'000'000;
  const std::string primary_dir = (d.path() / "primary").string(), replica_dir = (d.path() / "replica").string();
  Process primary({"serve", "--catalog", write_catalog(d, initial), "--data-dir", primary_dir, "--listen", "127.0.0.1:0",
                   "--ack", "replicated", "--replicate", nats.url(), "--stream", "POOL"},
                  (d.path() / "primary.err").string());
  {
    Load load(primary.wait_line("listening on "), 3);
    load.wait_for(2000);
    ASSERT_EQ(::kill(primary.pid, SIGKILL), 0);
    EXPECT_EQ(primary.wait_exit(), 128 + SIGKILL);
    load.join();  // the streams end with an error: the server is gone

    Process replica({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir, "--once"},
                    (d.path() / "replica.err").string());
    ASSERT_EQ(replica.wait_exit(), 0) << read_text(replica.stderr_path);

    const auto rep = recover(replica_dir);
    const auto pri = recover(primary_dir);
    std::int64_t replica_draws = 0, acked = 0;
    for (const auto& it : rep.catalog.items) {
      SCOPED_TRACE(it.id);
      EXPECT_GE(initial - it.quantity, load.acked[it.id]);  // every acknowledged draw is in the replica
      replica_draws += initial - it.quantity;
      acked += load.acked[it.id];
    }
    EXPECT_GT(acked, 0);
    EXPECT_EQ(static_cast<std::uint64_t>(replica_draws), rep.draws);  // initial - remaining == draws
    EXPECT_LE(rep.lsn, pri.lsn);                                      // nothing the primary did not write
    EXPECT_LE(rep.draws, pri.draws);

    // Promotion: serve on the replica's directory continues from its LSN and request ids.
    Process promoted({"serve", "--data-dir", replica_dir, "--listen", "127.0.0.1:0", "--ack", "durable"},
                     (d.path() / "promoted.err").string());
    auto stub = pb::RewardPoolService::NewStub(connect(promoted.wait_line("listening on ")));
    const auto state = get_state(*stub);
    for (const auto& it : state.items()) {
      for (const auto& r : rep.catalog.items) {
        if (r.id == it.item_id()) {
          EXPECT_EQ(it.quantity(), static_cast<std::int32_t>(std::min<std::int64_t>(r.quantity, INT32_MAX)));
        }
      }
    }
    const StreamResult more = draw_stream(*stub, {10});
    ASSERT_EQ(more.responses.size(), 10u);
    for (const auto& resp : more.responses) {
      EXPECT_EQ(resp.error(), "");
      EXPECT_GT(resp.request_id(), load.max_request_id);  // never an id the old primary acknowledged
    }
    ::kill(promoted.pid, SIGTERM);
    EXPECT_EQ(promoted.wait_exit(), 0) << read_text(promoted.stderr_path);
    EXPECT_EQ(recover(replica_dir).draws, rep.draws + 10);
  }
}

TEST(ServiceReplication, WithNatsDownThePrimaryKeepsServingReportsItsLagAndCatchesUp) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  const std::string primary_dir = (d.path() / "primary").string();
  Process primary({"serve", "--catalog", write_catalog(d, 1'000'000'000), "--data-dir", primary_dir, "--listen", "127.0.0.1:0",
                   "--ack", "written", "--replicate", nats.url(), "--stream", "POOL"},
                  (d.path() / "primary.err").string());
  const std::string address = primary.wait_line("listening on ");
  auto admin = admin::RewardPoolAdmin::NewStub(connect(address));
  const auto stats = [&] {
    grpc::ClientContext ctx;
    admin::StatsResponse out;
    EXPECT_TRUE(admin->Stats(&ctx, admin::StatsRequest{}, &out).ok());
    return out;
  };
  Load load(address, 2);
  load.wait_for(1000);
  nats.kill(SIGKILL);
  const std::uint64_t before = load.total.load();
  load.wait_for(before + 5000);  // answered while NATS is down
  const auto behind = stats();
  EXPECT_TRUE(behind.replicating());
  EXPECT_LT(behind.replicated_lsn(), behind.applied_lsn()) << "no lag reported while NATS is down";
  nats.start();  // same port, same store
  load.wait_for(load.total.load() + 1000);
  load.join();
  // Caught up: everything applied is replicated (a liveness deadline, not a performance bound).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  admin::StatsResponse now = stats();
  while (now.replicated_lsn() < now.applied_lsn() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    now = stats();
  }
  EXPECT_EQ(now.replicated_lsn(), now.applied_lsn()) << read_text(primary.stderr_path);
  ::kill(primary.pid, SIGTERM);
  EXPECT_EQ(primary.wait_exit(), 0) << read_text(primary.stderr_path);
  // (No retry count asserted: a publish blocked on the outage may simply complete after the
  // reconnect, from the client library's reconnect buffer, within its 2 s wait.)
  // The replica rebuilt from the stream equals the primary's log.
  const std::string replica_dir = (d.path() / "replica").string();
  Process replica({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir, "--once"},
                  (d.path() / "replica.err").string());
  ASSERT_EQ(replica.wait_exit(), 0) << read_text(replica.stderr_path);
  const auto rep = recover(replica_dir), pri = recover(primary_dir);
  EXPECT_EQ(rep.lsn, pri.lsn);
  EXPECT_EQ(rep.draws, pri.draws);
  EXPECT_EQ(rep.catalog, pri.catalog);
}

TEST(ServiceReplication, AGapInTheStreamIsDetectedAndNeverApplied) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  // Publish a snapshot at lsn 0, a good batch (lsn 1..2), then a batch that starts at lsn 5.
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, nats.url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "GAP";
  const char* subjects[1] = {"GAP.wal"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  ASSERT_EQ(js_AddStream(nullptr, js, &cfg, nullptr, nullptr), NATS_OK);
  const auto publish = [&](const std::vector<std::byte>& m) {
    ASSERT_EQ(js_Publish(nullptr, js, "GAP.wal", m.data(), static_cast<int>(m.size()), nullptr, nullptr), NATS_OK);
  };
  rewardpool::wal::Snapshot snap{catalog({rewardpool::Item{"gold", 100, 1}}), 0, 0, 1};
  std::vector<std::byte> s{std::byte{'S'}};
  const auto enc = rewardpool::wal::encode_snapshot(snap);
  s.insert(s.end(), enc.begin(), enc.end());
  publish(s);
  const auto batch = [](std::uint64_t first, int n) {
    std::vector<std::byte> m(1 + rewardpool::wal::kSegmentHeaderSize);
    m[0] = std::byte{'B'};
    rewardpool::wal::encode_segment_header(1, first, m.data() + 1);
    for (int i = 0; i < n; ++i) {
      rewardpool::wal::Record r{};
      r.type = rewardpool::wal::RecordType::Draw;
      r.item = 0;
      r.lsn = first + static_cast<std::uint64_t>(i);
      std::byte buf[rewardpool::wal::kMaxRecordSize];
      const std::size_t len = rewardpool::wal::encode_record(r, buf);
      m.insert(m.end(), buf, buf + len);
    }
    return m;
  };
  publish(batch(1, 2));
  publish(batch(5, 3));  // lsn 3 and 4 never published: a gap
  publish(batch(3, 2));  // arrives late: must not make the gap acceptable after the fact
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  const std::string replica_dir = (d.path() / "replica").string();
  Process replica({"replica", "--nats", nats.url(), "--stream", "GAP", "--data-dir", replica_dir, "--once"},
                  (d.path() / "replica.err").string());
  EXPECT_EQ(replica.wait_exit(), 1);
  const std::string err = read_text(replica.stderr_path);
  EXPECT_NE(err.find("gap: the next lsn is 3 but this batch starts at 5 (not applied)"), std::string::npos) << err;
  const auto rep = recover(replica_dir);
  EXPECT_EQ(rep.lsn, 2u);  // the good batch, nothing after the gap
  EXPECT_EQ(rep.draws, 2u);
  EXPECT_EQ(rep.catalog.items.at(0).quantity, 98);
}

TEST(ServiceReplication, APrimaryKilledWithAnUnshippedBacklogShipsItAfterItsRestart) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  const std::string primary_dir = (d.path() / "primary").string();
  const std::vector<std::string> args{"serve", "--catalog", write_catalog(d, 1'000'000'000), "--data-dir", primary_dir,
                                      "--listen", "127.0.0.1:0", "--ack", "written", "--replicate", nats.url(),
                                      "--stream", "POOL"};
  {
    Process primary(args, (d.path() / "primary1.err").string());
    const std::string address = primary.wait_line("listening on ");
    auto admin1 = admin::RewardPoolAdmin::NewStub(connect(address));
    Load load(address, 2);
    load.wait_for(1000);
    // The scenario needs a stream that already holds records (so the restart must continue it, not start
    // it from a snapshot): wait until the shipper has shipped some (on a loaded machine it can lag the
    // first 1000 draws).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    admin::StatsResponse st;
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      grpc::ClientContext ctx;
      ASSERT_TRUE(admin1->Stats(&ctx, admin::StatsRequest{}, &st).ok());
    } while (st.replicated_lsn() == 0 && std::chrono::steady_clock::now() < deadline);
    ASSERT_GT(st.replicated_lsn(), 0u);
    nats.kill(SIGKILL);  // from here on nothing is shipped
    // Wait for a backlog the shipper could not have shipped (written, not replicated).
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      grpc::ClientContext ctx;
      ASSERT_TRUE(admin1->Stats(&ctx, admin::StatsRequest{}, &st).ok());
    } while (st.written_lsn() < st.replicated_lsn() + 2000 && std::chrono::steady_clock::now() < deadline);
    ASSERT_GE(st.written_lsn(), st.replicated_lsn() + 2000);
    ASSERT_EQ(::kill(primary.pid, SIGKILL), 0);  // killed with a backlog written but never shipped
    primary.wait_exit();
    load.join();
  }
  nats.start();
  Process primary(args, (d.path() / "primary2.err").string());
  auto admin = admin::RewardPoolAdmin::NewStub(connect(primary.wait_line("listening on ")));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  admin::StatsResponse st;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    grpc::ClientContext ctx;
    ASSERT_TRUE(admin->Stats(&ctx, admin::StatsRequest{}, &st).ok());
  } while (st.replicated_lsn() < st.applied_lsn() && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(st.replicated_lsn(), st.applied_lsn()) << read_text((d.path() / "primary2.err").string());
  ::kill(primary.pid, SIGTERM);
  EXPECT_EQ(primary.wait_exit(), 0);
  EXPECT_NE(read_text((d.path() / "primary2.err").string()).find("written before the restart"), std::string::npos)
      << read_text((d.path() / "primary2.err").string());
  const std::string replica_dir = (d.path() / "replica").string();
  Process replica({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir, "--once"},
                  (d.path() / "replica.err").string());
  ASSERT_EQ(replica.wait_exit(), 0) << read_text(replica.stderr_path);
  const auto rep = recover(replica_dir), pri = recover(primary_dir);
  EXPECT_EQ(rep.lsn, pri.lsn);
  EXPECT_EQ(rep.draws, pri.draws);
  EXPECT_EQ(rep.catalog, pri.catalog);
}

TEST(ServiceReplication, AFollowingReplicaKeepsUpWithALivePrimaryAndStopsCleanlyOnSigterm) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  const std::string primary_dir = (d.path() / "primary").string(), replica_dir = (d.path() / "replica").string();
  Process primary({"serve", "--catalog", write_catalog(d, 1'000'000'000), "--data-dir", primary_dir, "--listen",
                   "127.0.0.1:0", "--ack", "replicated", "--replicate", nats.url(), "--stream", "POOL"},
                  (d.path() / "primary.err").string());
  const std::string address = primary.wait_line("listening on ");
  // The replica starts first and follows (no --once).
  Process replica({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir},
                  (d.path() / "replica.err").string());
  {
    Load load(address, 2);
    load.wait_for(3000);
    load.join();
  }
  auto admin = admin::RewardPoolAdmin::NewStub(connect(address));
  admin::StatsResponse st;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(admin->Stats(&ctx, admin::StatsRequest{}, &st).ok());
  }
  EXPECT_EQ(st.replicated_lsn(), st.applied_lsn());  // every answer waited for replication
  // The replica reaches the primary's LSN while following, then stops on SIGTERM with exit 0.
  replica.wait_line("caught up at lsn " + std::to_string(st.applied_lsn()));
  ::kill(replica.pid, SIGTERM);
  EXPECT_EQ(replica.wait_exit(), 0) << read_text(replica.stderr_path);
  ::kill(primary.pid, SIGTERM);
  EXPECT_EQ(primary.wait_exit(), 0) << read_text(primary.stderr_path);
  const auto rep = recover(replica_dir), pri = recover(primary_dir);
  EXPECT_EQ(rep.lsn, pri.lsn);
  EXPECT_EQ(rep.draws, pri.draws);
  EXPECT_EQ(rep.catalog, pri.catalog);
}

TEST(ServiceReplication, ANewReplicaStartsFromTheLatestSnapshotInTheStream) {
  rewardpool::test::TempDir d;
  NatsServer nats((d.path() / "js").string(), free_port());
  const std::string primary_dir = (d.path() / "primary").string(), replica_dir = (d.path() / "replica").string();
  Process primary({"serve", "--catalog", write_catalog(d, 1'000'000'000), "--data-dir", primary_dir, "--listen",
                   "127.0.0.1:0", "--ack", "replicated", "--replicate", nats.url(), "--stream", "POOL",
                   "--replicate-snapshot-every", "1000"},
                  (d.path() / "primary.err").string());
  {
    Load load(primary.wait_line("listening on "), 2);
    load.wait_for(5000);
    load.join();
  }
  ::kill(primary.pid, SIGTERM);
  EXPECT_EQ(primary.wait_exit(), 0) << read_text(primary.stderr_path);
  Process replica({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir, "--once"},
                  (d.path() / "replica.err").string());
  ASSERT_EQ(replica.wait_exit(), 0) << read_text(replica.stderr_path);
  const std::string err = read_text(replica.stderr_path);
  const auto at = err.find("starting from the snapshot at lsn ");
  ASSERT_NE(at, std::string::npos) << err;
  EXPECT_GE(std::stoull(err.substr(at + std::string("starting from the snapshot at lsn ").size())), 1000u) << err;
  const auto rep = recover(replica_dir), pri = recover(primary_dir);
  EXPECT_EQ(rep.lsn, pri.lsn);
  EXPECT_EQ(rep.draws, pri.draws);
  EXPECT_EQ(rep.catalog, pri.catalog);
  EXPECT_EQ(rep.next_request_id, pri.next_request_id);
  // Run again on its own directory: it resumes after the latest snapshot it already holds.
  Process again({"replica", "--nats", nats.url(), "--stream", "POOL", "--data-dir", replica_dir, "--once"},
                (d.path() / "replica2.err").string());
  ASSERT_EQ(again.wait_exit(), 0) << read_text(again.stderr_path);
  EXPECT_NE(read_text(again.stderr_path).find("resuming after the snapshot at lsn"), std::string::npos)
      << read_text(again.stderr_path);
  EXPECT_EQ(recover(replica_dir).lsn, pri.lsn);
}
