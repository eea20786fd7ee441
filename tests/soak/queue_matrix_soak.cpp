// SPDX-License-Identifier: MIT
// The soak (issue 8, RELIABILITY.md row 5): every queue (SpscQueue, MpscQueue, MpmcQueue) x overflow policy
// (Block, DropNewest; DropOldest and SpillToDisk where the queue supports them) x wait strategy (BusySpin,
// Yielding, Sleeping, Blocking, Parking) x call style (single push()/pop(), or the batch calls a user
// would use: pop_batch_wait() always, push_batch_wait() under Block), each for its share of SOAK_MINUTES
// (default 10; fractions allowed).
//
// A cell runs rounds until its time is up. A round: a fresh queue (capacity 64 on even rounds, so it is
// full often and the policies act; 1024 on odd rounds), P producers each pushing ROUND items tagged
// (producer, sequence), C consumers popping until the queue is closed and drained (close() after every
// producer returned). In the drop cells every other round the producers back off (yield) when the ring is
// full, so items are handed off as well as dropped; in the other rounds they flood it.
//
// The checker costs O(1) per item and takes no lock and allocates nothing per item:
//   order         each consumer keeps, per producer, the next sequence it may see: a smaller one is a
//                 reordering (or a duplicate at that consumer); with one consumer and a lossless policy
//                 (Block, SpillToDisk) a larger one is a gap (a lost item).
//   exactly once  producers sum a 64-bit mix of every tag the queue accepted (Pushed / Spilled), and the
//                 count; consumers sum the same mix of every tag they received; under DropOldest the
//                 element type records the mix of every item the queue destroyed without moving it out
//                 (an eviction). At the end of the round: received == accepted - evicted, both as counts
//                 and as sums of mixes (a multiset hash: a lost item, a duplicate, a Dropped item that
//                 came out or an eviction the counter does not name changes it, except with probability
//                 ~2^-64), and the queue's counters agree exactly (stats(): dropped == the Dropped results,
//                 evicted == the evictions seen, pushed + spilled == accepted, popped == received).
//   no hang       a watchdog per cell.
// Prints per cell the hand-offs (items received by a consumer), drops, evictions and any loss, duplicate,
// reordering or counter mismatch, then the total. Any error fails the test (GoogleTest failure).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spilling_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"
#include "scratch_dir.hpp"
#include "stress_support.hpp"
#include "test_scale.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ringkit::Overflow;
using ringkit::PushResult;

constexpr unsigned kSeqBits = 48;
constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;
constexpr unsigned kMaxProducers = 2;
constexpr std::size_t kSmallCapacity = 64;
constexpr std::size_t kLargeCapacity = 1024;
constexpr std::size_t kMaxBatch = 64;

double soak_minutes() {
  const char* s = std::getenv("SOAK_MINUTES");
  if (s == nullptr || *s == '\0') return 10.0;
  char* end = nullptr;
  const double m = std::strtod(s, &end);
  if (end == s || *end != '\0' || !(m > 0)) {
    std::fprintf(stderr, "SOAK_MINUTES must be a positive number of minutes, got '%s'\n", s);
    std::exit(2);
  }
  return m;
}

// splitmix64's finaliser: a bijection with good avalanche, so sums of mixes act as a multiset hash.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Where a Tracked item destroyed without being moved from (an eviction) is recorded: set in the producer
// threads of a round (only a producer's push() evicts), null elsewhere.
struct EvictLog {
  std::uint64_t count = 0, hash = 0;
};
thread_local EvictLog* t_evictions = nullptr;

// The DropOldest cells' element: a tag whose moved-from state is marked, so its destructor can tell an
// item that left the queue by a move (pop) from one the queue destroyed in place (evicted).
struct Tracked {
  static constexpr std::uint64_t kMoved = ~std::uint64_t{0};
  std::uint64_t tag = kMoved;
  Tracked() noexcept = default;
  explicit Tracked(std::uint64_t t) noexcept : tag(t) {}
  Tracked(Tracked&& o) noexcept : tag(std::exchange(o.tag, kMoved)) {}
  Tracked& operator=(Tracked&& o) noexcept {
    tag = std::exchange(o.tag, kMoved);
    return *this;
  }
  ~Tracked() {
    if (tag != kMoved && t_evictions != nullptr) {
      ++t_evictions->count;
      t_evictions->hash += mix(tag);
    }
  }
};

