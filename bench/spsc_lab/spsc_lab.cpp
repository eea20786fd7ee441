// SPDX-License-Identifier: MIT
// spsc_lab: a lab driver for issue 8's open SPSC question (why moodycamel::ReaderWriterQueue beats
// ringkit::SpscQueue on ringbench's SPSC scenario). NOT part of `make test`: it is built by the release
// preset (with the benchmarks) and run by hand; docs/queue-fixes.md section 7 has its results.
//
// What it measures: several SPSC designs through one identical two-thread harness in one process.
//   * producer pinned to CPU 0, consumer to CPU 1 (--reverse swaps them); N items (--items, default 50 M),
//     8-byte items carrying their sequence number, which the consumer checks (abort on a mismatch);
//   * try-style calls are retried like ringbench's retry() (bench/ringbench/include/ringbench/backoff.hpp:
//     spin 128 times with PAUSE, then yield), counting every failed try;
//   * the variants run round-robin for R rounds (--rounds, default 7; each round starts at a different
//     variant), so every variant sees the same VM state; before and after each variant's run a core-to-core
//     ping-pong probe takes the median round trip of 3000 (batches of 10), so runs can be split by it. The
//     2-vCPU KVM guest this was written on moves between (at least) three placements: probe ~55 ns ("near"),
//     ~120 ns ("mid") and ~450 ns ("far"). A run is "fast" if both probes are < --fast-ns (default 300,
//     ringbench's split), and within that "near" if both are < --near-ns (default 90), "mid" if both are
//     >= it; a run whose probes disagree counts only in "fast"/"all";
//   * printed per variant and class: median/min/max M items/s, its ratio to rk_push's and rwq's medians
//     in the same class, and the medians per item of:
//     failed pushes, failed pops, index reloads (producer's loads of the consumer's index, consumer's
//     loads of the producer's; lab rings only) and the mean fill (items queued, sampled by the consumer
//     every 4096 pops, as a share of the capacity).
//
// Variants (--variants a,b,...; default all):
//   rk_push   ringkit::SpscQueue<uint64_t, Yielding> push()/pop() (as ringbench drives it; no fail counts)
//   rk_try    the same queue through try_push/try_pop with the retry
//   rwq       moodycamel::ReaderWriterQueue<uint64_t>(capacity) try_enqueue/try_dequeue with the retry
//   lamport   (c) a bare Lamport ring, cached opposite indices, exact capacity, no close protocol: the floor
//             of SpscQueue's data path
//   lamp+ann  lamport + one store per push to a producer-owned line of its own (SpscQueue's P1 announcement)
//   lamp+win  lamport + the per-push cost of SpscQueue's close window (one store to an own line, a compiler
//             fence, a load of a read-mostly flag): separates SpscQueue's extras from its data path
//   block     (d) lamport + RWQ's block hand-off in a contiguous ring of capacity + B slots: the producer
//             enters a block of B slots only once the consumer has left the block's previous contents
//             entirely; the consumer publishes its position once per block, nothing else
//   lazy      (e) lamport + the consumer publishing its index only every B pops or when it finds the ring
//             empty (Quill's consumer side)
//   slot      (f) a per-slot turn ring (FastForward style): no shared index, each slot says whose turn it is
//   slot_sp   slot with the turns in an array of their own (values contiguous)
//   slot_spi  slot_sp + per-operation index stores on each side's own line (what SpscQueue would keep)
//   slot_spw  slot_spi + the close window's per-push cost (as lamp+win): SpscQueue with per-slot turns
//   slot_spwh slot_spw through a push() that, after a failed try, waits (bounded) for B free slots, as
//             SpscQueue's push() does for capacity/8 (no fail counts: the wait is inside push())
//   hyb       (g) one-way turns: the producer marks each slot it fills, the consumer decides "empty" by that
//             mark (never polls write_) and frees slots through read_ as lamport does; exact at capacity
//   hyb_w     hyb + the close window's per-push cost: SpscQueue with one-way turns
//   aq        atomic_queue::OptimistAtomicQueueB2<uint64_t, SPSC> push()/pop() (Debian headers; reference)
//   rk_batch  ringkit::SpscQueue push_batch()/pop_batch() of up to 64 (ringbench's batch cell: the producer
//             retries the rest of a partly pushed batch; the consumer checks every item)
//   boost_batch  boost::lockfree::spsc_queue<uint64_t>(capacity) push(ptr, n)/pop(ptr, n), the same way
//             (ringbench's best batch peer; docs/queue-fixes.md section 9)
//
// The lab rings are written for this measurement only (no close(), no wait strategy, uint64_t items).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/spsc_queue.hpp>
#include <readerwriterqueue/readerwriterqueue.h>

#include <ringbench/backoff.hpp>
#include <ringkit/cpu.hpp>
#include <ringkit/spsc_queue.hpp>

namespace {

constexpr std::size_t kLine = 128;  // ringkit's false-sharing range (two 64-byte lines, adjacent prefetch)

// ---- slot storage for the lab rings: 128-byte aligned, one dead line either side ---------------------
template <class Slot>
class Slots {
 public:
  explicit Slots(std::size_t n)
      : n_(n), raw_(static_cast<Slot*>(::operator new(sizeof(Slot) * (n + 2 * kPad), std::align_val_t{kLine}))) {
    static_assert(std::is_trivially_destructible_v<Slot>);
    std::uninitialized_value_construct_n(raw_, n + 2 * kPad);
  }
  ~Slots() { ::operator delete(raw_, std::align_val_t{kLine}); }
  Slots(const Slots&) = delete;
  Slots& operator=(const Slots&) = delete;
  Slot* data() const noexcept { return raw_ + kPad; }
  std::size_t size() const noexcept { return n_; }

