// SPDX-License-Identifier: MIT
// A throwing spill codec must not lose items (issue 8, item 3), and a throw while constructing a
// spilling queue must not leak its slot array (item 4).
//
// Before the fix: the spill file's read offset advanced before decode() ran, so a throwing decode left
// its record neither delivered, nor pending (spill_pending() stayed 1 forever), nor discarded, with
// last_error() empty; and pop_batch() threw after moving items into `out`, which the caller then lost.
// Now: a throwing decode discards that one record (counted in spill_discarded_records(), reported in
// last_error() as spill_errc::codec_threw), the records after it are delivered, and pop_batch()
// returns what it moved. The constructor leaked the slot array when allocating the spill state threw.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "ringkit/spilling_queue.hpp"
#include "spill_test_support.hpp"

// ---- a global allocator that can be told to fail the Nth allocation, and counts live blocks ----------
namespace {
std::atomic<long> g_live{0};        // allocations not yet freed
std::atomic<long> g_fail_at{-1};    // allocation number (from arming) that throws; -1: never
std::atomic<long> g_count{0};       // allocations since arming

void* alloc(std::size_t n, std::size_t align) {
  if (g_fail_at.load() >= 0 && g_count.fetch_add(1) == g_fail_at.load()) throw std::bad_alloc();
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n)
                                               : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  g_live.fetch_add(1);
  return p;
}
void release(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(1);
  std::free(p);
}
}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) { return alloc(n, 0); }
void* operator new[](std::size_t n) { return alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
#pragma GCC diagnostic pop

namespace ringkit::test {
namespace {

// Decodes a long; throws on the value 13 (as a codec that meets bad_alloc or a bug would).
struct ThrowingCodec {
  void encode(const long& v, std::vector<std::byte>& out) const { TrivialCodec<long>{}.encode(v, out); }
  std::optional<long> decode(std::span<const std::byte> in) const {
    std::optional<long> v = TrivialCodec<long>{}.decode(in);
    if (v && *v == 13) throw std::runtime_error("codec exploded on 13");
    return v;
  }
};

template <class Q>
void throwing_decode_discards_one_record_and_reports_it() {
  ScratchDir dir;
  Q q(1, SpillOptions{.directory = dir.path()}, ThrowingCodec{});
  for (long i = 10; i < 17; ++i) ASSERT_NE(q.push(i), PushResult::Error);  // 10 in the ring, 11..16 spilled
  EXPECT_EQ(q.spill_pending(), 6u);
  std::vector<long> got;
  long v = 0;
  q.close();
  while (q.pop(v)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<long>{10, 11, 12, 14, 15, 16})) << "every record but the undecodable one arrives";
  EXPECT_EQ(q.spill_pending(), 0u) << "the record whose decode threw is no longer pending";
  EXPECT_EQ(q.spill_discarded_records(), 1u) << "it is counted as discarded";
  EXPECT_EQ(q.last_error(), spill_errc::codec_threw);
  EXPECT_NE(q.last_error_message().find("codec exploded on 13"), std::string::npos) << q.last_error_message();
  EXPECT_EQ(dir.file_count(), 0u);
}

TEST(SpillCodecThrow, MpscThrowingDecodeDiscardsOneRecordAndReportsIt) {
  throwing_decode_discards_one_record_and_reports_it<SpillingMpscQueue<long>>();
}
TEST(SpillCodecThrow, MpmcThrowingDecodeDiscardsOneRecordAndReportsIt) {
  throwing_decode_discards_one_record_and_reports_it<SpillingMpmcQueue<long>>();
}

TEST(SpillCodecThrow, PopBatchReturnsWhatItMovedWhenDecodeThrows) {
  ScratchDir dir;
  SpillingMpscQueue<long> q(1, SpillOptions{.directory = dir.path()}, ThrowingCodec{});
  for (long i : {10L, 11L, 12L, 13L, 14L}) ASSERT_NE(q.push(i), PushResult::Error);  // 10 ring, rest spilled
  long first = 0;
  ASSERT_TRUE(q.try_pop(first));
  EXPECT_EQ(first, 10);
  std::vector<long> out(4, -1);
  std::size_t n = 0;
  ASSERT_NO_THROW(n = q.pop_batch(out)) << "items already moved into out must not be lost to a throw";
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(out[0], 11);
  EXPECT_EQ(out[1], 12);
  EXPECT_EQ(q.last_error(), spill_errc::codec_threw);
  n = q.pop_batch(out);  // the queue goes on after the discarded record
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(out[0], 14);
  EXPECT_EQ(q.spill_pending(), 0u);
  EXPECT_EQ(q.spill_discarded_records(), 1u);
}

// Item 4: inject a bad_alloc at every allocation the constructor makes; each must throw cleanly and
// leave no block behind (the slot array used to leak when the spill state's allocation threw).
template <class Q>
void constructor_frees_everything_when_an_allocation_throws() {
  ScratchDir dir;
  const long live_before = g_live.load();
  g_count = 0;
  g_fail_at = 1'000'000;  // count without failing
  { Q q(8, SpillOptions{.directory = dir.path()}); }
  const long allocations = g_count.load();
  g_fail_at = -1;
  ASSERT_GT(allocations, 1);
  ASSERT_EQ(g_live.load(), live_before);
  for (long k = 0; k < allocations; ++k) {
    g_count = 0;
    g_fail_at = k;
    bool threw = false;
    try {
      Q q(8, SpillOptions{.directory = dir.path()});
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    g_fail_at = -1;
    EXPECT_TRUE(threw) << "allocation " << k << " of " << allocations;
    EXPECT_EQ(g_live.load(), live_before) << "allocation " << k << " of " << allocations << " threw and leaked";
  }
}

TEST(SpillConstruction, MpscFreesEverythingWhenAnAllocationThrows) {
  constructor_frees_everything_when_an_allocation_throws<SpillingMpscQueue<long>>();
}
TEST(SpillConstruction, MpmcFreesEverythingWhenAnAllocationThrows) {
  constructor_frees_everything_when_an_allocation_throws<SpillingMpmcQueue<long>>();
}

}  // namespace
}  // namespace ringkit::test
