// SPDX-License-Identifier: MIT
// The gRPC service in-process: a DrawServer on a free loopback port over a real pool (file WAL in a
// scratch directory), driven by synchronous gRPC clients. Release and ASan only (gRPC is not
// TSan-instrumented).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "service_client.hpp"
#include "rewardpool_test.hpp"

using namespace svctest;
using rewardpool::Ack;
using rewardpool::Item;

namespace {

std::map<std::string, std::int32_t> remaining(const pb::GetStateResponse& s) {
  std::map<std::string, std::int32_t> m;
  for (const auto& it : s.items()) m[it.item_id()] = it.quantity();
  return m;
}

}  // namespace

TEST(ServiceGrpc, GetStateReportsEveryItemWithItsQuantityAndProbabilityAndUnlimitedAsMinusOne) {
  InProcess p(catalog({Item{"gold", 10, 1}, Item{"mud", -1, 70}}), Ack::Durable);
  const pb::GetStateResponse s = get_state(*p.stub);
  ASSERT_EQ(s.items_size(), 2);
  EXPECT_EQ(s.items(0).item_id(), "gold");
  EXPECT_EQ(s.items(0).quantity(), 10);
  EXPECT_EQ(s.items(0).probability(), 1);
  EXPECT_EQ(s.items(1).item_id(), "mud");
  EXPECT_EQ(s.items(1).quantity(), -1);
  EXPECT_EQ(s.items(1).probability(), 70);
}

TEST(ServiceGrpc, DrawCountOneAndHundredAnswerOneResponsePerItemWithIncreasingRequestIds) {
  InProcess p(catalog({Item{"gold", 1000, 1}, Item{"silver", 1000, 3}}), Ack::Durable);
  const StreamResult r = draw_stream(*p.stub, {1, 100, 0});  // 0 means 1
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.responses.size(), 102u);
  std::uint64_t last = 0;
  std::map<std::string, int> drawn;
  for (const auto& resp : r.responses) {
    EXPECT_EQ(resp.error(), "");
    EXPECT_GT(resp.request_id(), last);
    last = resp.request_id();
    ASSERT_TRUE(resp.item_id() == "gold" || resp.item_id() == "silver") << resp.item_id();
    ++drawn[resp.item_id()];
  }
  const auto left = remaining(get_state(*p.stub));
  EXPECT_EQ(left.at("gold"), 1000 - drawn["gold"]);
  EXPECT_EQ(left.at("silver"), 1000 - drawn["silver"]);
}

TEST(ServiceGrpc, NegativeAndHugeCountsAreAnsweredWithErrorsAndTheStreamGoesOn) {
  rewardpool::net::ServerOptions so;
  so.max_count = 1000;
  InProcess p(catalog({Item{"gold", 100, 1}}), Ack::Written, so);
  const StreamResult r = draw_stream(*p.stub, {-1, std::numeric_limits<std::int32_t>::max(), 1001,
                                                std::numeric_limits<std::int32_t>::min(), 2});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.responses.size(), 6u);
  EXPECT_NE(r.responses[0].error().find("invalid count -1"), std::string::npos) << r.responses[0].error();
  EXPECT_NE(r.responses[1].error().find("invalid count 2147483647"), std::string::npos) << r.responses[1].error();
  EXPECT_NE(r.responses[2].error().find("invalid count 1001"), std::string::npos) << r.responses[2].error();
  EXPECT_NE(r.responses[3].error().find("invalid count -2147483648"), std::string::npos) << r.responses[3].error();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.responses[static_cast<std::size_t>(i)].request_id(), 0u);
  EXPECT_EQ(r.responses[4].error(), "");
  EXPECT_EQ(r.responses[5].error(), "");
  EXPECT_EQ(remaining(get_state(*p.stub)).at("gold"), 98);  // the bad requests drew nothing
  EXPECT_EQ(p.stats().requests_rejected(), 4u);
}