 private:
  static constexpr std::size_t kPad = (kLine + sizeof(Slot) - 1) / sizeof(Slot);
  std::size_t n_;
  Slot* raw_;
};

// ---- (c) Lamport ring with cached opposite indices (rigtorp's layout) ------------------------------
// kExtras adds what SpscQueue's close protocol costs a push on its fast path (spsc_queue.hpp, P1-P3):
// 1: a store of the announced sequence to a producer-owned line of its own (P1) only; 2: that, a
// compiler-only fence (P2, the light side of the asymmetric pair) and a load of a read-mostly closed flag
// (P3, never set here). Nothing reads the announcement: it measures the cost, it implements no close().
template <int kExtras>
class LamportRing {
 public:
  static constexpr const char* kName = kExtras == 0 ? "lamport" : kExtras == 1 ? "lamp+ann" : "lamp+win";
  LamportRing(std::size_t capacity, std::size_t) : slots_(capacity), buf_(slots_.data()), cap_(capacity), mask_(capacity - 1) {
    limit_ = cap_;
  }

  bool try_push(std::uint64_t v) noexcept {
    const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
    if (w == limit_) {
      ++p_reloads_;
      // acquire: pairs with the release of read_ in try_pop(); the consumer's slot reads happen-before our overwrite
      limit_ = read_.load(std::memory_order_acquire) + cap_;
      if (w == limit_) return false;
    }
    if constexpr (kExtras >= 1) {
      announced_.store(w + 1, std::memory_order_relaxed);  // relaxed: as SpscQueue's P1 (no reader in the lab)
    }
    if constexpr (kExtras >= 2) {
      std::atomic_signal_fence(std::memory_order_seq_cst);  // compiler-only: SpscQueue's P2 with membarrier on
      if (closed_.load(std::memory_order_relaxed)) [[unlikely]] return false;  // relaxed: as P3; never set here
    }
    buf_[w & mask_] = v;
    write_.store(w + 1, std::memory_order_release);  // release: publishes the slot; pairs with the acquire in try_pop()
    return true;
  }

  bool try_pop(std::uint64_t& out) noexcept {
    const std::uint64_t r = read_.load(std::memory_order_relaxed);  // relaxed: own index
    if (r == wcache_) {
      ++c_reloads_;
      wcache_ = write_.load(std::memory_order_acquire);  // acquire: pairs with the release in try_push()
      if (r == wcache_) return false;
    }
    out = buf_[r & mask_];
    read_.store(r + 1, std::memory_order_release);  // release: frees the slot; pairs with the acquire in try_push()
    return true;
  }

  // Consumer only: items queued as far as it knows (its cached copy of write_).
  std::size_t fill() const noexcept {
    return static_cast<std::size_t>(wcache_ - read_.load(std::memory_order_relaxed));  // relaxed: own index
  }
  std::uint64_t producer_reloads() const noexcept { return p_reloads_; }
  std::uint64_t consumer_reloads() const noexcept { return c_reloads_; }

 private:
  alignas(kLine) std::atomic<std::uint64_t> write_{0};  // producer-written
  std::uint64_t limit_ = 0;                             // read_ as last loaded + capacity
  std::uint64_t p_reloads_ = 0;
  alignas(kLine) std::atomic<std::uint64_t> announced_{0};  // producer-written (kExtras >= 1 only)
  alignas(kLine) std::atomic<std::uint64_t> read_{0};  // consumer-written
  std::uint64_t wcache_ = 0;
  std::uint64_t c_reloads_ = 0;
  alignas(kLine) Slots<std::uint64_t> slots_;  // read-mostly from here on
  std::uint64_t* const buf_;
  const std::uint64_t cap_;
  const std::uint64_t mask_;
  std::atomic<bool> closed_{false};
};

// ---- (d) block hand-off in a contiguous ring -------------------------------------------------------
// capacity + B slots in blocks of B (B divides capacity). The consumer publishes `released_` = its
// position each time it leaves a block (a multiple of B), and at no other time. Sequence w lives in slot
// w mod S (S = capacity + B), where sequence w - S lived before; that block's old contents are gone once
// released_ >= floor_B(w) - S + B = floor_B(w) - capacity. So after loading released_ = L the producer may
// write every w < L + capacity + B, and it checks only when it reaches that limit (at a block boundary).
// try_push therefore succeeds whenever fewer than `capacity` items are queued (queued = w - r < capacity
// gives r > w - capacity, and since w - capacity is a multiple of B, L = floor_B(r) >= w - capacity), and
// may succeed with up to capacity + B - 1 queued: like RWQ, capacity is a lower bound, not exact.
class BlockRing {
 public:
  static constexpr const char* kName = "block";
  BlockRing(std::size_t capacity, std::size_t block)
      : slots_(capacity + block), buf_(slots_.data()), size_(capacity + block), block_mask_(block - 1) {
    if (block == 0 || (block & (block - 1)) != 0 || capacity % block != 0) {
      std::fprintf(stderr, "block: B must be a power of two dividing the capacity\n");
      std::exit(2);
    }
    limit_ = size_;
  }

  bool try_push(std::uint64_t v) noexcept {
    if (w_ == limit_) {
      ++p_reloads_;
      // acquire: pairs with the release of released_ in try_pop(); the consumer's reads of the block happen-before our overwrites
      limit_ = released_.load(std::memory_order_acquire) + size_;
      if (w_ == limit_) return false;
    }
    buf_[wpos_] = v;
    if (++wpos_ == size_) wpos_ = 0;
    ++w_;
    write_.store(w_, std::memory_order_release);  // release: publishes the slot; pairs with the acquire in try_pop()
    return true;
  }

