// SPDX-License-Identifier: MIT
// Overflow::SpillToDisk through the queues: routing and order, the spill file's lifetime, custom codecs,
// and every error path: missing directory, a directory that disappears, a full disk (RLIMIT_FSIZE), a
// record too large, and a corrupt (bit-flipped) or truncated spill file — reported, never delivered.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/spilling_queue.hpp"
#include "spill_test_support.hpp"

namespace ringkit::test {
namespace {

struct StringCodec {
  void encode(const std::string& s, std::vector<std::byte>& out) const {
    const std::size_t at = out.size();
    out.resize(at + s.size());
    if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
  }
  std::optional<std::string> decode(std::span<const std::byte> in) const {
    if (!in.empty() && in[0] == std::byte{'!'}) return std::nullopt;  // "!..." is undecodable, for the test
    return std::string(reinterpret_cast<const char*>(in.data()), in.size());
  }
};
static_assert(Codec<StringCodec, std::string>);
static_assert(Codec<TrivialCodec<long>, long>);
static_assert(!Codec<NoDefaultCodec, std::string>);

template <class Q>
std::vector<long> drain(Q& q) {
  std::vector<long> out;
  long v = 0;
  while (q.try_pop(v)) out.push_back(v);
  return out;
}

std::vector<long> iota(long n) {
  std::vector<long> v(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

TEST(MpscQueueSpill, OverflowGoesToDiskAndComesBackInOrder) {
  ScratchDir dir;
  SpillingMpscQueue<long> q(4, SpillOptions{.directory = dir.path()});
  EXPECT_EQ(q.overflow(), Overflow::SpillToDisk);
  for (long i = 0; i < 4; ++i) EXPECT_EQ(q.push(i), PushResult::Pushed);
  for (long i = 4; i < 100; ++i) EXPECT_EQ(q.push(i), PushResult::Spilled);
  EXPECT_EQ(dir.file_count(), 1u);
  EXPECT_TRUE(std::filesystem::exists(q.spill_path()));
  EXPECT_EQ(q.spill_pending(), 96u);
  long v = 0;
  ASSERT_TRUE(q.try_pop(v));
  EXPECT_EQ(v, 0);
  EXPECT_FALSE(q.try_push(1000));  // the spill holds items: try_push must not jump the queue
  EXPECT_EQ(q.push(100), PushResult::Spilled);  // nor does push(): it queues behind the spill
  const auto all = iota(101);
  EXPECT_EQ(drain(q), std::vector<long>(all.begin() + 1, all.end()));
  EXPECT_EQ(dir.file_count(), 0u);  // drained: removed
  EXPECT_TRUE(q.spill_path().empty());
  const QueueStats s = q.stats();
  EXPECT_EQ(s.spilled, 97u);
  EXPECT_EQ(s.unspilled, 97u);
  EXPECT_EQ(s.pushed, 4u);
  EXPECT_EQ(s.popped, 101u);
  EXPECT_FALSE(q.last_error());
  // After draining, the ring is used again, and a new spill file when it fills.
  for (long i = 0; i < 6; ++i) q.push(i);
  EXPECT_EQ(dir.file_count(), 1u);
  EXPECT_EQ(drain(q), iota(6));
  EXPECT_EQ(dir.file_count(), 0u);
}

TEST(MpscQueueSpill, BatchesAndBlockingPopReadTheSpill) {
  ScratchDir dir;
  SpillingMpmcQueue<long> q(2, SpillOptions{.directory = dir.path()});
  for (long i = 0; i < 10; ++i) q.push(i);
  std::vector<long> out(5);
  EXPECT_EQ(q.pop_batch(out), 2u);  // the ring's run
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(q.pop_batch(out), 5u);  // then the spill
  EXPECT_EQ(out, (std::vector<long>{2, 3, 4, 5, 6}));
  std::vector<long> seen;
  EXPECT_EQ(q.take_batch(10, [&](long&& v) noexcept { seen.push_back(v); }), 3u);
  EXPECT_EQ(seen, (std::vector<long>{7, 8, 9}));
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (long i = 0; i < 50; ++i) q.push(i);
    q.close();
  });
  long v = 0, expect = 0;
  while (q.pop(v)) EXPECT_EQ(v, expect++);  // close() still drains the spill
  producer.join();
  EXPECT_EQ(expect, 50);
  EXPECT_EQ(dir.file_count(), 0u);
}

TEST(MpscQueueSpill, CustomCodecAndRecordLimit) {
  ScratchDir dir;
  SpillingMpscQueue<std::string> q(1, SpillOptions{.directory = dir.path(), .max_record_bytes = 8}, StringCodec{});
  EXPECT_EQ(q.push("ring"), PushResult::Pushed);
  EXPECT_EQ(q.push("disk"), PushResult::Spilled);
  std::string big = "much too long";
  EXPECT_EQ(q.push(big), PushResult::Error);
  EXPECT_EQ(big, "much too long");  // not consumed
  EXPECT_EQ(q.last_error(), spill_errc::record_too_large);
  EXPECT_NE(q.last_error_message().find("max_record_bytes 8"), std::string::npos) << q.last_error_message();
  EXPECT_EQ(q.try_pop(), "ring");
  EXPECT_EQ(q.try_pop(), "disk");
  EXPECT_FALSE(q.try_pop());
  // A record the codec rejects is reported, not delivered.
  EXPECT_EQ(q.push("a"), PushResult::Pushed);
  EXPECT_EQ(q.push("!bad"), PushResult::Spilled);
  EXPECT_EQ(q.try_pop(), "a");
  EXPECT_FALSE(q.try_pop());
  EXPECT_EQ(q.last_error(), spill_errc::codec_rejected);
}

TEST(MpscQueueSpill, MissingDirectoryRejectedAtConstruction) {
  ScratchDir dir;
  const auto missing = dir.path() / "nope";
  try {
    SpillingMpscQueue<long> q(4, SpillOptions{.directory = missing});
    FAIL() << "accepted a missing directory";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(SpillingMpscQueue<long>(4, SpillOptions{.directory = dir.path(), .max_record_bytes = 0}), std::invalid_argument);
  EXPECT_THROW(SpillingMpscQueue<long>(3, SpillOptions{.directory = dir.path()}), std::invalid_argument);
}

TEST(MpscQueueSpill, DirectoryGoneIsAnErrorNotADrop) {
  ScratchDir dir;
  const auto sub = dir.path() / "spill";
  std::filesystem::create_directory(sub);
  SpillingMpscQueue<long> q(2, SpillOptions{.directory = sub});
  q.push(1);
  q.push(2);
  std::filesystem::remove(sub);
  EXPECT_EQ(q.push(3), PushResult::Error);
  EXPECT_EQ(q.last_error(), std::errc::no_such_file_or_directory);
  EXPECT_NE(q.last_error_message().find(sub.string()), std::string::npos) << q.last_error_message();
  std::filesystem::create_directory(sub);
  EXPECT_EQ(q.push(3), PushResult::Spilled);  // recovers once the directory is back
  EXPECT_EQ(drain(q), (std::vector<long>{1, 2, 3}));
  const QueueStats s = q.stats();
  EXPECT_EQ(s.pushed + s.spilled, 3u);  // the failed push is in neither
}

TEST(MpscQueueSpill, FullDiskIsAnErrorAndEarlierItemsSurvive) {
  ScratchDir dir;
  SpillingMpscQueue<long> q(4, SpillOptions{.directory = dir.path()});
  long next = 0;
  PushResult r = PushResult::Pushed;
  {
    FileSizeLimit limit(1024);
    while ((r = q.push(next)) != PushResult::Error) {
      ++next;
      ASSERT_LT(next, 100000) << "the size limit never hit";
    }
  }
  EXPECT_EQ(q.last_error(), std::errc::file_too_large);
  EXPECT_GT(q.stats().spilled, 10u);
  EXPECT_EQ(drain(q), iota(next));  // everything acknowledged comes back, in order
  EXPECT_EQ(dir.file_count(), 0u);
}

TEST(MpscQueueSpill, CorruptRecordReportedNotDelivered) {
  ScratchDir dir;
  SpillingMpscQueue<long> q(2, SpillOptions{.directory = dir.path()});
  for (long i = 0; i < 10; ++i) q.push(i);  // 0,1 in the ring; 2..9 spilled, 16 bytes per record
  const auto file = q.spill_path();
  const std::uint64_t record = SpillFile::kFrameSize + sizeof(long);
  flip_byte(file, SpillFile::kHeaderSize + 3 * record + SpillFile::kFrameSize, 0x80);  // item 5's payload
  EXPECT_EQ(drain(q), (std::vector<long>{0, 1, 2, 3, 4}));  // stops before the bad record
  EXPECT_EQ(q.last_error(), spill_errc::checksum_mismatch);
  const std::string msg = q.last_error_message();
  EXPECT_NE(msg.find("offset " + std::to_string(SpillFile::kHeaderSize + 3 * record)), std::string::npos) << msg;
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_EQ(q.spill_discarded_bytes(), 5 * record);  // the bad record and the 4 after it
  EXPECT_EQ(q.spill_discarded_records(), 5u);
  EXPECT_EQ(q.spill_pending(), 0u) << "discarded records are no longer pending";
  EXPECT_EQ(dir.file_count(), 0u);
  // The queue goes on.
  for (long i = 0; i < 5; ++i) q.push(i);
  EXPECT_EQ(drain(q), iota(5));
}

TEST(MpscQueueSpill, OversizedFirstRecordLeavesNoSpillFile) {
  ScratchDir dir;
  struct BigCodec {  // encodes every item as 64 bytes, over the 32-byte record limit below
    void encode(const long&, std::vector<std::byte>& out) const { out.assign(64, std::byte{1}); }
    std::optional<long> decode(std::span<const std::byte>) const { return 0; }
  };
  SpillingMpscQueue<long> q(1, SpillOptions{.directory = dir.path(), .max_record_bytes = 32}, BigCodec{});
  EXPECT_EQ(q.push(1), PushResult::Pushed);
  EXPECT_EQ(q.push(2), PushResult::Error);
  EXPECT_EQ(q.last_error(), spill_errc::record_too_large);
  EXPECT_EQ(dir.file_count(), 0u) << "a refused first record must not create a spill file";
}

// A Blocking consumer whose head slot is claimed but not yet written, while later items sit in the
// spill, must park rather than spin on the spill mutex: the spill is unreadable until the ring drains.
TEST(MpscQueueSpill, ConsumerWaitingBehindAnUnpublishedSlotDoesNotSpin) {
  ScratchDir dir;
  static std::atomic<bool> stall{false};
  static std::atomic<bool> in_move{false};
  struct SlowItem {
    long v = 0;
    SlowItem() = default;
    explicit SlowItem(long x) : v(x) {}
    SlowItem(SlowItem&& o) noexcept : v(o.v) {
      if (stall.exchange(false)) {
        in_move = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }
    SlowItem(const SlowItem&) = default;
    SlowItem& operator=(SlowItem&&) noexcept = default;
    SlowItem& operator=(const SlowItem&) = default;
  };
  struct SlowCodec {
    void encode(const SlowItem& i, std::vector<std::byte>& out) const { TrivialCodec<long>{}.encode(i.v, out); }
    std::optional<SlowItem> decode(std::span<const std::byte> in) const {
      auto v = TrivialCodec<long>{}.decode(in);
      if (!v) return std::nullopt;
      return SlowItem(*v);
    }
  };
  SpillingMpscQueue<SlowItem, Blocking> q(2, SpillOptions{.directory = dir.path()}, SlowCodec{});
  stall = true;
  std::thread slow_producer([&] { (void)q.push(SlowItem(0)); });  // claims position 0, then stalls mid-move
  while (!in_move) std::this_thread::yield();
  (void)q.push(SlowItem(1));
  (void)q.push(SlowItem(2));  // ring full behind the stalled slot: goes to the spill
  double cpu_ms = 0;
  SlowItem out;
  std::thread consumer([&] {
    timespec t0{}, t1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    ASSERT_TRUE(q.pop(out));
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    cpu_ms = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e3 + static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e6;
  });
  consumer.join();
  slow_producer.join();
  EXPECT_EQ(out.v, 0) << "FIFO: the stalled producer's item first";
  // Waiting ~300 ms: a parked consumer uses well under 100 ms of CPU; the spinning bug used ~all of it.
  EXPECT_LT(cpu_ms, 100.0);
}

TEST(MpscQueueSpill, TruncatedSpillFileReported) {
  ScratchDir dir;
  SpillingMpmcQueue<long> q(1, SpillOptions{.directory = dir.path()});
  for (long i = 0; i < 5; ++i) q.push(i);
  std::filesystem::resize_file(q.spill_path(), std::filesystem::file_size(q.spill_path()) - 3);
  EXPECT_EQ(drain(q), (std::vector<long>{0, 1, 2, 3}));
  EXPECT_EQ(q.last_error(), spill_errc::truncated_record);
}

TEST(MpscQueueSpill, DestroyedWithItemsRemovesFile) {
  ScratchDir dir;
  {
    SpillingMpscQueue<long> q(1, SpillOptions{.directory = dir.path()});
    for (long i = 0; i < 5; ++i) q.push(i);
    EXPECT_EQ(dir.file_count(), 1u);
  }
  EXPECT_EQ(dir.file_count(), 0u);
}

}  // namespace
}  // namespace ringkit::test