TEST(ServiceGrpc, AnEmptyPoolAnswersPoolIsEmptyForEachDrawItCannotServe) {
  InProcess p(catalog({Item{"gold", 3, 1}}), Ack::Durable);
  const StreamResult r = draw_stream(*p.stub, {5});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.responses.size(), 5u);
  int ok = 0, empty = 0;
  for (const auto& resp : r.responses) {
    if (resp.error().empty()) {
      EXPECT_EQ(resp.item_id(), "gold");
      ++ok;
    } else {
      EXPECT_EQ(resp.error(), rewardpool::net::kErrPoolEmpty);
      EXPECT_EQ(resp.item_id(), "");
      ++empty;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(empty, 2);
  EXPECT_EQ(remaining(get_state(*p.stub)).at("gold"), 0);
}

TEST(ServiceGrpc, ConcurrentStreamsGetUniqueRequestIdsAndTheLogHoldsEveryDrawAnswered) {
  const int streams = 4;
  const int requests = static_cast<int>(rewardpool::test::scaled(400, 4));
  std::vector<StreamResult> results(streams);
  std::string dir;
  std::uint64_t answered = 0;
  {
    InProcess p(catalog({Item{"gold", 1'000'000, 1}, Item{"mud", -1, 9}}), Ack::Durable);
    dir = p.dir.str();
    std::vector<std::thread> threads;
    for (int s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] { results[static_cast<std::size_t>(s)] = draw_stream(*p.stub, std::vector<int>(static_cast<std::size_t>(requests), 5)); });
    }
    for (auto& t : threads) t.join();
    std::set<std::uint64_t> ids;
    for (const auto& r : results) {
      ASSERT_TRUE(r.status.ok()) << r.status.error_message();
      ASSERT_EQ(r.responses.size(), static_cast<std::size_t>(requests) * 5);
      for (const auto& resp : r.responses) {
        ASSERT_EQ(resp.error(), "");
        EXPECT_TRUE(ids.insert(resp.request_id()).second) << "request id " << resp.request_id() << " given twice";
        ++answered;
      }
    }
    p.stop();
    rewardpool::wal::RecoveryOptions ro;
    ro.read_only = true;
    const auto rec = rewardpool::wal::recover(dir, ro);
    EXPECT_EQ(rec.draws, answered);
  }
}

TEST(ServiceGrpc, AClientThatNeverReadsHoldsAtMostItsStreamBufferAndDoesNotStallOthers) {
  rewardpool::net::ServerOptions so;
  so.stream_buffer = 64;
  so.max_count = 16;
  InProcess p(catalog({Item{"mud", -1, 1}}), Ack::Applied, so);
  // Stream A writes requests forever and never reads: its Write() blocks once flow control pushes back.
  grpc::ClientContext a_ctx;
  auto a = p.stub->Draw(&a_ctx);
  std::atomic<long> a_written{0};
  std::thread writer([&] {
    pb::DrawRequest r;
    r.set_count(16);
    while (a->Write(r)) a_written.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
  });
  // Wait until A filled its buffer on the server (a liveness deadline, not a performance bound).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (p.stats().max_stream_queued() < 64 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(p.stats().max_stream_queued(), 64u) << "stream A never filled its buffer";
  // Stream B is served in full while A is stuck.
  const StreamResult b = draw_stream(*p.stub, std::vector<int>(200, 16));
  ASSERT_TRUE(b.status.ok()) << b.status.error_message();
  EXPECT_EQ(b.responses.size(), 200u * 16);
  for (const auto& resp : b.responses) ASSERT_EQ(resp.error(), "");
  // A's server-side state never exceeded its bound, however much it wrote.
  const auto st = p.stats();
  EXPECT_LE(st.max_stream_queued(), 64u);
  EXPECT_LE(st.queued_responses(), 64u);
  a_ctx.TryCancel();
  writer.join();
  (void)a->Finish();
}

TEST(ServiceGrpc, DrainAnswersEveryDrawInFlightAndTheLogHoldsExactlyTheDrawsAcknowledged) {
  for (const Ack ack : {Ack::Applied, Ack::Written, Ack::Durable}) {
    SCOPED_TRACE(std::string(rewardpool::to_string(ack)));
    std::string dir;
    std::atomic<std::uint64_t> acked{0};
    const std::int64_t initial = 10'000'000;
    InProcess p(catalog({Item{"gold", initial, 1}}), ack);
    dir = p.dir.str();
    std::vector<std::thread> clients;
    std::atomic<int> started{0};
    for (int s = 0; s < 3; ++s) {
      clients.emplace_back([&] {
        grpc::ClientContext ctx;
        auto stream = p.stub->Draw(&ctx);
        std::thread w([&] {
          pb::DrawRequest r;
          r.set_count(7);
          while (stream->Write(r)) {
          }
        });
        pb::DrawResponse resp;
        bool first = true;
        while (stream->Read(&resp)) {
          if (resp.error().empty()) acked.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
          if (first) started.fetch_add(1);
          first = false;
        }
        const grpc::Status st = stream->Finish();
        EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
        w.join();
      });
    }
    while (started.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    p.stop();  // drain, then stop the pool (sync + close)
    for (auto& t : clients) t.join();
    rewardpool::wal::RecoveryOptions ro;
    ro.read_only = true;
    const auto rec = rewardpool::wal::recover(dir, ro);
    EXPECT_GT(acked.load(), 0u);
    EXPECT_EQ(rec.draws, acked.load());
    EXPECT_EQ(initial - rec.catalog.items.at(0).quantity, static_cast<std::int64_t>(acked.load()));
  }
}