  bool try_pop(std::uint64_t& out) noexcept {
    if (r_ == wcache_) {
      ++c_reloads_;
      wcache_ = write_.load(std::memory_order_acquire);  // acquire: pairs with the release in try_push()
      if (r_ == wcache_) return false;
    }
    out = buf_[rpos_];
    if (++rpos_ == size_) rpos_ = 0;
    ++r_;
    if ((r_ & block_mask_) == 0) {
      released_.store(r_, std::memory_order_release);  // release: hands the block back; pairs with the acquire in try_push()
    }
    return true;
  }

  std::size_t fill() const noexcept { return static_cast<std::size_t>(wcache_ - r_); }  // consumer only
  std::uint64_t producer_reloads() const noexcept { return p_reloads_; }
  std::uint64_t consumer_reloads() const noexcept { return c_reloads_; }

 private:
  alignas(kLine) std::atomic<std::uint64_t> write_{0};  // producer-written
  std::uint64_t w_ = 0;       // producer's own copy of write_
  std::uint64_t wpos_ = 0;    // w_ mod size_
  std::uint64_t limit_ = 0;   // released_ as last loaded + size_
  std::uint64_t p_reloads_ = 0;
  alignas(kLine) std::atomic<std::uint64_t> released_{0};  // consumer-written, once per block
  alignas(kLine) std::uint64_t r_ = 0;                     // consumer-only
  std::uint64_t rpos_ = 0;
  std::uint64_t wcache_ = 0;
  std::uint64_t c_reloads_ = 0;
  alignas(kLine) Slots<std::uint64_t> slots_;
  std::uint64_t* const buf_;
  const std::uint64_t size_;
  const std::uint64_t block_mask_;
};

// ---- (e) lazy consumer publication ------------------------------------------------------------------
// As lamport, but the consumer stores read_ only when it crosses a multiple of B or when a try_pop finds
// the ring empty. The producer's view of read_ lags by < B, so it never overwrites an unread slot; a full
// ring frees B slots at a time (try_push may fail with up to B - 1 fewer than `capacity` queued: not exact).
class LazyRing {
 public:
  static constexpr const char* kName = "lazy";
  LazyRing(std::size_t capacity, std::size_t block)
      : slots_(capacity), buf_(slots_.data()), cap_(capacity), mask_(capacity - 1), block_mask_(block - 1) {
    if (block == 0 || (block & (block - 1)) != 0 || block > capacity) {
      std::fprintf(stderr, "lazy: B must be a power of two <= capacity\n");
      std::exit(2);
    }
    limit_ = cap_;
  }

  bool try_push(std::uint64_t v) noexcept {
    const std::uint64_t w = write_.load(std::memory_order_relaxed);  // relaxed: own index
    if (w == limit_) {
      ++p_reloads_;
      // acquire: pairs with the release of read_ in publish(); the consumer's slot reads happen-before our overwrite
      limit_ = read_.load(std::memory_order_acquire) + cap_;
      if (w == limit_) return false;
    }
    buf_[w & mask_] = v;
    write_.store(w + 1, std::memory_order_release);  // release: publishes the slot; pairs with the acquire in try_pop()
    return true;
  }

  bool try_pop(std::uint64_t& out) noexcept {
    if (r_ == wcache_) {
      ++c_reloads_;
      wcache_ = write_.load(std::memory_order_acquire);  // acquire: pairs with the release in try_push()
      if (r_ == wcache_) {
        if (published_ != r_) publish();  // empty: hand back everything read so far
        return false;
      }
    }
    out = buf_[r_ & mask_];
    ++r_;
    if ((r_ & block_mask_) == 0) publish();
    return true;
  }

  std::size_t fill() const noexcept { return static_cast<std::size_t>(wcache_ - r_); }  // consumer only
  std::uint64_t producer_reloads() const noexcept { return p_reloads_; }
  std::uint64_t consumer_reloads() const noexcept { return c_reloads_; }

 private:
  void publish() noexcept {
    published_ = r_;
    read_.store(r_, std::memory_order_release);  // release: frees the slots read so far; pairs with the acquire in try_push()
  }

  alignas(kLine) std::atomic<std::uint64_t> write_{0};  // producer-written
  std::uint64_t limit_ = 0;
  std::uint64_t p_reloads_ = 0;
  alignas(kLine) std::atomic<std::uint64_t> read_{0};  // consumer-written, every B pops or when empty
  alignas(kLine) std::uint64_t r_ = 0;                 // consumer-only
  std::uint64_t published_ = 0;
  std::uint64_t wcache_ = 0;
  std::uint64_t c_reloads_ = 0;
  alignas(kLine) Slots<std::uint64_t> slots_;
  std::uint64_t* const buf_;
  const std::uint64_t cap_;
  const std::uint64_t mask_;
  const std::uint64_t block_mask_;
};

// ---- (f) per-slot turn ring (FastForward style) -----------------------------------------------------
// Slot i starts with turn 2i ("free for sequence i"). The producer writes sequence w when its slot's turn
// is 2w and sets it to 2w + 1 ("holds w"); the consumer takes sequence r when the turn is 2r + 1 and sets
// it to 2(r + capacity) ("free for the next lap"). The parity keeps "free for w" and "holds w - capacity"
// apart at every capacity, 1 included, and across the 2^64 wrap. No index is shared; each side polls only
// the slot it needs. try_push fails exactly when `capacity` items are queued (slot w is busy until
// sequence w - capacity is popped). kSplit: the turns in an array of their own beside a plain value array
// (so values stay contiguous, as SpscQueue's span API needs). kIndices 1: each side also stores its index
// per operation (release) on a line of its own, as SpscQueue would keep for size(), stats(), batches and
// close(); 2: that plus the per-push cost of SpscQueue's close window (as lamp+win): the whole candidate.
template <bool kSplit, int kIndices>
class SlotRing {
 public:
  static constexpr const char* kName = !kSplit ? "slot" : kIndices == 0 ? "slot_sp" : kIndices == 1 ? "slot_spi" : "slot_spw";
  SlotRing(std::size_t capacity, std::size_t)
      : slots_(kSplit ? 1 : capacity), turns_(kSplit ? capacity : 1), values_(kSplit ? capacity : 1), cap_(capacity), mask_(capacity - 1) {
    for (std::size_t i = 0; i < capacity; ++i) turn(i).store(2 * i, std::memory_order_relaxed);  // relaxed: before the threads start
  }

