// SPDX-License-Identifier: MIT
// The reward pool: selectors (prefix-sum, Fenwick), weighted draws, update semantics, catalog files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>

#include "rewardpool/pool.hpp"
#include "rewardpool_test.hpp"

using namespace rewardpool;

namespace {

Catalog make_catalog(std::vector<std::pair<std::int64_t, double>> qw) {
  Catalog c;
  for (std::size_t i = 0; i < qw.size(); ++i) c.items.push_back({"item" + std::to_string(i), qw[i].first, qw[i].second});
  return c;
}

class PoolSelector : public ::testing::TestWithParam<SelectorKind> {};

// Brute-force reference: the item a number r in [0, total) falls on.
std::size_t reference_find(const std::vector<std::uint64_t>& w, std::uint64_t r) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    sum += w[i];
    if (r < sum) return i;
  }
  return w.size();
}

}  // namespace

TEST_P(PoolSelector, SelectorMatchesBruteForceUnderRandomUpdates) {
  auto sel = make_selector(GetParam());
  std::mt19937_64 rng(7);
  for (std::size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 33u}) {
    std::vector<std::uint64_t> w(n);
    for (auto& x : w) x = rng() % 4;  // many zeros
    sel->reset(w);
    for (int step = 0; step < 200; ++step) {
      const std::size_t i = rng() % n;
      w[i] = rng() % 5;
      sel->set(i, w[i]);
      std::uint64_t total = 0;
      for (auto x : w) total += x;
      ASSERT_EQ(sel->total(), total);
      for (std::uint64_t r = 0; r < total; ++r) {
        const std::size_t got = sel->find(r);
        ASSERT_EQ(got, reference_find(w, r)) << sel->name() << " n=" << n << " r=" << r;
        ASSERT_GT(w[got], 0u);
      }
    }
  }
}

TEST_P(PoolSelector, DrawsFollowWeightsChiSquare) {
  // Quantities large enough that no item runs out: the expected share of item i is w_i / sum(w).
  const std::vector<double> weights{1.0, 2.5, 0.5, 4.0, 2.0};
  std::vector<std::pair<std::int64_t, double>> qw;
  for (double w : weights) qw.emplace_back(1'000'000, w);
  Pool pool(make_catalog(qw), GetParam(), /*seed=*/12345);
  const int draws = static_cast<int>(rewardpool::test::scaled(100'000, 5));
  std::vector<double> count(weights.size(), 0);
  for (int k = 0; k < draws; ++k) {
    const DrawResult r = pool.draw();
    ASSERT_EQ(r.status, Status::Ok);
    count[r.index] += 1;
  }
  double wsum = 0;
  for (double w : weights) wsum += w;
  double chi2 = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double expected = draws * weights[i] / wsum;
    chi2 += (count[i] - expected) * (count[i] - expected) / expected;
  }
  // 4 degrees of freedom: P(chi2 > 18.47) = 0.001. Fixed seed, so this is deterministic.
  EXPECT_LT(chi2, 18.47) << "draws do not follow the weights";
  // And the test can fail: the same counts against uniform weights are rejected.
  double chi2_uniform = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double expected = draws / static_cast<double>(weights.size());
    chi2_uniform += (count[i] - expected) * (count[i] - expected) / expected;
  }
  EXPECT_GT(chi2_uniform, 18.47);
}

TEST_P(PoolSelector, NeverOverDrawsAndEmptyIsAnError) {
  Pool pool(make_catalog({{3, 100.0}, {0, 50.0}, {5, 0.001}, {1, 1.0}}), GetParam(), 99);
  std::vector<std::int64_t> drawn(4, 0);
  for (int k = 0; k < 9; ++k) {
    const DrawResult r = pool.draw();
    ASSERT_EQ(r.status, Status::Ok) << "draw " << k;
    ++drawn[r.index];
  }
  EXPECT_EQ(drawn, (std::vector<std::int64_t>{3, 0, 5, 1}));
  for (const Item& it : pool.items()) EXPECT_EQ(it.quantity, 0);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(pool.draw().status, Status::Empty);
  EXPECT_EQ(pool.selector().total(), 0u);
}

TEST_P(PoolSelector, UpdateRestocksReweighsAndRejectsBadValues) {
  Pool pool(make_catalog({{0, 1.0}, {2, 1.0}}), GetParam(), 1);
  // Restocking an exhausted item makes it drawable again; changing a weight changes its share.
  ASSERT_EQ(pool.update(0, 10, 3.0), Status::Ok);
  EXPECT_EQ(pool.item(0).quantity, 10);
  EXPECT_EQ(pool.item(0).weight, 3.0);
  EXPECT_EQ(pool.selector().total(), 4 * kWeightScale);  // 3.0 + 1.0
  // Setting quantity 0 removes it from the draw entirely.
  ASSERT_EQ(pool.update(1, 0, 1.0), Status::Ok);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(pool.draw().index, 0u);
  EXPECT_EQ(pool.draw().status, Status::Empty);
  // Bad updates change nothing.
  EXPECT_EQ(pool.update(2, 1, 1.0), Status::UnknownItem);
  EXPECT_EQ(pool.update(0, -2, 1.0), Status::InvalidArgument);
  EXPECT_EQ(pool.update(0, 1, 0.0), Status::InvalidArgument);
  EXPECT_EQ(pool.update(0, 1, std::nan("")), Status::InvalidArgument);
  EXPECT_EQ(pool.update(0, 1, 2e6), Status::InvalidArgument);
  EXPECT_EQ(pool.item(0).quantity, 0);
  // apply_draw (replay) refuses to oversell.
  EXPECT_EQ(pool.apply_draw(0), Status::InvalidArgument);
  EXPECT_EQ(pool.apply_draw(7), Status::InvalidArgument);
  ASSERT_EQ(pool.update(1, 1, 1.0), Status::Ok);
  EXPECT_EQ(pool.apply_draw(1), Status::Ok);
  EXPECT_EQ(pool.draw().status, Status::Empty);
  EXPECT_EQ(pool.find("item1"), 1u);
  EXPECT_EQ(pool.find("nope"), std::nullopt);
}

