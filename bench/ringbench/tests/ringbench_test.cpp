// SPDX-License-Identifier: MIT
// The deterministic parts of ringbench (bench/ringbench/include): the latency recorder against a
// sorted-array reference, the result checker against lost / duplicated / reordered items, the CSV
// writer, the repeat summary and the probe-moved rule. Header-only, so this builds in every preset
// (bench/ itself is not configured under the sanitizers).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "ringbench/csv_writer.hpp"
#include "ringbench/item.hpp"
#include "ringbench/latency_recorder.hpp"
#include "ringbench/sequence_checker.hpp"
#include "ringbench/stats.hpp"

namespace {

using ringbench::CsvWriter;
using ringbench::LatencyRecorder;
using ringbench::SequenceChecker;

// Samples for the recorder test: 200,000, or 10,000 under a sanitizer (compiled in, or RINGKIT_SANITIZER
// set by the ctest presets) so the sanitizer runs stay short. Only the count changes, never an assertion.
std::uint64_t recorder_samples() {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return 10'000;
#else
  const char* s = std::getenv("RINGKIT_SANITIZER");
  return s != nullptr && *s != '\0' ? 10'000 : 200'000;
#endif
}

// Nearest-rank percentile of a sorted array: the value at rank ceil(p/100 * n), at least rank 1.
std::uint64_t reference_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// The recorder's promise: r in [v, v + v / 2^kSubBits] for the exact nearest-rank value v.
void expect_within_bucket(std::uint64_t got, std::uint64_t want, double p) {
  EXPECT_GE(got, want) << "p" << p;
  EXPECT_LE(got, want + (want >> LatencyRecorder::kSubBits)) << "p" << p;
}

// ---- LatencyRecorder ----------------------------------------------------------------------------------
TEST(LatencyRecorder, SmallValuesAreExact) {
  LatencyRecorder rec;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < LatencyRecorder::kExactLimit; ++v) {
    for (std::uint64_t k = 0; k < v % 3 + 1; ++k) {
      rec.record(v);
      values.push_back(v);
    }
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(rec.percentile(p), reference_percentile(values, p)) << "p" << p;
  }
  EXPECT_EQ(rec.min(), 0u);
  EXPECT_EQ(rec.max(), LatencyRecorder::kExactLimit - 1);
  EXPECT_EQ(rec.count(), values.size());
}

TEST(LatencyRecorder, BucketsTileTheRangeWithBoundedWidth) {
  // Every value maps to a bucket whose [lowest, highest] contains it, indices never go backwards, and a
  // bucket is at most value / 2^kSubBits wide.
  std::size_t last = 0;
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << 20); v += 1 + v / 97) {
    const std::size_t i = LatencyRecorder::index_of(v);
    ASSERT_LT(i, LatencyRecorder::kBuckets);
    ASSERT_GE(i, last) << v;
    last = i;
    ASSERT_LE(LatencyRecorder::lowest_in_bucket(i), v);
    ASSERT_GE(LatencyRecorder::highest_in_bucket(i), v);
    ASSERT_LE(LatencyRecorder::highest_in_bucket(i) - LatencyRecorder::lowest_in_bucket(i), v >> LatencyRecorder::kSubBits);
  }
  const std::uint64_t top = (std::uint64_t{1} << LatencyRecorder::kMaxBits) - 1;
  EXPECT_EQ(LatencyRecorder::index_of(top), LatencyRecorder::kBuckets - 1);
}

TEST(LatencyRecorder, PercentilesMatchSortedReferenceOnLatencyLikeData) {
  // A latency-shaped distribution: a tight body around 90-400 ns, a tail of scheduler hiccups up to ms.
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> body(std::log(300.0), 0.3);
  std::uniform_int_distribution<std::uint64_t> tail(5'000, 5'000'000);
  LatencyRecorder rec;
  std::vector<std::uint64_t> values;
  const auto n = recorder_samples();
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t v = (i % 997 == 0) ? tail(rng) : static_cast<std::uint64_t>(body(rng));
    rec.record(v);
    values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    expect_within_bucket(rec.percentile(p), reference_percentile(values, p), p);
  }
  EXPECT_EQ(rec.percentile(100), values.back());
  EXPECT_EQ(rec.min(), values.front());
}

