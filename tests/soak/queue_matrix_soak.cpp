// The soak (issue 8, RELIABILITY.md row 5): every queue (SpscQueue, MpscQueue, MpmcQueue) x overflow policy
// (Block, DropNewest; DropOldest and SpillToDisk where the queue supports them) x wait strategy (BusySpin,
// Yielding, Sleeping, Blocking, Parking), each for its share of SOAK_MINUTES (default 10; fractions allowed).
//
// A cell runs rounds until its time is up. A round: a fresh queue (capacity 64, so it is full often and
// the policies act), P producers each pushing ROUND items tagged (producer, sequence), C consumers popping
// until the queue is closed and drained (close() after every producer returned). Checked per round:
//   exactly once  every sequence number a producer had accepted (Pushed / Spilled) is received once,
//                 except those the queue evicted (DropOldest: the count must equal stats().evicted);
//                 a sequence whose push returned Dropped is never received; nothing is received twice.
//   order         each consumer receives each producer's sequences strictly increasing; with one consumer
//                 and a lossless policy (Block, SpillToDisk) also with no gap.
// Prints per cell the hand-offs (items received by a consumer), drops, evictions and any loss, duplicate or
// reordering, then the total. Any error fails the test (exit status / GoogleTest failure).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
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
constexpr std::size_t kCapacity = 64;

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

struct Totals {
  std::uint64_t handoffs = 0, dropped = 0, evicted = 0, spilled = 0, lost = 0, duplicated = 0, reordered = 0,
                unexpected = 0, rounds = 0;
  Totals& operator+=(const Totals& o) {
    handoffs += o.handoffs, dropped += o.dropped, evicted += o.evicted, spilled += o.spilled, lost += o.lost;
    duplicated += o.duplicated, reordered += o.reordered, unexpected += o.unexpected, rounds += o.rounds;
    return *this;
  }
  [[nodiscard]] std::uint64_t errors() const { return lost + duplicated + reordered + unexpected; }
};

Totals g_all;

// One round on queue q; returns what it saw.
template <class Q>
Totals round_on(Q& q, unsigned producers, unsigned consumers, std::uint64_t per_producer, bool lossless) {
  const std::size_t words = (per_producer + 63) / 64;
  // received[p][w]: set by consumers (several for MPMC: fetch_or finds duplicates across consumers).
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>[]>> received;
  std::vector<std::vector<std::uint64_t>> accepted(producers, std::vector<std::uint64_t>(words, 0));
  std::vector<std::uint64_t> dropped(producers, 0), spilled(producers, 0);
  for (unsigned p = 0; p < producers; ++p) {
    received.emplace_back(new std::atomic<std::uint64_t>[words]);
    for (std::size_t w = 0; w < words; ++w) received[p][w].store(0, std::memory_order_relaxed);  // relaxed: before the threads start
  }
  std::vector<Totals> seen(consumers);
  ringkit::test::StartGate gate;
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      gate.wait();
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        const std::uint64_t tag = std::uint64_t{p} << kSeqBits | i;
        const PushResult r = q.push(tag);
        if (r == PushResult::Pushed || r == PushResult::Spilled) {
          accepted[p][i / 64] |= std::uint64_t{1} << (i % 64);
          if (r == PushResult::Spilled) ++spilled[p];
        } else if (r == PushResult::Dropped) {
          ++dropped[p];
        } else {
          ADD_FAILURE() << "push returned " << ringkit::to_string(r) << " on an open queue";
          return;
        }
      }
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      gate.wait();
      std::vector<std::uint64_t> next(producers, 0);  // the smallest sequence this consumer may see next
      Totals& t = seen[c];
      std::uint64_t tag = 0;
      while (q.pop(tag)) {
        const std::uint64_t p = tag >> kSeqBits, i = tag & ((std::uint64_t{1} << kSeqBits) - 1);
        if (p >= producers || i >= per_producer) {
          ++t.unexpected;
          continue;
        }
        ++t.handoffs;
        if (i < next[p] || (lossless && consumers == 1 && i != next[p])) ++t.reordered;
        next[p] = i + 1;
        const std::uint64_t bit = std::uint64_t{1} << (i % 64);
        // relaxed: only the bit's own value matters; the round's end is ordered by the joins.
        if (received[p][i / 64].fetch_or(bit, std::memory_order_relaxed) & bit) ++t.duplicated;
      }
    });
  }
  gate.open();
  for (unsigned p = 0; p < producers; ++p) threads[p].join();
  q.close();  // every push has returned: whatever they accepted is in the queue or the spill
  for (unsigned c = 0; c < consumers; ++c) threads[producers + c].join();

  Totals t;
  t.rounds = 1;
  for (const auto& s : seen) t += s;
  std::uint64_t missing = 0;
  for (unsigned p = 0; p < producers; ++p) {
    t.dropped += dropped[p];
    t.spilled += spilled[p];
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t got = received[p][w].load(std::memory_order_relaxed);  // relaxed: after the joins
      t.unexpected += static_cast<std::uint64_t>(__builtin_popcountll(got & ~accepted[p][w]));  // a Dropped item came out
      missing += static_cast<std::uint64_t>(__builtin_popcountll(accepted[p][w] & ~got));
    }
  }
  t.evicted = q.stats().evicted;
  // An accepted item that never came out must have been evicted (DropOldest), and every eviction is such an item.
  t.lost = missing > t.evicted ? missing - t.evicted : t.evicted - missing;
  return t;
}

