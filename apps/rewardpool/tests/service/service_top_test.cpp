// SPDX-License-Identifier: MIT
// `rewardpool top`'s data part (the curses screen is not tested): fetching a sample from a serving pool,
// the figures computed from two samples, and the text lines the screen shows.
#include <gtest/gtest.h>

#include "service/top.hpp"
#include "service_client.hpp"

using namespace svctest;
using rewardpool::Ack;
using rewardpool::Item;
using rewardpool::net::TopClient;
using rewardpool::net::TopSample;

TEST(ServiceTop, ASampleHoldsRemainingPerItemAndTheServersCounters) {
  InProcess p(catalog({Item{"gold", 50, 1}, Item{"mud", -1, 9}}), Ack::Durable);
  TopClient client(p.server->address());
  const TopSample before = client.fetch();
  ASSERT_EQ(before.items.size(), 2u);
  EXPECT_EQ(before.items[0].id, "gold");
  EXPECT_EQ(before.items[0].remaining, 50);
  EXPECT_EQ(before.items[0].initial, 50);
  EXPECT_EQ(before.items[1].remaining, -1);
  EXPECT_EQ(before.draws_ok, 0u);
  EXPECT_EQ(before.ack, "durable");
  const StreamResult r = draw_stream(*p.stub, {30});
  ASSERT_EQ(r.responses.size(), 30u);
  std::int64_t gold = 0;
  for (const auto& resp : r.responses) gold += resp.item_id() == "gold";
  const TopSample after = client.fetch();
  EXPECT_EQ(after.items[0].remaining, 50 - gold);
  EXPECT_EQ(after.draws_ok, 30u);
  EXPECT_EQ(after.in_flight, 0u);
  EXPECT_GE(after.applied_lsn, 30u);
  EXPECT_EQ(after.durable_lsn, after.applied_lsn);  // every draw was answered at durable
  const auto v = rewardpool::net::view(&before, after);
  EXPECT_GT(v.draws_per_s, 0.0);
  EXPECT_FALSE(v.replication_lag.has_value());  // not replicating
}

TEST(ServiceTop, TheViewComputesDrawsPerSecondAndTheLagFromTwoSamples) {
  TopSample a, b;
  a.at = std::chrono::steady_clock::time_point(std::chrono::seconds(10));
  b.at = a.at + std::chrono::milliseconds(500);
  a.draws_ok = 1000;
  b.draws_ok = 6000;
  b.applied_lsn = 9000;
  b.durable_lsn = 8000;
  b.replicating = true;
  b.replicated_lsn = 7000;
  const auto v = rewardpool::net::view(&a, b);
  EXPECT_DOUBLE_EQ(v.draws_per_s, 10000.0);
  ASSERT_TRUE(v.replication_lag.has_value());
  EXPECT_EQ(*v.replication_lag, 2000u);
  EXPECT_EQ(v.unsynced, 1000u);
  EXPECT_DOUBLE_EQ(rewardpool::net::view(nullptr, b).draws_per_s, 0.0);  // the first sample has no rate
}

TEST(ServiceTop, EachItemIsABarFilledInProportionToWhatRemains) {
  TopSample s;
  s.items = {{"gold", 25, 100, 1}, {"mud", -1, -1, 9}, {"empty", 0, 10, 1}};
  const auto lines = rewardpool::net::render(s, rewardpool::net::view(nullptr, s), "x:1", 80);
  ASSERT_GE(lines.size(), 3u);
  const std::string& gold = lines[lines.size() - 3];
  const std::string& mud = lines[lines.size() - 2];
  const std::string& empty = lines.back();
  const auto bar = [](const std::string& l) { return l.substr(l.find('[')); };
  const std::string g = bar(gold);
  const auto hashes = static_cast<double>(std::count(g.begin(), g.end(), '#'));
  const auto width = static_cast<double>(g.size() - 2);
  EXPECT_NEAR(hashes / width, 0.25, 1.0 / width);
  EXPECT_NE(mud.find("unlimited"), std::string::npos);
  EXPECT_EQ(std::count(empty.begin(), empty.end(), '#'), 0);
  for (const auto& l : lines) EXPECT_LE(static_cast<int>(l.size()), 80) << l;
}