RC_GTEST_PROP(LatencyRecorderProperty, AnyDataWithinOneBucketOfReference, (std::vector<std::uint32_t> raw, std::uint8_t pct)) {
  RC_PRE(!raw.empty());
  LatencyRecorder rec;
  std::vector<std::uint64_t> values;
  for (auto r : raw) {
    values.push_back(r);
    rec.record(r);
  }
  std::sort(values.begin(), values.end());
  const double p = static_cast<double>(pct % 101);
  const std::uint64_t want = reference_percentile(values, p);
  const std::uint64_t got = rec.percentile(p);
  RC_ASSERT(got >= want);
  RC_ASSERT(got <= want + (want >> LatencyRecorder::kSubBits));
}

TEST(LatencyRecorder, MergeEqualsRecordingEverythingInOne) {
  LatencyRecorder a, b, all;
  for (std::uint64_t v = 1; v < 100'000; v = v * 3 / 2 + 1) {
    (v % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  for (double p : {1.0, 50.0, 99.0, 100.0}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
}

TEST(LatencyRecorder, OverflowIsCountedAndClamped) {
  LatencyRecorder rec;
  rec.record(std::uint64_t{1} << 50);
  EXPECT_EQ(rec.overflow(), 1u);
  EXPECT_EQ(rec.max(), (std::uint64_t{1} << LatencyRecorder::kMaxBits) - 1);
}

TEST(LatencyRecorder, EmptyReportsZeroAndAPercentileOutside0To100Throws) {
  LatencyRecorder rec;
  EXPECT_EQ(rec.percentile(50), 0u);
  EXPECT_THROW((void)rec.percentile(101), std::invalid_argument);
  EXPECT_THROW((void)rec.percentile(-1), std::invalid_argument);
}

// ---- SequenceChecker --------------------------------------------------------------------------------------
std::optional<std::string> verify_one(const SequenceChecker& c) { return SequenceChecker::verify(std::span(&c, 1)); }

TEST(SequenceChecker, ContiguousAcceptsExactlyOnceInOrder) {
  SequenceChecker c(2, 100, SequenceChecker::Mode::Contiguous);
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(c.observe(0, i));
    ASSERT_TRUE(c.observe(1, i));  // producers interleave freely
  }
  EXPECT_EQ(verify_one(c), std::nullopt);
  EXPECT_EQ(c.received(), 200u);
}

TEST(SequenceChecker, ContiguousRejectsLostItem) {
  SequenceChecker c(1, 10, SequenceChecker::Mode::Contiguous);
  for (std::uint64_t i = 0; i < 10; ++i) {
    if (i != 4) (void)c.observe(0, i);
  }
  const auto e = verify_one(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("index 5"), std::string::npos) << *e;  // the first item after the hole
  EXPECT_NE(e->find("expected index 4"), std::string::npos) << *e;
}

TEST(SequenceChecker, ContiguousRejectsLostTail) {
  SequenceChecker c(1, 10, SequenceChecker::Mode::Contiguous);
  for (std::uint64_t i = 0; i < 9; ++i) ASSERT_TRUE(c.observe(0, i));
  const auto e = verify_one(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("delivered 9 of 10"), std::string::npos) << *e;
}

TEST(SequenceChecker, ContiguousRejectsDuplicate) {
  SequenceChecker c(1, 10, SequenceChecker::Mode::Contiguous);
  ASSERT_TRUE(c.observe(0, 0));
  ASSERT_TRUE(c.observe(0, 1));
  EXPECT_FALSE(c.observe(0, 1));
  const auto e = verify_one(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("duplicate"), std::string::npos) << *e;
}

TEST(SequenceChecker, ContiguousRejectsOutOfOrder) {
  SequenceChecker c(1, 4, SequenceChecker::Mode::Contiguous);
  ASSERT_TRUE(c.observe(0, 0));
  EXPECT_FALSE(c.observe(0, 2));  // 1 and 2 swapped
  (void)c.observe(0, 1);
  (void)c.observe(0, 3);
  EXPECT_TRUE(verify_one(c).has_value());
}

TEST(SequenceChecker, RejectsUnknownProducerAndIndexOutOfRange) {
  SequenceChecker a(2, 4, SequenceChecker::Mode::Contiguous);
  EXPECT_FALSE(a.observe(2, 0));
  EXPECT_NE(verify_one(a)->find("unknown producer 2"), std::string::npos);
  SequenceChecker b(2, 4, SequenceChecker::Mode::Increasing);
  EXPECT_FALSE(b.observe(0, 4));
  EXPECT_NE(verify_one(b)->find("out of range"), std::string::npos);
}

TEST(SequenceChecker, IncreasingAcrossConsumersAcceptsAPartition) {
  // Two consumers split each producer's stream; each sees increasing indices with gaps.
  std::vector<SequenceChecker> cs(2, SequenceChecker(2, 1000, SequenceChecker::Mode::Increasing));
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(cs[(i / 7) % 2].observe(0, i));
    ASSERT_TRUE(cs[(i / 3) % 2].observe(1, i));
  }
  EXPECT_EQ(SequenceChecker::verify(cs), std::nullopt);
}

TEST(SequenceChecker, IncreasingRejectsDuplicateAcrossConsumers) {
  std::vector<SequenceChecker> cs(2, SequenceChecker(1, 100, SequenceChecker::Mode::Increasing));
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(cs[i % 2].observe(0, i));
  ASSERT_TRUE(cs[0].observe(0, 99));  // consumer 0 also got item 99: each consumer alone looks fine
  const auto e = SequenceChecker::verify(cs);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("duplicate item: producer 0 index 99"), std::string::npos) << *e;
}

