// SPDX-License-Identifier: MIT
// `rewardpool serve` and `rewardpool load` as processes: SIGTERM with draws in flight loses no
// acknowledged draw (at every ack level), the load generator's figures agree with the server's state,
// and bad flags are refused. Release and ASan only (gRPC is not TSan-instrumented).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "service_client.hpp"
#include "service_process.hpp"

using namespace svctest;

namespace {

std::string write_catalog(const rewardpool::test::TempDir& d, std::int64_t gold, std::int64_t silver) {
  const std::string path = (d.path() / "catalog.json").string();
  std::ofstream(path) << R"({"catalog": [{"item_id": "gold", "quantity": )" << gold
                      << R"(, "probability": 1}, {"item_id": "silver", "quantity": )" << silver
                      << R"(, "probability": 3}]})";
  return path;
}

}  // namespace

class ServeSigterm : public ::testing::TestWithParam<std::string> {};

TEST_P(ServeSigterm, DrawsInFlightAreAnsweredAndTheLogHoldsExactlyTheDrawsAcknowledged) {
  rewardpool::test::TempDir d;
  const std::int64_t initial = 100'000'000;
  const std::string data = (d.path() / "data").string();
  Process p({"serve", "--catalog", write_catalog(d, initial, initial), "--data-dir", data, "--listen", "127.0.0.1:0",
             "--ack", GetParam()},
            (d.path() / "serve.err").string());
  const std::string address = p.wait_line("listening on ");
  auto channel = connect(address);
  auto stub = pb::RewardPoolService::NewStub(channel);

  std::mutex mu;
  std::map<std::string, std::int64_t> acked;  // per item, responses with an item
  std::atomic<int> answering{0};
  std::vector<std::thread> clients;
  for (int s = 0; s < 4; ++s) {
    clients.emplace_back([&, s] {
      grpc::ClientContext ctx;
      auto stream = stub->Draw(&ctx);
      std::thread writer([&] {
        pb::DrawRequest r;
        r.set_count(1 + s * 3);
        while (stream->Write(r)) {
        }
      });
      std::map<std::string, std::int64_t> mine;
      pb::DrawResponse resp;
      bool first = true;
      while (stream->Read(&resp)) {
        if (first) answering.fetch_add(1);
        first = false;
        if (resp.error().empty()) ++mine[resp.item_id()];
        else EXPECT_EQ(resp.error(), rewardpool::net::kErrShuttingDown);
      }
      const grpc::Status st = stream->Finish();
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
      EXPECT_EQ(st.error_message(), rewardpool::net::kErrShuttingDown);  // the server's status, not a broken connection
      writer.join();
      std::lock_guard l(mu);
      for (auto& [k, v] : mine) acked[k] += v;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (answering.load() < 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(answering.load(), 4) << read_text(p.stderr_path);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  for (auto& t : clients) t.join();
  EXPECT_EQ(p.wait_exit(), 0) << read_text(p.stderr_path);

  rewardpool::wal::RecoveryOptions ro;
  ro.read_only = true;
  const auto rec = rewardpool::wal::recover(data, ro);
  std::int64_t total = 0;
  for (const auto& it : rec.catalog.items) {
    SCOPED_TRACE(it.id);
    EXPECT_EQ(initial - it.quantity, acked[it.id]);  // initial - remaining == draws acknowledged
    total += acked[it.id];
  }
  EXPECT_GT(total, 0);
  EXPECT_EQ(rec.draws, static_cast<std::uint64_t>(total));
}

INSTANTIATE_TEST_SUITE_P(AckLevels, ServeSigterm, ::testing::Values("applied", "written", "durable"));

TEST(ServeLoad, TheLoadGeneratorsDrawsMatchTheDrawsTheServerRecords) {
  rewardpool::test::TempDir d;
  const std::int64_t initial = 1'000'000'000;
  Process server({"serve", "--catalog", write_catalog(d, initial, initial), "--wal", "none", "--listen", "127.0.0.1:0"},
                 (d.path() / "serve.err").string());
  const std::string address = server.wait_line("listening on ");
  for (const int count : {1, 100}) {
    SCOPED_TRACE(count);
    const std::string json_path = (d.path() / ("load" + std::to_string(count) + ".json")).string();
    Process load({"load", "--target", address, "--connections", "2", "--in-flight", "4", "--duration", "0.3",
                  "--count", std::to_string(count), "--json", json_path},
                 (d.path() / "load.err").string());
    ASSERT_EQ(load.wait_exit(), 0) << read_text(load.stderr_path);
    const auto j = nlohmann::json::parse(read_text(json_path));
    EXPECT_GT(j.at("requests").get<std::uint64_t>(), 0u);
    EXPECT_EQ(j.at("draws").get<std::uint64_t>(), j.at("requests").get<std::uint64_t>() * static_cast<std::uint64_t>(count));
    EXPECT_EQ(j.at("errors").get<std::uint64_t>(), 0u);
    EXPECT_GT(j.at("draws_per_s").get<double>(), 0.0);
    EXPECT_LE(j.at("latency_us").at("p50").get<double>(), j.at("latency_us").at("p99").get<double>());
  }
  // Both runs' draws, and nothing else, left the pool.
  std::uint64_t drawn_by_load = 0;
  for (const int count : {1, 100}) {
    drawn_by_load += nlohmann::json::parse(read_text((d.path() / ("load" + std::to_string(count) + ".json")).string()))
                         .at("draws")
                         .get<std::uint64_t>();
  }
  auto stub = pb::RewardPoolService::NewStub(connect(address));
  std::int64_t drawn = 0;
  const pb::GetStateResponse state = get_state(*stub);
  for (const auto& it : state.items()) drawn += initial - it.quantity();
  EXPECT_EQ(static_cast<std::uint64_t>(drawn), drawn_by_load);
  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(server.wait_exit(), 0) << read_text(server.stderr_path);
}

TEST(ServeFlags, ContradictoryFlagsAreRefusedWithAMessageNamingThem) {
  rewardpool::test::TempDir d;
  Process p({"serve", "--catalog", write_catalog(d, 1, 1), "--wal", "none", "--data-dir", d.str()}, (d.path() / "err").string());
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_NE(read_text(p.stderr_path).find("--wal none keeps nothing"), std::string::npos) << read_text(p.stderr_path);
  Process q({"serve", "--catalog", write_catalog(d, 1, 1), "--data-dir", d.str() + "/x", "--max-count", "100",
             "--stream-buffer", "10"},
            (d.path() / "err2").string());
  EXPECT_EQ(q.wait_exit(), 2);
  EXPECT_NE(read_text(q.stderr_path).find("--max-count"), std::string::npos) << read_text(q.stderr_path);
}