  bool try_push(std::uint64_t v) noexcept {
    const std::uint64_t w = w_;
    // acquire: pairs with the consumer's release of the turn; its read of the value happens-before our write
    if (turn(w).load(std::memory_order_acquire) != 2 * w) return false;
    if constexpr (kIndices >= 2) {
      announced_.store(w + 1, std::memory_order_relaxed);  // relaxed: as SpscQueue's P1 (no reader in the lab)
      std::atomic_signal_fence(std::memory_order_seq_cst);  // compiler-only: SpscQueue's P2 with membarrier on
      if (closed_.load(std::memory_order_relaxed)) [[unlikely]] return false;  // relaxed: as P3; never set here
    }
    value(w) = v;
    turn(w).store(2 * w + 1, std::memory_order_release);  // release: publishes the value; pairs with the acquire in try_pop()
    w_ = w + 1;
    if constexpr (kIndices >= 1) write_.store(w + 1, std::memory_order_release);  // release: for observers (none here)
    return true;
  }

  bool try_pop(std::uint64_t& out) noexcept {
    const std::uint64_t r = r_;
    // acquire: pairs with the producer's release of the turn; its value is visible
    if (turn(r).load(std::memory_order_acquire) != 2 * r + 1) return false;
    out = value(r);
    turn(r).store(2 * (r + cap_), std::memory_order_release);  // release: frees the slot; pairs with the acquire in try_push()
    r_ = r + 1;
    if constexpr (kIndices >= 1) read_.store(r + 1, std::memory_order_release);  // release: for observers (none here)
    return true;
  }

  std::size_t fill() const noexcept { return 0; }  // not tracked (no index to compare)
  std::uint64_t producer_reloads() const noexcept { return 0; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }

  // Producer: true if the next n slots are free (the consumer frees in order, so the last one decides).
  bool has_room(std::uint64_t n) const noexcept {
    const std::uint64_t last = w_ + n - 1;
    return turn(last).load(std::memory_order_acquire) == 2 * last;  // acquire: pairs with the consumer's release of the turn
  }

 private:
  struct Slot {
    std::atomic<std::uint64_t> turn{0};
    std::uint64_t value = 0;
  };
  std::atomic<std::uint64_t>& turn(std::uint64_t seq) const noexcept {
    if constexpr (kSplit) return turns_.data()[seq & mask_];
    return slots_.data()[seq & mask_].turn;
  }
  std::uint64_t& value(std::uint64_t seq) const noexcept {
    if constexpr (kSplit) return values_.data()[seq & mask_];
    return slots_.data()[seq & mask_].value;
  }

  alignas(kLine) std::uint64_t w_ = 0;  // producer-only
  alignas(kLine) std::atomic<std::uint64_t> write_{0};  // producer-written (kIndices >= 1)
  alignas(kLine) std::atomic<std::uint64_t> announced_{0};  // producer-written (kIndices >= 2)
  alignas(kLine) std::uint64_t r_ = 0;  // consumer-only
  alignas(kLine) std::atomic<std::uint64_t> read_{0};  // consumer-written (kIndices >= 1)
  alignas(kLine) Slots<Slot> slots_;
  Slots<std::atomic<std::uint64_t>> turns_;
  Slots<std::uint64_t> values_;
  const std::uint64_t cap_;
  const std::uint64_t mask_;
  std::atomic<bool> closed_{false};
};

// ---- (g) one-way turns: per-slot "holds s" marks for the consumer, Lamport's index for the producer -------
// The producer marks each slot it fills (turn = s + 1 for sequence s; a mark from an older lap never
// equals r + 1) and still stores write_ (for observers; never loaded on the fast path); the consumer
// decides "empty" by the mark of its own slot, so it never polls the producer's index line, and frees
// slots exactly as Lamport's consumer does, storing read_ on every pop. The producer decides "full" from
// its cached copy of read_, reloaded only when the copy says full: try_push stays exact at capacity.
// kWindow adds SpscQueue's close-window cost per push (as lamp+win).
template <bool kWindow>
class OneWayTurnRing {
 public:
  static constexpr const char* kName = kWindow ? "hyb_w" : "hyb";
  OneWayTurnRing(std::size_t capacity, std::size_t)
      : turns_(capacity), values_(capacity), cap_(capacity), mask_(capacity - 1) {
    limit_ = cap_;
  }

  bool try_push(std::uint64_t v) noexcept {
    const std::uint64_t w = w_;
    if (w == limit_) {
      ++p_reloads_;
      // acquire: pairs with the release of read_ in try_pop(); the consumer's read of the slot happens-before our overwrite
      limit_ = read_.load(std::memory_order_acquire) + cap_;
      if (w == limit_) return false;
    }
    if constexpr (kWindow) {
      announced_.store(w + 1, std::memory_order_relaxed);  // relaxed: as SpscQueue's P1 (no reader in the lab)
      std::atomic_signal_fence(std::memory_order_seq_cst);  // compiler-only: SpscQueue's P2 with membarrier on
      if (closed_.load(std::memory_order_relaxed)) [[unlikely]] return false;  // relaxed: as P3; never set here
    }
    values_.data()[w & mask_] = v;
    turns_.data()[w & mask_].store(w + 1, std::memory_order_release);  // release: publishes the value; pairs with the acquire in try_pop()
    w_ = w + 1;
    write_.store(w + 1, std::memory_order_release);  // release: for observers (none here)
    return true;
  }