TEST(SequenceChecker, IncreasingRejectsLostItemAcrossConsumers) {
  std::vector<SequenceChecker> cs(2, SequenceChecker(1, 100, SequenceChecker::Mode::Increasing));
  for (std::uint64_t i = 0; i < 100; ++i) {
    if (i != 63 && i != 64) {
      ASSERT_TRUE(cs[i % 2].observe(0, i));
    }
  }
  const auto e = SequenceChecker::verify(cs);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("lost item: producer 0 index 63"), std::string::npos) << *e;
}

TEST(SequenceChecker, IncreasingRejectsOutOfOrderWithinAConsumer) {
  SequenceChecker c(1, 10, SequenceChecker::Mode::Increasing);
  ASSERT_TRUE(c.observe(0, 5));
  EXPECT_FALSE(c.observe(0, 3));
  EXPECT_NE(c.error()->find("out-of-order item: producer 0 index 3 after index 5"), std::string::npos) << *c.error();
}

TEST(SequenceChecker, UnorderedAcceptsAnyOrderButNotDuplicates) {
  SequenceChecker c(1, 64, SequenceChecker::Mode::Unordered);
  for (std::uint64_t i = 64; i-- > 0;) ASSERT_TRUE(c.observe(0, i));
  EXPECT_EQ(verify_one(c), std::nullopt);
  EXPECT_FALSE(c.observe(0, 17));
  EXPECT_TRUE(verify_one(c).has_value());
}