TEST_P(PoolSelector, SameSeedGivesTheSameDraws) {
  Pool a(make_catalog({{50, 1.0}, {50, 2.0}, {50, 3.0}}), GetParam(), 42);
  Pool b(make_catalog({{50, 1.0}, {50, 2.0}, {50, 3.0}}), GetParam(), 42);
  for (int k = 0; k < 150; ++k) ASSERT_EQ(a.draw().index, b.draw().index);
  EXPECT_EQ(a.draw().status, Status::Empty);
}

INSTANTIATE_TEST_SUITE_P(Selectors, PoolSelector, ::testing::Values(SelectorKind::PrefixSum, SelectorKind::Fenwick),
                         [](const ::testing::TestParamInfo<SelectorKind>& p) {
                           return p.param == SelectorKind::PrefixSum ? std::string("PrefixSum") : std::string("Fenwick");
                         });

// ---- catalog files ---------------------------------------------------------------------------------
namespace {
std::string error_of(const std::string& json) {
  try {
    parse_catalog(json, "cat.json");
  } catch (const CatalogError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Catalog, ParsesTheNativeLayout) {
  const Catalog c = parse_catalog(R"({"items": [{"id": "gold", "quantity": 100, "weight": 2.5},
                                                {"id": "silver", "quantity": 0, "weight": 1}]})",
                                  "cat.json");
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0], (Item{"gold", 100, 2.5}));
  EXPECT_EQ(c.items[1], (Item{"silver", 0, 1.0}));
}

TEST(Catalog, BadFilesNameTheProblem) {
  EXPECT_NE(error_of("{\"items\": [").find("not valid JSON at byte"), std::string::npos);
  EXPECT_NE(error_of("[]").find("top level must be an object"), std::string::npos);
  EXPECT_NE(error_of("{}").find("missing field \"items\""), std::string::npos);
  EXPECT_NE(error_of(R"({"items": []})").find("the catalog has no items"), std::string::npos);
  // Found by fuzz_catalog: a number too large for a double made nlohmann throw out_of_range, not a
  // CatalogError (the input is the fuzzer's, kept in fuzz/corpus/catalog/regression_number_overflow).
  EXPECT_NE(error_of(R"({"{":[333333333E33333333333333332"})").find("cat.json: not usable JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 1e999}]})").find("cat.json: not usable JSON"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"catalog": []})").find("the catalog has no items"), std::string::npos);
  EXPECT_NE(error_of(R"({"items": [], "catalog": []})").find("not both"), std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 1}], "extra": 1})").find("unknown top-level field \"extra\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"catalog": [{"item_id": "a", "quantity": 1, "probability": 2.5}]})").find("\"probability\" must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"catalog": [{"item_id": "a", "quantity": -2, "probability": 2}]})").find("got -2"), std::string::npos);
  EXPECT_NE(error_of(R"({"items": 3})").find("\"items\" must be an array"), std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"quantity": 1, "weight": 1}]})").find("items[0]: missing field \"id\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 1}, {"id": "b", "quantity": -2, "weight": 1}]})")
                .find("items[1] (id \"b\"): field \"quantity\" must be -1 (unlimited) or in [0, 2^53], got -2"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1.5, "weight": 1}]})").find("\"quantity\" must be an integer (-1 = unlimited), got 1.5"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": "x"}]})").find("field \"weight\" must be a number"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 0}]})").find("items[0] (id \"a\"): field \"weight\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 1}, {"id": "a", "quantity": 1, "weight": 1}]})")
                .find("items[1] (id \"a\"): duplicate id"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "a", "quantity": 1, "weight": 1, "wieght": 2}]})").find("unknown field \"wieght\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"items": [{"id": "", "quantity": 1, "weight": 1}]})").find("\"id\" is empty"), std::string::npos);
}

TEST(Catalog, ParsesTheGoOriginalsLayoutWithUnlimitedQuantities) {
  const Catalog c = parse_catalog(R"({"catalog": [{"item_id": "mud", "quantity": -1, "probability": 70},
                                                  {"item_id": "gold", "quantity": 5, "probability": 30}]})",
                                  "go.json");
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0], (Item{"mud", kUnlimited, 70.0}));
  EXPECT_EQ(c.items[1], (Item{"gold", 5, 30.0}));
  Pool pool(c, SelectorKind::Fenwick, 3);
  int mud = 0;
  for (int i = 0; i < 10000; ++i) {
    const DrawResult r = pool.draw();
    ASSERT_EQ(r.status, Status::Ok);
    mud += r.index == 0;
  }
  EXPECT_EQ(mud, 10000 - 5) << "gold runs out after 5; mud never does";
  EXPECT_EQ(pool.item(0).quantity, kUnlimited);
  EXPECT_EQ(pool.apply_draw(0), Status::Ok) << "replaying a draw of an unlimited item";
  EXPECT_EQ(pool.item(0).quantity, kUnlimited);
}

TEST(Catalog, MissingFileIsAnError) {
  try {
    load_catalog("/nonexistent/catalog.json");
    FAIL() << "no error";
  } catch (const CatalogError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/catalog.json: cannot open"), std::string::npos);
  }
}
