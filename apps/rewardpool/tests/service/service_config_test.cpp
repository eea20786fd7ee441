// SPDX-License-Identifier: MIT
// `serve --config FILE`: the Go original's YAML layout as it is; unknown or mistyped keys are errors
// naming the key; flags override the file.
#include <gtest/gtest.h>

#include <fstream>

#include "service/config.hpp"
#include "service_client.hpp"
#include "service_process.hpp"

using rewardpool::service::ConfigError;
using rewardpool::service::parse_config;

namespace {

// The Go original's samples/config.yaml layout, every key it has.
constexpr const char* kGoSample = R"(working_dir: "tmp/working_dir"
pool:
  catalog:
    - item_id: "diamond"
      quantity: 100
      probability: 10
    - item_id: "rock"
      quantity: -1
      probability: 40
wal:
  max_file_size_kb: 1024
  max_request_buffer_size: 512
  formatter: "json"
  flush_after_n_draw: 20
grpc:
  enabled: true
  listen_address: ":50051"
)";

std::string error_of(const std::string& yaml) {
  try {
    (void)parse_config(yaml, "c.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ServiceConfig, TheGoOriginalsSampleLayoutIsReadAsItIs) {
  const auto c = parse_config(kGoSample, "c.yaml");
  EXPECT_EQ(c.working_dir, "tmp/working_dir");
  ASSERT_TRUE(c.catalog);
  ASSERT_EQ(c.catalog->items.size(), 2u);
  EXPECT_EQ(c.catalog->items[0].id, "diamond");
  EXPECT_EQ(c.catalog->items[0].quantity, 100);
  EXPECT_EQ(c.catalog->items[0].weight, 10.0);
  EXPECT_EQ(c.catalog->items[1].quantity, rewardpool::kUnlimited);
  EXPECT_EQ(c.segment_bytes, 1024u * 1024u);
  EXPECT_EQ(c.mailbox_capacity, 512u);
  EXPECT_EQ(c.formatter, "json");
  EXPECT_EQ(c.flush_after_n_draw, 20);
  EXPECT_EQ(c.grpc_enabled, true);
  EXPECT_EQ(c.listen_address, "[::]:50051");  // Go's ":PORT": every interface
}

TEST(ServiceConfig, AnEmptyFileConfiguresNothing) {
  const auto c = parse_config("", "c.yaml");
  EXPECT_FALSE(c.working_dir || c.catalog || c.segment_bytes || c.grpc_enabled || c.listen_address);
}

TEST(ServiceConfig, UnknownKeysAreErrorsNamingTheKeyPath) {
  EXPECT_NE(error_of("workdir: x\n").find("c.yaml: workdir: unknown key"), std::string::npos) << error_of("workdir: x\n");
  EXPECT_NE(error_of("wal:\n  flush_every: 3\n").find("wal.flush_every: unknown key"), std::string::npos);
  EXPECT_NE(error_of("grpc:\n  port: 3\n").find("grpc.port: unknown key"), std::string::npos);
  EXPECT_NE(error_of("pool:\n  catalog:\n    - item_id: a\n      quantity: 1\n      probability: 1\n      weight: 2\n")
                .find("pool.catalog[0].weight: unknown key"),
            std::string::npos);
}

TEST(ServiceConfig, MistypedValuesAreErrorsNamingTheKeyAndTheValue) {
  EXPECT_NE(error_of("wal:\n  flush_after_n_draw: often\n").find("wal.flush_after_n_draw: expected an integer, got 'often'"),
            std::string::npos)
      << error_of("wal:\n  flush_after_n_draw: often\n");
  EXPECT_NE(error_of("grpc:\n  enabled: maybe\n").find("grpc.enabled: expected true or false, got 'maybe'"), std::string::npos);
  EXPECT_NE(error_of("pool:\n  catalog:\n    - item_id: a\n      quantity: 1\n      probability: 2.5\n")
                .find("pool.catalog[0].probability: expected an integer, got '2.5'"),
            std::string::npos);
  EXPECT_NE(error_of("working_dir: [a, b]\n").find("working_dir: expected a string"), std::string::npos);
  EXPECT_NE(error_of("pool:\n  catalog:\n    - item_id: a\n      probability: 1\n").find("pool.catalog[0]: quantity is missing"),
            std::string::npos);
  EXPECT_NE(error_of("pool:\n  catalog: []\n").find("c.yaml: pool.catalog"), std::string::npos) << error_of("pool:\n  catalog: []\n");
  EXPECT_NE(error_of("wal:\n  flush_after_n_draw: -1\n").find("must be >= 0"), std::string::npos);
  EXPECT_NE(error_of("pool: [1\n").find("not valid YAML"), std::string::npos);
}

TEST(ServiceConfig, ServeReadsTheConfigAndFlagsOverrideIt) {
  rewardpool::test::TempDir d;
  const std::string cfg = (d.path() / "config.yaml").string();
  std::ofstream(cfg) << "working_dir: \"" << (d.path() / "data").string() << "\"\n"
                     << "pool:\n  catalog:\n    - item_id: \"gold\"\n      quantity: 7\n      probability: 3\n"
                     << "wal:\n  max_file_size_kb: 64\n  flush_after_n_draw: 1\n"
                     << "grpc:\n  enabled: true\n  listen_address: \"127.0.0.1:1\"\n";  // overridden below
  svctest::Process p({"serve", "--config", cfg, "--listen", "127.0.0.1:0"}, (d.path() / "err").string());
  const std::string address = p.wait_line("listening on ");
  auto stub = svctest::pb::RewardPoolService::NewStub(svctest::connect(address));
  const auto state = svctest::get_state(*stub);
  ASSERT_EQ(state.items_size(), 1);
  EXPECT_EQ(state.items(0).item_id(), "gold");
  EXPECT_EQ(state.items(0).quantity(), 7);
  EXPECT_EQ(state.items(0).probability(), 3);
  const auto r = svctest::draw_stream(*stub, {2});
  ASSERT_EQ(r.responses.size(), 2u);
  ::kill(p.pid, SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << svctest::read_text(p.stderr_path);
  // working_dir was used as the data directory.
  rewardpool::wal::RecoveryOptions ro;
  ro.read_only = true;
  EXPECT_EQ(rewardpool::wal::recover((d.path() / "data").string(), ro).draws, 2u);
}

TEST(ServiceConfig, ServeRefusesABadConfigWithTheKeyAndExitCode2) {
  rewardpool::test::TempDir d;
  const std::string cfg = (d.path() / "config.yaml").string();
  std::ofstream(cfg) << "grpc:\n  listen_adress: \":50051\"\n";
  svctest::Process p({"serve", "--config", cfg, "--wal", "none", "--catalog", "/nonexistent"}, (d.path() / "err").string());
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_NE(svctest::read_text(p.stderr_path).find("grpc.listen_adress: unknown key"), std::string::npos)
      << svctest::read_text(p.stderr_path);
}