inline std::uint64_t tag_of(std::uint64_t v) noexcept { return v; }
inline std::uint64_t tag_of(const Tracked& v) noexcept { return v.tag; }

struct Totals {
  std::uint64_t handoffs = 0, dropped = 0, evicted = 0, spilled = 0, lost = 0, duplicated = 0, reordered = 0,
                unexpected = 0, mismatched = 0, counters = 0, rounds = 0;
  Totals& operator+=(const Totals& o) {
    handoffs += o.handoffs, dropped += o.dropped, evicted += o.evicted, spilled += o.spilled, lost += o.lost;
    duplicated += o.duplicated, reordered += o.reordered, unexpected += o.unexpected, mismatched += o.mismatched;
    counters += o.counters, rounds += o.rounds;
    return *this;
  }
  [[nodiscard]] std::uint64_t errors() const {
    return lost + duplicated + reordered + unexpected + mismatched + counters;
  }
};

Totals g_all;

// Per-thread results, each on its own cache lines (no false sharing between the round's threads).
struct alignas(128) ProducerLog {
  std::uint64_t accepted = 0, accepted_hash = 0, dropped = 0, spilled = 0, bad_results = 0;
  EvictLog evictions;
};

struct alignas(128) ConsumerLog {
  std::uint64_t received = 0, hash = 0, reordered = 0, gaps = 0, unexpected = 0;
  std::array<std::uint64_t, kMaxProducers> next{};  // the smallest sequence this consumer may see next
  unsigned producers = 0;
  std::uint64_t per_producer = 0;
  bool exact = false;  // one consumer, lossless: each producer's sequences must come with no gap

  void see(std::uint64_t tag) noexcept {
    const std::uint64_t p = tag >> kSeqBits, i = tag & kSeqMask;
    if (p >= producers || i >= per_producer) {
      ++unexpected;
      return;
    }
    ++received;
    hash += mix(tag);
    if (i < next[p]) {
      ++reordered;
    } else if (exact && i != next[p]) {
      ++gaps;
    }
    next[p] = i + 1;
  }
};

enum class Style : std::uint8_t { Single, Batch };

// Batch sizes 1..kMaxBatch from a per-thread xorshift, so runs start and end everywhere in the ring.
struct BatchSizes {
  std::uint32_t s;
  explicit BatchSizes(std::uint32_t seed) : s(seed | 1) {}
  std::size_t next() noexcept {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    return 1 + s % kMaxBatch;
  }
};

// The end of a round: what the producers had accepted, less what the queue evicted, must be exactly what
// the consumers received (count and multiset hash), and the queue's counters must agree with both.
Totals settle(std::span<const ProducerLog> plog, std::span<const ConsumerLog> clog, const ringkit::QueueStats& s) {
  Totals t;
  t.rounds = 1;
  std::uint64_t accepted = 0, accepted_hash = 0, evicted = 0, evicted_hash = 0, received = 0, received_hash = 0,
                foreign = 0;
  for (const ProducerLog& p : plog) {
    accepted += p.accepted;
    accepted_hash += p.accepted_hash;
    evicted += p.evictions.count;
    evicted_hash += p.evictions.hash;
    t.dropped += p.dropped;
    t.spilled += p.spilled;
    t.unexpected += p.bad_results;
  }
  for (const ConsumerLog& c : clog) {
    received += c.received;
    received_hash += c.hash;
    t.reordered += c.reordered;
    t.lost += c.gaps;
    foreign += c.unexpected;
  }
  t.unexpected += foreign;
  t.handoffs = received;
  t.evicted = evicted;
  // Exactly once: what came out is what was accepted less what was evicted, as a count and as a multiset.
  const std::uint64_t expected = accepted - evicted;
  if (received < expected) t.lost += expected - received;
  if (received > expected) t.duplicated += received - expected;
  if (received == expected && received_hash != accepted_hash - evicted_hash) ++t.mismatched;
  // The queue's own counters name every drop and eviction, and agree with what the threads saw.
  for (const bool wrong : {s.dropped != t.dropped, s.evicted != evicted, s.spilled != t.spilled,
                           s.pushed + s.spilled != accepted, s.popped != received + foreign}) {
    t.counters += wrong ? 1 : 0;
  }
  return t;
}