  bool try_pop(std::uint64_t& out) noexcept {
    const std::uint64_t r = r_;
    // acquire: pairs with the producer's release of the mark; its value is visible
    if (turns_.data()[r & mask_].load(std::memory_order_acquire) != r + 1) return false;
    out = values_.data()[r & mask_];
    r_ = r + 1;
    read_.store(r + 1, std::memory_order_release);  // release: frees the slot; pairs with the acquire in try_push()
    return true;
  }

  std::size_t fill() const noexcept { return 0; }
  std::uint64_t producer_reloads() const noexcept { return p_reloads_; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }

 private:
  alignas(kLine) std::uint64_t w_ = 0;  // producer-only
  std::uint64_t limit_ = 0;             // read_ as last loaded + capacity
  std::uint64_t p_reloads_ = 0;
  alignas(kLine) std::atomic<std::uint64_t> write_{0};      // producer-written, read by nobody here
  alignas(kLine) std::atomic<std::uint64_t> announced_{0};  // producer-written (kWindow only)
  alignas(kLine) std::uint64_t r_ = 0;                      // consumer-only
  alignas(kLine) std::atomic<std::uint64_t> read_{0};       // consumer-written, every pop
  alignas(kLine) Slots<std::atomic<std::uint64_t>> turns_;
  Slots<std::uint64_t> values_;
  const std::uint64_t cap_;
  const std::uint64_t mask_;
  std::atomic<bool> closed_{false};
};

// ---- adapters for the library queues -----------------------------------------------------------------
struct RkTry {
  static constexpr const char* kName = "rk_try";
  RkTry(std::size_t capacity, std::size_t) : q(capacity) {}
  bool try_push(std::uint64_t v) { return q.try_push(v); }
  bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  std::size_t fill() const noexcept { return q.size_approx(); }
  std::uint64_t producer_reloads() const noexcept { return 0; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }
  ringkit::SpscQueue<std::uint64_t, ringkit::Yielding> q;
};

struct RkPush {  // blocking calls: the queue waits itself, so no failed tries are visible
  static constexpr const char* kName = "rk_push";
  static constexpr bool kBlocking = true;
  RkPush(std::size_t capacity, std::size_t) : q(capacity) {}
  void push(std::uint64_t v) {
    if (q.push(v) != ringkit::PushResult::Pushed) std::abort();
  }
  void pop(std::uint64_t& out) {
    if (!q.pop(out)) std::abort();
  }
  std::size_t fill() const noexcept { return q.size_approx(); }
  ringkit::SpscQueue<std::uint64_t, ringkit::Yielding> q;
};

struct Rwq {
  static constexpr const char* kName = "rwq";
  Rwq(std::size_t capacity, std::size_t) : q(capacity) {}
  bool try_push(std::uint64_t v) { return q.try_enqueue(v); }
  bool try_pop(std::uint64_t& out) { return q.try_dequeue(out); }
  std::size_t fill() const noexcept { return q.size_approx(); }
  std::uint64_t producer_reloads() const noexcept { return 0; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }
  moodycamel::ReaderWriterQueue<std::uint64_t> q;
};

struct AqOptimist {  // push()/pop() spin inside the queue: no failed tries visible
  static constexpr const char* kName = "aq";
  static constexpr bool kBlocking = true;
  AqOptimist(std::size_t capacity, std::size_t) : q(static_cast<unsigned>(capacity)) {}
  void push(std::uint64_t v) { q.push(std::move(v)); }
  void pop(std::uint64_t& out) { out = q.pop(); }
  std::size_t fill() const noexcept { return q.was_size(); }
  atomic_queue::AtomicQueueB2<std::uint64_t, std::allocator<std::uint64_t>, true, false, true> q;
};

// Batch variants: up to kBatch items per call on both sides, through the harness's retry.
constexpr std::size_t kBatch = 64;

struct RkBatch {
  static constexpr const char* kName = "rk_batch";
  static constexpr bool kBatched = true;
  RkBatch(std::size_t capacity, std::size_t) : q(capacity) {}
  std::size_t try_push_batch(std::span<std::uint64_t> items) { return q.push_batch(items); }
  std::size_t try_pop_batch(std::span<std::uint64_t> out) { return q.pop_batch(out); }
  std::size_t fill() const noexcept { return q.size_approx(); }
  std::uint64_t producer_reloads() const noexcept { return 0; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }
  ringkit::SpscQueue<std::uint64_t, ringkit::Yielding> q;
};

struct BoostBatch {
  static constexpr const char* kName = "boost_batch";
  static constexpr bool kBatched = true;
  BoostBatch(std::size_t capacity, std::size_t) : q(capacity) {}
  std::size_t try_push_batch(std::span<std::uint64_t> items) { return q.push(items.data(), items.size()); }
  std::size_t try_pop_batch(std::span<std::uint64_t> out) { return q.pop(out.data(), out.size()); }
  std::size_t fill() const noexcept { return q.read_available(); }  // the consumer's call
  std::uint64_t producer_reloads() const noexcept { return 0; }
  std::uint64_t consumer_reloads() const noexcept { return 0; }
  boost::lockfree::spsc_queue<std::uint64_t> q;
};

// slot_spw driven as SpscQueue's push() drives its ring: one try; after a failed one, wait (spinning,
// bounded like detail::ResumeHysteresis: 512 polls of 8 PAUSEs) until B slots are free, then retry
// exactly with the harness's backoff. pop() is try_pop with the retry. Not exact at capacity only inside
// push()'s wait, as SpscQueue's push().
struct SlotPushHysteresis {
  static constexpr const char* kName = "slot_spwh";
  static constexpr bool kBlocking = true;
  SlotPushHysteresis(std::size_t capacity, std::size_t block) : q(capacity, block), block_(std::min(block, capacity)) {}
  void push(std::uint64_t v) {
    if (q.try_push(v)) [[likely]] return;
    for (unsigned poll = 0; poll < 512 && !q.has_room(block_); ++poll) {
      for (unsigned i = 0; i < 8; ++i) ringkit::cpu_relax();
    }
    ringbench::Backoff b;
    while (!q.try_push(v)) b.pause();
  }
  void pop(std::uint64_t& out) {
    ringbench::Backoff b;
    while (!q.try_pop(out)) b.pause();
  }
  std::size_t fill() const noexcept { return 0; }
  SlotRing<true, 2> q;
  std::size_t block_;
};

template <class V>
concept BlockingVariant = V::kBlocking;
template <class V>
concept BatchVariant = V::kBatched;

// ---- harness ------------------------------------------------------------------------------------
struct Options {
  std::uint64_t items = 50'000'000;
  unsigned rounds = 7;
  std::size_t capacity = 4096;
  std::size_t block = 512;
  unsigned cpu_p = 0, cpu_c = 1;
  double fast_ns = 300;
  double near_ns = 90;
  std::vector<std::string> variants;
  bool per_round = true;
};

void pin(unsigned cpu) {
  if (ringkit::pin_this_thread(cpu) != 0) {
    std::fprintf(stderr, "cannot pin to CPU %u\n", cpu);
    std::exit(2);
  }
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Core-to-core probe: the calling thread (pinned to cpu_a) and a helper on cpu_b bounce a counter through
// two cache lines; returns the median round trip in ns over kBatches batches of kPerBatch trips.
double probe_median_ns(unsigned cpu_a, unsigned cpu_b) {
  constexpr unsigned kBatches = 300, kPerBatch = 10, kWarm = 200;
  struct alignas(kLine) Line {
    std::atomic<std::uint64_t> v{0};
  };
  auto ping = std::make_unique<Line>();
  auto pong = std::make_unique<Line>();
  const std::uint64_t total = kWarm + std::uint64_t{kBatches} * kPerBatch;
  pin(cpu_a);
  std::thread helper([&] {
    pin(cpu_b);
    for (std::uint64_t i = 1; i <= total; ++i) {
      while (ping->v.load(std::memory_order_acquire) != i) ringkit::cpu_relax();  // acquire: pairs with the main thread's release
      pong->v.store(i, std::memory_order_release);  // release: answers; pairs with the main thread's acquire
    }
  });
  std::vector<double> ns;
  ns.reserve(kBatches);
  std::uint64_t i = 0;
  const auto trip = [&] {
    ping->v.store(++i, std::memory_order_release);  // release: pairs with the helper's acquire
    while (pong->v.load(std::memory_order_acquire) != i) ringkit::cpu_relax();  // acquire: pairs with the helper's release
  };
  for (unsigned k = 0; k < kWarm; ++k) trip();
  for (unsigned b = 0; b < kBatches; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (unsigned k = 0; k < kPerBatch; ++k) trip();
    const auto t1 = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kPerBatch);
  }
  helper.join();
  std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(ns.size() / 2), ns.end());
  return ns[ns.size() / 2];
}