struct Cell {
  std::string name;
  std::function<Totals(double seconds, std::uint64_t per_producer)> run;
};

template <class Q, class Make>
Cell make_cell(std::string name, unsigned producers, unsigned consumers, bool lossless, Make make) {
  return Cell{std::move(name), [=](double seconds, std::uint64_t per) {
                Totals total;
                const auto until = Clock::now() + std::chrono::duration<double>(seconds);
                do {
                  std::unique_ptr<Q> q = make();
                  total += round_on(*q, producers, consumers, per, lossless);
                  if (total.errors() != 0) break;
                } while (Clock::now() < until);
                return total;
              }};
}

// The spill directory for SpillToDisk cells: one per process, removed at exit.
const std::filesystem::path& spill_dir() {
  static ringkit::test::ScratchDir dir;
  return dir.path();
}

template <class Wait>
void add_cells(std::vector<Cell>& cells, const std::string& wait) {
  using ringkit::MpmcQueue;
  using ringkit::MpscQueue;
  using ringkit::SpscQueue;
  using T = std::uint64_t;
  for (Overflow o : {Overflow::Block, Overflow::DropNewest}) {
    cells.push_back(make_cell<SpscQueue<T, Wait>>("SpscQueue<" + wait + ">/" + std::string(to_string(o)), 1, 1,
                                                  o == Overflow::Block,
                                                  [o] { return std::make_unique<SpscQueue<T, Wait>>(kCapacity, o); }));
  }
  for (Overflow o : {Overflow::Block, Overflow::DropNewest, Overflow::DropOldest, Overflow::SpillToDisk}) {
    const bool lossless = o == Overflow::Block || o == Overflow::SpillToDisk;
    const std::string suffix = "<" + wait + ">/" + std::string(to_string(o));
    if (o == Overflow::SpillToDisk) {
      cells.push_back(make_cell<ringkit::SpillingMpscQueue<T, Wait>>("MpscQueue" + suffix, 2, 1, lossless, [] {
        return std::make_unique<ringkit::SpillingMpscQueue<T, Wait>>(kCapacity, ringkit::SpillOptions{.directory = spill_dir()});
      }));
      cells.push_back(make_cell<ringkit::SpillingMpmcQueue<T, Wait>>("MpmcQueue" + suffix, 2, 2, lossless, [] {
        return std::make_unique<ringkit::SpillingMpmcQueue<T, Wait>>(kCapacity, ringkit::SpillOptions{.directory = spill_dir()});
      }));
    } else {
      cells.push_back(make_cell<MpscQueue<T, Wait>>("MpscQueue" + suffix, 2, 1, lossless,
                                                    [o] { return std::make_unique<MpscQueue<T, Wait>>(kCapacity, o); }));
      cells.push_back(make_cell<MpmcQueue<T, Wait>>("MpmcQueue" + suffix, 2, 2, lossless,
                                                    [o] { return std::make_unique<MpmcQueue<T, Wait>>(kCapacity, o); }));
    }
  }
}

std::vector<Cell> all_cells() {
  std::vector<Cell> cells;
  add_cells<ringkit::BusySpin>(cells, "BusySpin");
  add_cells<ringkit::Yielding>(cells, "Yielding");
  add_cells<ringkit::Sleeping>(cells, "Sleeping");
  add_cells<ringkit::Blocking>(cells, "Blocking");
  add_cells<ringkit::Parking>(cells, "Parking");
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
  // cell's time bound is kept and the bitmaps stay small.
  const std::uint64_t per = ringkit::test::scaled(std::uint64_t{1} << 16, 16);
  // A hang (lost wake-up) fails the cell instead of stalling the soak.
  ringkit::test::Watchdog watchdog(cell.name, std::chrono::seconds(static_cast<long long>(seconds) + 300));
  const auto t0 = Clock::now();
  const Totals t = cell.run(seconds, per);
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("soak %-30s %12" PRIu64 " hand-offs in %6.1f s (%6" PRIu64 " rounds); dropped %" PRIu64
              ", evicted %" PRIu64 ", spilled %" PRIu64 "; lost %" PRIu64 ", duplicated %" PRIu64 ", reordered %" PRIu64
              ", unexpected %" PRIu64 "\n",
              cell.name.c_str(), t.handoffs, took, t.rounds, t.dropped, t.evicted, t.spilled, t.lost, t.duplicated,
              t.reordered, t.unexpected);
  std::fflush(stdout);
  g_all += t;
  EXPECT_EQ(t.lost, 0u) << cell.name << ": accepted items neither received nor evicted (or evictions of nothing)";
  EXPECT_EQ(t.duplicated, 0u) << cell.name;
  EXPECT_EQ(t.reordered, 0u) << cell.name << ": a producer's items out of order at a consumer";
  EXPECT_EQ(t.unexpected, 0u) << cell.name << ": a Dropped item or a foreign tag came out";
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