template <class Q>
void produce(Q& q, unsigned p, std::uint64_t per_producer, Style style, bool back_off, ProducerLog& log) {
  using T = typename Q::value_type;
  t_evictions = &log.evictions;
  const std::uint64_t base = std::uint64_t{p} << kSeqBits;
  if (style == Style::Batch && q.overflow() == Overflow::Block) {
    std::array<T, kMaxBatch> buf{};
    BatchSizes sizes(0x9e3779b9u + p);
    for (std::uint64_t i = 0; i < per_producer;) {
      const std::size_t b = static_cast<std::size_t>(std::min<std::uint64_t>(sizes.next(), per_producer - i));
      for (std::size_t k = 0; k < b; ++k) buf[k] = T(base | (i + k));
      for (std::size_t off = 0; off < b;) {
        const std::size_t n = q.push_batch_wait(std::span<T>(buf.data() + off, b - off));
        if (n == 0) {  // closed: nobody closes before the producers are done
          ++log.bad_results;
          t_evictions = nullptr;
          return;
        }
        off += n;
      }
      for (std::size_t k = 0; k < b; ++k) log.accepted_hash += mix(base | (i + k));
      log.accepted += b;
      i += b;
    }
  } else {
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      const std::uint64_t tag = base | i;
      T item(tag);
      const PushResult r = q.push(std::move(item));
      if (r == PushResult::Pushed || r == PushResult::Spilled) {
        ++log.accepted;
        log.accepted_hash += mix(tag);
        if (r == PushResult::Spilled) ++log.spilled;
      } else if (r == PushResult::Dropped) {
        ++log.dropped;
        if (back_off) std::this_thread::yield();
        if constexpr (std::is_same_v<T, Tracked>) item.tag = Tracked::kMoved;  // not an eviction
      } else {
        ++log.bad_results;  // Closed / Error / TimedOut on an open queue
        if constexpr (std::is_same_v<T, Tracked>) item.tag = Tracked::kMoved;
        break;
      }
      if (back_off && r == PushResult::Pushed && q.size() >= q.capacity()) std::this_thread::yield();
    }
  }
  t_evictions = nullptr;
}

template <class Q>
void consume(Q& q, Style style, ConsumerLog& log) {
  using T = typename Q::value_type;
  if (style == Style::Batch) {
    std::array<T, kMaxBatch> buf{};
    BatchSizes sizes(0x85ebca6bu + static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&log) >> 7));
    for (;;) {
      const std::size_t n = q.pop_batch_wait(std::span<T>(buf.data(), sizes.next()));
      if (n == 0) break;
      for (std::size_t k = 0; k < n; ++k) log.see(tag_of(buf[k]));
    }
  } else {
    T item{};
    while (q.pop(item)) log.see(tag_of(item));
  }
}