struct RunResult {
  double probe_ns = 0, probe_after_ns = 0;
  double mitems = 0;
  double failed_push = -1, failed_pop = -1, reloads_p = -1, reloads_c = -1;  // per item; -1: not counted
  double fill = 0;  // mean queued / capacity
};

[[noreturn]] void sequence_error(const char* name, std::uint64_t want, std::uint64_t got) {
  std::fprintf(stderr, "%s: sequence check failed: expected %llu, got %llu\n", name, static_cast<unsigned long long>(want),
               static_cast<unsigned long long>(got));
  std::abort();
}

template <class V>
RunResult run_one(const Options& o) {
  RunResult res;
  res.probe_ns = probe_median_ns(o.cpu_p, o.cpu_c);
  auto q = std::make_unique<V>(o.capacity, o.block);
  const std::uint64_t n = o.items;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::uint64_t fails_p = 0, fails_c = 0, fill_sum = 0, fill_samples = 0;
  double t_end = 0;
  const auto wait_go = [&] {
    ready.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count the main thread only polls
    while (!go.load(std::memory_order_acquire)) ringkit::cpu_relax();  // acquire: pairs with the release that starts the run
  };
  std::thread producer([&] {
    pin(o.cpu_p);
    wait_go();
    std::uint64_t fails = 0;
    if constexpr (BatchVariant<V>) {
      std::uint64_t buf[kBatch];
      ringbench::Backoff b;
      for (std::uint64_t i = 0; i < n;) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, n - i));
        for (std::size_t k = 0; k < want; ++k) buf[k] = i + k;
        for (std::size_t done = 0; done < want;) {
          const std::size_t k = q->try_push_batch(std::span<std::uint64_t>(buf + done, want - done));
          if (k == 0) {
            ++fails;
            b.pause();
          } else {
            b.reset();
            done += k;
          }
        }
        i += want;
      }
    }
    if constexpr (!BatchVariant<V>) for (std::uint64_t i = 0; i < n; ++i) {
      if constexpr (BlockingVariant<V>) {
        q->push(i);
      } else {
        ringbench::Backoff b;  // ringbench's retry(), with a count of the failed tries
        while (!q->try_push(i)) {
          ++fails;
          b.pause();
        }
      }
    }
    fails_p = fails;
  });
  std::thread consumer([&] {
    pin(o.cpu_c);
    wait_go();
    std::uint64_t fails = 0, sum = 0, samples = 0;
    std::uint64_t x = 0;
    if constexpr (BatchVariant<V>) {
      std::uint64_t buf[kBatch];
      ringbench::Backoff b;
      for (std::uint64_t i = 0; i < n;) {
        const std::size_t k = q->try_pop_batch(std::span<std::uint64_t>(buf, kBatch));
        if (k == 0) {
          ++fails;
          b.pause();
          continue;
        }
        b.reset();
        for (std::size_t j = 0; j < k; ++j) {
          if (buf[j] != i + j) [[unlikely]] sequence_error(V::kName, i + j, buf[j]);
        }
        if ((i & ~std::uint64_t{4095}) != ((i + k) & ~std::uint64_t{4095})) {
          sum += q->fill();
          ++samples;
        }
        i += k;
      }
    }
    if constexpr (!BatchVariant<V>) for (std::uint64_t i = 0; i < n; ++i) {
      if constexpr (BlockingVariant<V>) {
        q->pop(x);
      } else {
        ringbench::Backoff b;
        while (!q->try_pop(x)) {
          ++fails;
          b.pause();
        }
      }
      if (x != i) [[unlikely]] sequence_error(V::kName, i, x);
      if ((i & 4095) == 0) {
        sum += q->fill();
        ++samples;
      }
    }
    t_end = now_s();
    fails_c = fails;
    fill_sum = sum;
    fill_samples = samples;
  });
  while (ready.load(std::memory_order_relaxed) < 2) std::this_thread::yield();  // relaxed: see wait_go
  const double t0 = now_s();
  go.store(true, std::memory_order_release);  // release: starts the run; pairs with the acquire in wait_go
  producer.join();
  consumer.join();
  const double dn = static_cast<double>(n);
  res.mitems = dn / (t_end - t0) / 1e6;
  res.probe_after_ns = probe_median_ns(o.cpu_p, o.cpu_c);
  if constexpr (!BlockingVariant<V>) {
    res.failed_push = static_cast<double>(fails_p) / dn;
    res.failed_pop = static_cast<double>(fails_c) / dn;
    if (q->producer_reloads() || q->consumer_reloads()) {
      res.reloads_p = static_cast<double>(q->producer_reloads()) / dn;
      res.reloads_c = static_cast<double>(q->consumer_reloads()) / dn;
    }
  }
  res.fill = fill_samples ? static_cast<double>(fill_sum) / static_cast<double>(fill_samples) / static_cast<double>(o.capacity) : 0;
  return res;
}