RC_GTEST_PROP(SequenceCheckerProperty, AnyPermutationPassesUnorderedAndOnlyIdentityPassesContiguous,
              (std::vector<bool> shape)) {
  const std::uint64_t n = shape.size() + 1;
  std::vector<std::uint64_t> order(n);
  for (std::uint64_t i = 0; i < n; ++i) order[i] = i;
  const auto seed = *rc::gen::arbitrary<std::uint32_t>();
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  SequenceChecker unordered(1, n, SequenceChecker::Mode::Unordered);
  SequenceChecker contiguous(1, n, SequenceChecker::Mode::Contiguous);
  for (auto i : order) {
    (void)unordered.observe(0, i);
    (void)contiguous.observe(0, i);
  }
  RC_ASSERT(!verify_one(unordered).has_value());
  RC_ASSERT(verify_one(contiguous).has_value() == !std::is_sorted(order.begin(), order.end()));
}

// ---- Item -------------------------------------------------------------------------------------------------
TEST(Item, TagRoundTripsAndTornPayloadIsCaught) {
  auto item = ringbench::make_item<64>(3, 123456789);
  EXPECT_EQ(ringbench::producer_of(item.tag), 3u);
  EXPECT_EQ(ringbench::index_of(item.tag), 123456789u);
  EXPECT_TRUE(ringbench::item_intact(item));
  item.body.back() ^= 1;
  EXPECT_FALSE(ringbench::item_intact(item));
  static_assert(sizeof(ringbench::Item<8>) == 8 && sizeof(ringbench::Item<64>) == 64 && sizeof(ringbench::Item<256>) == 256);
}

// ---- CsvWriter ---------------------------------------------------------------------------------------------
TEST(CsvWriter, WritesHeaderThenRows) {
  std::ostringstream out;
  CsvWriter w(out, {"scenario", "contender", "params", "metric", "median", "min", "max"});
  w.row({"spsc", "floor", "bytes=8;producers=1", "items_per_s", "1e+09", "9e+08", "1.1e+09"});
  w.row({"spsc", "ringkit::SpscQueue<Yielding>", "bytes=8;producers=1", "items_per_s", "1", "0.5", "2"});
  EXPECT_EQ(out.str(),
            "scenario,contender,params,metric,median,min,max\n"
            "spsc,floor,bytes=8;producers=1,items_per_s,1e+09,9e+08,1.1e+09\n"
            "spsc,ringkit::SpscQueue<Yielding>,bytes=8;producers=1,items_per_s,1,0.5,2\n");
  EXPECT_EQ(w.rows(), 2u);
}

TEST(CsvWriter, QuotesFieldsThatNeedIt) {
  std::ostringstream out;
  CsvWriter w(out, {"a", "b"});
  w.row({"x,y", "say \"hi\"\nbye"});
  EXPECT_EQ(out.str(), "a,b\n\"x,y\",\"say \"\"hi\"\"\nbye\"\n");
}

TEST(CsvWriter, RejectsRowOfWrongWidth) {
  std::ostringstream out;
  CsvWriter w(out, {"a", "b", "c"});
  EXPECT_THROW(w.row({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(CsvWriter(out, {}), std::invalid_argument);
}

// ---- stats --------------------------------------------------------------------------------------------------
TEST(Stats, SummaryIsTheMedianMinimumAndMaximumAndEmptyHasNoSamples) {
  const auto odd = ringbench::summarize({5, 1, 3});
  EXPECT_EQ(odd.median, 3);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 5);
  const auto even = ringbench::summarize({4, 1, 3, 2});
  EXPECT_EQ(even.median, 2.5);
  EXPECT_EQ(ringbench::summarize({}).n, 0u);
}

TEST(Stats, AProbeMovedWhenTheRoundTripChangedByRatioAndByNanosecondsOrAProbeFailed) {
  EXPECT_FALSE(ringbench::probe_moved(95, 110));    // jitter in the fast regime
  EXPECT_TRUE(ringbench::probe_moved(90, 400));     // the host moved a vCPU
  EXPECT_TRUE(ringbench::probe_moved(400, 95));
  EXPECT_FALSE(ringbench::probe_moved(20, 45));     // big ratio, tiny absolute change
  EXPECT_TRUE(ringbench::probe_moved(0, 100));      // a failed probe counts as moved
}

}  // namespace