// One round on queue q; returns what it saw.
template <class Q>
Totals round_on(Q& q, unsigned producers, unsigned consumers, std::uint64_t per_producer, bool lossless, Style style,
                bool back_off) {
  std::array<ProducerLog, kMaxProducers> plog{};
  std::array<ConsumerLog, kMaxProducers> clog{};
  ringkit::test::StartGate gate;
  std::array<std::thread, 2 * kMaxProducers> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads[p] = std::thread([&, p] {
      gate.wait();
      produce(q, p, per_producer, style, back_off, plog[p]);
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    ConsumerLog& log = clog[c];
    log.producers = producers;
    log.per_producer = per_producer;
    log.exact = lossless && consumers == 1;
    threads[producers + c] = std::thread([&] {
      gate.wait();
      consume(q, style, log);
    });
  }
  gate.open();
  for (unsigned p = 0; p < producers; ++p) threads[p].join();
  q.close();  // every push has returned: whatever they accepted is in the queue or the spill
  for (unsigned c = 0; c < consumers; ++c) threads[producers + c].join();

  return settle(std::span<const ProducerLog>(plog.data(), producers), std::span<const ConsumerLog>(clog.data(), consumers),
                q.stats());
}

// The checker itself, on planted faults (each must be caught, and a clean round must pass): a cheap
// checker is only worth its speed if it still sees what the bitmap of the old soak saw.
struct Planted {
  std::array<ProducerLog, 2> plog{};
  std::array<ConsumerLog, 2> clog{};
  ringkit::QueueStats stats;
  unsigned consumers = 1;
  Planted(unsigned c, bool exact) : consumers(c) {
    for (ConsumerLog& l : clog) l.producers = 2, l.per_producer = 8, l.exact = exact;
  }
  void accept(unsigned p, std::uint64_t i) {
    ++plog[p].accepted;
    plog[p].accepted_hash += mix(std::uint64_t{p} << kSeqBits | i);
    ++stats.pushed;
  }
  void receive(unsigned c, unsigned p, std::uint64_t i) {
    clog[c].see(std::uint64_t{p} << kSeqBits | i);
    ++stats.popped;
  }
  Totals settle_now() const {
    return settle(std::span<const ProducerLog>(plog.data(), 2), std::span<const ConsumerLog>(clog.data(), consumers),
                  stats);
  }
};

TEST(SoakChecker, PassesACleanRound) {
  Planted r(2, false);
  for (std::uint64_t i = 0; i < 8; ++i) r.accept(0, i), r.accept(1, i), r.receive(i % 2, 0, i), r.receive(1 - i % 2, 1, i);
  EXPECT_EQ(r.settle_now().errors(), 0u);
}

TEST(SoakChecker, CatchesAGapWithOneLosslessConsumer) {
  Planted r(1, true);
  for (std::uint64_t i = 0; i < 3; ++i) r.accept(0, i);
  r.receive(0, 0, 0), r.receive(0, 0, 2);
  const Totals t = r.settle_now();
  EXPECT_EQ(t.lost, 2u);  // the gap, and the count
}

TEST(SoakChecker, CatchesAReorderingAtAConsumer) {
  Planted r(1, false);
  r.accept(0, 0), r.accept(0, 1);
  r.receive(0, 0, 1), r.receive(0, 0, 0);
  EXPECT_EQ(r.settle_now().reordered, 1u);
}

TEST(SoakChecker, CatchesADuplicateAcrossConsumersThatHidesALoss) {
  // Counts agree (4 accepted, 4 received): only the multiset hash sees that 1 came twice and 2 never.
  Planted r(2, false);
  for (std::uint64_t i = 0; i < 4; ++i) r.accept(0, i);
  r.receive(0, 0, 0), r.receive(0, 0, 1), r.receive(1, 0, 1), r.receive(1, 0, 3);
  const Totals t = r.settle_now();
  EXPECT_EQ(t.lost + t.duplicated + t.reordered, 0u);
  EXPECT_EQ(t.mismatched, 1u);
}

TEST(SoakChecker, CatchesADroppedItemThatCameOut) {
  Planted r(1, false);
  r.accept(0, 0);
  ++r.plog[0].dropped, ++r.stats.dropped;  // 1 was dropped ...
  r.receive(0, 0, 1);                      // ... and came out, instead of 0
  EXPECT_EQ(r.settle_now().mismatched, 1u);
}

TEST(SoakChecker, CatchesAnEvictionTheCounterDoesNotName) {
  Planted r(1, false);
  r.accept(0, 0), r.accept(0, 1);
  r.receive(0, 0, 1);
  {
    EvictLog log;
    t_evictions = &log;
    { Tracked evicted(std::uint64_t{0}); }                    // destroyed in place: an eviction
    { Tracked a(std::uint64_t{1}); Tracked b(std::move(a)); b.tag = Tracked::kMoved; }  // moved out: none
    t_evictions = nullptr;
    r.plog[0].evictions = log;
  }
  EXPECT_EQ(r.plog[0].evictions.count, 1u);
  EXPECT_EQ(r.settle_now().counters, 1u);  // stats().evicted is still 0
  r.stats.evicted = 1;
  EXPECT_EQ(r.settle_now().errors(), 0u);
  r.plog[0].evictions.hash += 1;  // the eviction named the wrong item
  EXPECT_EQ(r.settle_now().mismatched, 1u);
}

TEST(SoakChecker, CatchesAForeignTagAndCountersThatDisagree) {
  Planted r(1, false);
  r.accept(0, 0);
  r.receive(0, 0, 0);
  r.clog[0].see(std::uint64_t{7} << kSeqBits);  // producer 7 does not exist
  ++r.stats.popped;
  EXPECT_EQ(r.settle_now().unexpected, 1u);
  EXPECT_EQ(r.settle_now().counters, 0u);
  ++r.stats.dropped;  // a drop nobody saw
  EXPECT_EQ(r.settle_now().counters, 1u);
}

struct Cell {
  std::string name;
  std::function<Totals(double seconds, std::uint64_t per_producer)> run;
};

template <class Q, class Make>
Cell make_cell(std::string name, unsigned producers, unsigned consumers, bool lossless, Style style, Make make) {
  return Cell{std::move(name), [=](double seconds, std::uint64_t per) {
                Totals total;
                const auto until = Clock::now() + std::chrono::duration<double>(seconds);
                for (std::uint64_t round = 0;; ++round) {
                  std::unique_ptr<Q> q = make((round & 1) == 0 ? kSmallCapacity : kLargeCapacity);
                  const bool back_off = !lossless && (round & 2) != 0;
                  total += round_on(*q, producers, consumers, per, lossless, style, back_off);
                  if (total.errors() != 0 || Clock::now() >= until) break;
                }
                return total;
              }};
}

// The spill directory for SpillToDisk cells: one per process, removed at exit.
const std::filesystem::path& spill_dir() {
  static ringkit::test::ScratchDir dir;
  return dir.path();
}

template <class Wait>
void add_cells(std::vector<Cell>& cells, const std::string& wait, Style style) {
  using ringkit::MpmcQueue;
  using ringkit::MpscQueue;
  using ringkit::SpscQueue;
  using T = std::uint64_t;
  const std::string suffix_style = style == Style::Batch ? "/batch" : "";
  for (Overflow o : {Overflow::Block, Overflow::DropNewest}) {
    cells.push_back(make_cell<SpscQueue<T, Wait>>(
        "SpscQueue<" + wait + ">/" + std::string(to_string(o)) + suffix_style, 1, 1, o == Overflow::Block, style,
        [o](std::size_t cap) { return std::make_unique<SpscQueue<T, Wait>>(cap, o); }));
  }
  for (Overflow o : {Overflow::Block, Overflow::DropNewest, Overflow::DropOldest, Overflow::SpillToDisk}) {
    const bool lossless = o == Overflow::Block || o == Overflow::SpillToDisk;
    const std::string suffix = "<" + wait + ">/" + std::string(to_string(o)) + suffix_style;
    if (o == Overflow::SpillToDisk) {
      cells.push_back(make_cell<ringkit::SpillingMpscQueue<T, Wait>>("MpscQueue" + suffix, 2, 1, lossless, style, [](std::size_t cap) {
        return std::make_unique<ringkit::SpillingMpscQueue<T, Wait>>(cap, ringkit::SpillOptions{.directory = spill_dir()});
      }));
      cells.push_back(make_cell<ringkit::SpillingMpmcQueue<T, Wait>>("MpmcQueue" + suffix, 2, 2, lossless, style, [](std::size_t cap) {
        return std::make_unique<ringkit::SpillingMpmcQueue<T, Wait>>(cap, ringkit::SpillOptions{.directory = spill_dir()});
      }));
    } else if (o == Overflow::DropOldest) {  // Tracked: the evicted items are named, not only counted
      cells.push_back(make_cell<MpscQueue<Tracked, Wait>>("MpscQueue" + suffix, 2, 1, lossless, style,
                                                          [o](std::size_t cap) {
                                                            return std::make_unique<MpscQueue<Tracked, Wait>>(cap, o);
                                                          }));
      cells.push_back(make_cell<MpmcQueue<Tracked, Wait>>("MpmcQueue" + suffix, 2, 2, lossless, style,
                                                          [o](std::size_t cap) {
                                                            return std::make_unique<MpmcQueue<Tracked, Wait>>(cap, o);
                                                          }));
    } else {
      cells.push_back(make_cell<MpscQueue<T, Wait>>("MpscQueue" + suffix, 2, 1, lossless, style, [o](std::size_t cap) {
        return std::make_unique<MpscQueue<T, Wait>>(cap, o);
      }));
      cells.push_back(make_cell<MpmcQueue<T, Wait>>("MpmcQueue" + suffix, 2, 2, lossless, style, [o](std::size_t cap) {
        return std::make_unique<MpmcQueue<T, Wait>>(cap, o);
      }));
    }
  }
}

std::vector<Cell> all_cells() {
  std::vector<Cell> cells;
  for (Style style : {Style::Single, Style::Batch}) {
    add_cells<ringkit::BusySpin>(cells, "BusySpin", style);
    add_cells<ringkit::Yielding>(cells, "Yielding", style);
    add_cells<ringkit::Sleeping>(cells, "Sleeping", style);
    add_cells<ringkit::Blocking>(cells, "Blocking", style);
    add_cells<ringkit::Parking>(cells, "Parking", style);
  }
  return cells;
}

const std::vector<Cell>& cells() {
  static const std::vector<Cell> c = all_cells();
  return c;
}

class QueueMatrixSoak : public ::testing::TestWithParam<std::size_t> {};

TEST_P(QueueMatrixSoak, EveryAcceptedItemArrivesExactlyOnceInProducerOrder) {
  const Cell& cell = cells()[GetParam()];
  const double seconds = soak_minutes() * 60.0 / static_cast<double>(cells().size());
  // Rounds of 2^16 items per producer (2^12 under a sanitizer): a round is over in milliseconds, so the
  // cell's time bound is kept.
  const std::uint64_t per = ringkit::test::scaled(std::uint64_t{1} << 16, 16);
  // A hang (lost wake-up) fails the cell instead of stalling the soak.
  ringkit::test::Watchdog watchdog(cell.name, std::chrono::seconds(static_cast<long long>(seconds) + 300));
  const auto t0 = Clock::now();
  const Totals t = cell.run(seconds, per);
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("soak %-37s %12" PRIu64 " hand-offs in %6.1f s (%6" PRIu64 " rounds); dropped %" PRIu64 ", evicted %" PRIu64
              ", spilled %" PRIu64 "; lost %" PRIu64 ", duplicated %" PRIu64 ", reordered %" PRIu64 ", unexpected %" PRIu64
              ", mismatched %" PRIu64 ", counters %" PRIu64 "\n",
              cell.name.c_str(), t.handoffs, took, t.rounds, t.dropped, t.evicted, t.spilled, t.lost, t.duplicated,
              t.reordered, t.unexpected, t.mismatched, t.counters);
  std::fflush(stdout);
  g_all += t;
  EXPECT_EQ(t.lost, 0u) << cell.name << ": accepted items neither received nor evicted";
  EXPECT_EQ(t.duplicated, 0u) << cell.name;
  EXPECT_EQ(t.reordered, 0u) << cell.name << ": a producer's items out of order at a consumer";
  EXPECT_EQ(t.unexpected, 0u) << cell.name << ": a foreign tag came out, or a push failed on an open queue";
  EXPECT_EQ(t.mismatched, 0u) << cell.name << ": what came out is not what was accepted less what was evicted";
  EXPECT_EQ(t.counters, 0u) << cell.name << ": stats() disagrees with the drops, evictions, spills or hand-offs seen";
  EXPECT_GT(t.handoffs, 0u) << cell.name;
}

INSTANTIATE_TEST_SUITE_P(AllQueuesPoliciesStrategies, QueueMatrixSoak, ::testing::Range<std::size_t>(0, cells().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           std::string n = cells()[param_info.param].name;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

class TotalsPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    std::printf("soak total: %" PRIu64 " hand-offs in %" PRIu64 " rounds over %zu cells (SOAK_MINUTES=%.3g%s); "
                "dropped %" PRIu64 ", evicted %" PRIu64 ", spilled %" PRIu64 "; errors %" PRIu64 "\n",
                g_all.handoffs, g_all.rounds, cells().size(), soak_minutes(),
                ringkit::test::under_sanitizer() ? ", sanitizer build" : "", g_all.dropped, g_all.evicted, g_all.spilled,
                g_all.errors());
  }
};

const auto* const g_printer = ::testing::AddGlobalTestEnvironment(new TotalsPrinter);

}  // namespace