struct Variant {
  std::string name;
  RunResult (*run)(const Options&);
  std::vector<RunResult> results;
};

std::vector<Variant> all_variants() {
  return {
      {RkPush::kName, &run_one<RkPush>, {}},   {RkTry::kName, &run_one<RkTry>, {}},
      {Rwq::kName, &run_one<Rwq>, {}},         {LamportRing<0>::kName, &run_one<LamportRing<0>>, {}},
      {LamportRing<1>::kName, &run_one<LamportRing<1>>, {}},   {LamportRing<2>::kName, &run_one<LamportRing<2>>, {}},
      {BlockRing::kName, &run_one<BlockRing>, {}}, {LazyRing::kName, &run_one<LazyRing>, {}},
      {SlotRing<false, 0>::kName, &run_one<SlotRing<false, 0>>, {}},
      {SlotRing<true, 0>::kName, &run_one<SlotRing<true, 0>>, {}},
      {SlotRing<true, 1>::kName, &run_one<SlotRing<true, 1>>, {}},
      {SlotRing<true, 2>::kName, &run_one<SlotRing<true, 2>>, {}},
      {SlotPushHysteresis::kName, &run_one<SlotPushHysteresis>, {}},
      {OneWayTurnRing<false>::kName, &run_one<OneWayTurnRing<false>>, {}},
      {OneWayTurnRing<true>::kName, &run_one<OneWayTurnRing<true>>, {}},   {AqOptimist::kName, &run_one<AqOptimist>, {}},
      {RkBatch::kName, &run_one<RkBatch>, {}},     {BoostBatch::kName, &run_one<BoostBatch>, {}},
  };
}

struct Stat {
  std::size_t n = 0;
  double median = 0, min = 0, max = 0;
};

Stat stat_of(std::vector<double> v) {
  Stat s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

// Median of one per-item counter over the chosen rounds; negative (not counted) prints as "-".
std::string counter(const std::vector<const RunResult*>& rs, double RunResult::*field, const char* fmt = "%.3f") {
  std::vector<double> v;
  for (const RunResult* r : rs) {
    if (r->*field >= 0) v.push_back(r->*field);
  }
  if (v.empty()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, stat_of(v).median);
  return buf;
}

enum class Class { Fast, Near, Mid, Slow, All };

bool in_class(const RunResult& r, Class c, const Options& o) {
  const double lo = std::min(r.probe_ns, r.probe_after_ns), hi = std::max(r.probe_ns, r.probe_after_ns);
  switch (c) {
    case Class::Fast: return hi < o.fast_ns;
    case Class::Near: return hi < o.near_ns;
    case Class::Mid: return lo >= o.near_ns && hi < o.fast_ns;
    case Class::Slow: return lo >= o.fast_ns;
    case Class::All: return true;
  }
  return false;
}

void print_summary(const std::vector<Variant>& vs, const Options& o) {
  std::printf("\nsummary: %llu items, capacity %zu, B %zu, producer CPU %u, consumer CPU %u; classes by both probes: "
              "fast < %.0f ns (near < %.0f, mid >= %.0f), slow >= %.0f\n",
              static_cast<unsigned long long>(o.items), o.capacity, o.block, o.cpu_p, o.cpu_c, o.fast_ns, o.near_ns, o.near_ns,
              o.fast_ns);
  const std::pair<Class, const char*> classes[] = {
      {Class::Fast, "fast"}, {Class::Near, "near"}, {Class::Mid, "mid"}, {Class::Slow, "slow"}, {Class::All, "all"}};
  for (const auto& [c, cname] : classes) {
    std::printf("\n[%s] %-8s | %-26s | %-6s %-6s | %-8s %-8s %-8s %-8s %-5s\n", cname, "variant", "M items/s med [min-max] n",
                "x rk_p", "x rwq", "fpush/it", "fpop/it", "preload", "creload", "fill");
    std::vector<Stat> st(vs.size());
    std::vector<std::vector<const RunResult*>> rs(vs.size());
    double ref_push = 0, ref_rwq = 0;
    for (std::size_t i = 0; i < vs.size(); ++i) {
      std::vector<double> rates;
      for (const RunResult& r : vs[i].results) {
        if (!in_class(r, c, o)) continue;
        rates.push_back(r.mitems);
        rs[i].push_back(&r);
      }
      st[i] = stat_of(rates);
      if (vs[i].name == RkPush::kName) ref_push = st[i].median;
      if (vs[i].name == Rwq::kName) ref_rwq = st[i].median;
    }
    for (std::size_t i = 0; i < vs.size(); ++i) {
      const Stat& f = st[i];
      if (f.n == 0) {
        std::printf("[%s] %-8s | no runs\n", cname, vs[i].name.c_str());
        continue;
      }
      char xp[16] = "-", xr[16] = "-";
      if (ref_push > 0) std::snprintf(xp, sizeof xp, "%.2f", f.median / ref_push);
      if (ref_rwq > 0) std::snprintf(xr, sizeof xr, "%.2f", f.median / ref_rwq);
      std::printf("[%s] %-8s | %6.1f [%6.1f-%6.1f] %3zu | %-6s %-6s | %-8s %-8s %-8s %-8s %-5s\n", cname, vs[i].name.c_str(), f.median,
                  f.min, f.max, f.n, xp, xr, counter(rs[i], &RunResult::failed_push).c_str(),
                  counter(rs[i], &RunResult::failed_pop).c_str(), counter(rs[i], &RunResult::reloads_p, "%.4f").c_str(),
                  counter(rs[i], &RunResult::reloads_c, "%.4f").c_str(), counter(rs[i], &RunResult::fill, "%.2f").c_str());
    }
  }
}

void usage() {
  std::fprintf(stderr,
               "usage: spsc_lab [--items N] [--rounds R] [--capacity C] [--block B] [--reverse] [--fast-ns NS] [--near-ns NS]\n"
               "                [--variants rk_push,rk_try,rwq,lamport,lamp+ann,lamp+win,block,lazy,slot,slot_sp,slot_spi,slot_spw,slot_spwh,hyb,hyb_w,aq,rk_batch,boost_batch] [--quiet]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--items") {
      o.items = std::stoull(next());
    } else if (a == "--rounds") {
      o.rounds = static_cast<unsigned>(std::stoul(next()));
    } else if (a == "--capacity") {
      o.capacity = std::stoull(next());
    } else if (a == "--block") {
      o.block = std::stoull(next());
    } else if (a == "--reverse") {
      o.cpu_p = 1;
      o.cpu_c = 0;
    } else if (a == "--fast-ns") {
      o.fast_ns = std::stod(next());
    } else if (a == "--near-ns") {
      o.near_ns = std::stod(next());
    } else if (a == "--quiet") {
      o.per_round = false;
    } else if (a == "--variants") {
      std::string list = next();
      for (std::size_t p = 0; p <= list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        if (q > p) o.variants.push_back(list.substr(p, q - p));
        p = q + 1;
      }
    } else {
      usage();
    }
  }
  if (o.capacity == 0 || (o.capacity & (o.capacity - 1)) != 0) usage();
  std::vector<Variant> vs;
  for (Variant& v : all_variants()) {
    if (o.variants.empty() || std::find(o.variants.begin(), o.variants.end(), v.name) != o.variants.end()) vs.push_back(v);
  }
  if (vs.empty()) usage();
  std::printf("round variant  probe_ns(before/after)  M_items/s  fpush/item fpop/item preload/item creload/item fill\n");
  for (unsigned round = 0; round < o.rounds; ++round) {
    for (std::size_t k = 0; k < vs.size(); ++k) {
      Variant& v = vs[(k + round) % vs.size()];  // each round starts one variant later
      const RunResult r = v.run(o);
      v.results.push_back(r);
      if (o.per_round) {
        std::printf("%5u %-8s %6.0f/%-6.0f %10.1f %10s %9s %12s %12s %4.2f\n", round, v.name.c_str(), r.probe_ns, r.probe_after_ns, r.mitems,
                    counter({&r}, &RunResult::failed_push).c_str(), counter({&r}, &RunResult::failed_pop).c_str(),
                    counter({&r}, &RunResult::reloads_p, "%.4f").c_str(), counter({&r}, &RunResult::reloads_c, "%.4f").c_str(),
                    r.fill);
        std::fflush(stdout);
      }
    }
  }
  print_summary(vs, o);
  return 0;
}
