// SPDX-License-Identifier: MIT
#pragma once
// detail::ByteLane: one logging thread's lane in QueueMode::Lanes: a single-producer single-consumer
// ring of 64-bit words holding variable-size records, and the thread's flight recorder at once.
//
// Built on ringkit's primitives (kFalseSharingRange, the SPSC index
// protocol of SpscQueue: a release store of the producer's index per record, an acquire load by the
// consumer, the producer caching the consumer's index and re-reading it only when the ring looks
// full) rather than on SpscQueue<Record> itself, because SpscQueue moves fixed-size slots (a 64-byte
// record for a 16-byte message) and pays for its close protocol on every push (a publishing flag, a
// store-load fence, the closed check); a logger lane is never closed (the backend drains it at
// shutdown after the producers have stopped), so none of that is needed.
//
// The lane does not interpret its records: they are runs of whole words, and whoever reads one (the
// backend, a flight reader) is told or works out its length from its first words. The logger's
// record layout (lane_record below: an 8-byte header, 8-byte granular) is defined next to it.
// The ring holds any number of words (not only a power of two), so a lane of capacity * 3 words holds
// exactly `capacity` records of one header word and two payload words; producer and consumer keep
// their own offsets into the ring next to their running word counts, so no division is needed.
//
// The flight recorder is the lane itself: consumed records stay in the ring until the producer wraps
// over them. The producer notes each message's word position in a small index (flight_pos_, one
// store per message); a reader (a dump on demand, or the crash handler) copies the last messages out
// of the ring under a seqlock on claim_ (the producer announces the words it is about to overwrite
// before it writes them), so a record being overwritten is skipped, never dumped torn.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "ringkit/detail/cache_line.hpp"
#include "ringkit/telemetry/lane_memory.hpp"
#include "ringkit/telemetry/seqlock_fence.hpp"

namespace ringkit::telemetry::detail {

class ByteLane {
 public:
  static constexpr unsigned kPosBits = 40;  // flight index entry: word position mod 2^40 | message mod 2^24
  static constexpr std::uint64_t kPosMask = (std::uint64_t{1} << kPosBits) - 1;
  static constexpr std::size_t kMaxFlight = std::size_t{1} << 23;
  static constexpr std::size_t kPrefetchWords = 16;  // 128 bytes ahead of the write position

  // No ring (a Shared-mode thread slot).
  ByteLane() noexcept = default;
  // bytes: a multiple of 8, at least 16. flight: messages indexed for the flight recorder (a power of
  // two, at most 2^23, or 0 for none). huge_pages: put the flight index and the ring on transparent huge
  // pages if together they take at least 1 MiB (lane_memory.hpp).
  ByteLane(std::size_t bytes, std::size_t flight, bool huge_pages = false) : words_(bytes / 8), rwords_(bytes / 8) {
    if (bytes < 16 || bytes % 8 != 0)
      throw std::invalid_argument("telemetry: a lane's size must be a multiple of 8 bytes, at least 16, got " +
                                  std::to_string(bytes));
    if (flight > kMaxFlight || (flight & (flight - 1)) != 0)
      throw std::invalid_argument("telemetry: flight_records must be a power of two up to 2^23, got " +
                                  std::to_string(flight));
    // Without a flight recorder the index is one dummy entry, so the producer's store needs no branch.
    flight_ = flight;
    const std::size_t entries = flight ? flight : 1;
    flight_mask_ = entries - 1;
    // One block: the flight index, then the ring (each kAlign-aligned), so that on huge pages one
    // translation covers both.
    const std::size_t index_bytes = (entries * sizeof(std::atomic<std::uint64_t>) + kAlign - 1) / kAlign * kAlign;
    memory_ = std::make_unique<LaneMemory>(index_bytes + words_ * 8, huge_pages);
    flight_pos_ = reinterpret_cast<std::atomic<std::uint64_t>*>(memory_->data());
    // relaxed: construction precedes sharing; an entry tagged with message 2^24-1 matches no early message.
    for (std::size_t i = 0; i < entries; ++i) new (&flight_pos_[i]) std::atomic<std::uint64_t>(~std::uint64_t{0});
    ring_ = reinterpret_cast<std::uint64_t*>(memory_->data() + index_bytes);
    std::memset(ring_, 0, words_ * 8);  // touched now (huge pages faulted in), not on the hot path's first lap
    rring_ = ring_;
  }
  ByteLane(const ByteLane&) = delete;
  ByteLane& operator=(const ByteLane&) = delete;

  [[nodiscard]] bool has_ring() const noexcept { return ring_ != nullptr; }
  // The lane's memory is a huge-page-advised mapping (see LaneMemory).
  [[nodiscard]] bool huge_pages_advised() const noexcept { return memory_ && memory_->huge_pages_advised(); }
  [[nodiscard]] const void* ring_address() const noexcept { return ring_; }
  [[nodiscard]] std::size_t capacity_words() const noexcept { return words_; }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept { return words_ * 8; }

  // ---- producer (the owning thread) ----
  // Copies a record of n words (1 <= n <= capacity) in; `msg` is the producer's message number (for
  // the flight index). False if it does not fit now.
  bool try_write(const std::uint64_t* src, std::size_t n, std::uint64_t msg) noexcept {
    return write_impl(src, n, msg, [&](std::uint64_t* dst) {
      for (std::size_t i = 0; i < n; ++i)
        // relaxed: the words a flight reader may read concurrently; published to the consumer by write_.
        std::atomic_ref<std::uint64_t>(dst[i]).store(src[i], std::memory_order_relaxed);
    });
  }
  // The same for a record whose length is a compile-time constant: the stores are unrolled.
  template <std::size_t N>
  bool try_write(const std::uint64_t* src, std::integral_constant<std::size_t, N>, std::uint64_t msg) noexcept {
    return write_impl(src, N, msg, [&](std::uint64_t* dst) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        // relaxed: as in try_write() above.
        (std::atomic_ref<std::uint64_t>(dst[I]).store(src[I], std::memory_order_relaxed), ...);
      }(std::make_index_sequence<N>{});
    });
  }

  // ---- consumer (the backend) ----
  // The front record's first word, or nullptr if the lane is empty. word(k) then reads its k-th word
  // (k below its length).
  [[nodiscard]] const std::uint64_t* front() noexcept {
    if (rlocal_ == write_cache_) {
      write_cache_ = write_.load(std::memory_order_acquire);  // acquire: pairs with write_impl()'s release
      if (rlocal_ == write_cache_) return nullptr;
    }
    return &rring_[rat_];
  }
  [[nodiscard]] std::uint64_t word(std::size_t k) const noexcept {
    const std::size_t at = rat_ + k;
    return rring_[at < rwords_ ? at : at - rwords_];
  }
  // Copies the front record (front() != nullptr, n its words) into out and frees it.
  void pop(std::uint64_t* out, std::size_t n) noexcept {
    const std::size_t first = rwords_ - rat_;
    if (n <= first) {
      std::memcpy(out, &rring_[rat_], n * 8);
      rat_ = n == first ? 0 : rat_ + n;
    } else {
      std::memcpy(out, &rring_[rat_], first * 8);
      std::memcpy(out + first, rring_, (n - first) * 8);
      rat_ = n - first;
    }
    rlocal_ += n;
    read_.store(rlocal_, std::memory_order_release);  // release: our reads of the words before the producer reuses them; pairs with write_impl()'s acquire
  }
  // Bytes queued (any thread; a snapshot).
  [[nodiscard]] std::size_t queued_bytes() const noexcept {
    const std::uint64_t r = read_.load(std::memory_order_acquire);   // acquire: pairs with pop()'s release
    const std::uint64_t w = write_.load(std::memory_order_acquire);  // acquire: pairs with write_impl()'s release
    return w > r ? static_cast<std::size_t>(w - r) * 8 : 0;
  }
  [[nodiscard]] bool empty() const noexcept { return queued_bytes() == 0; }

  // ---- flight reader (any thread, async-signal-safe) ----
  // Copies message `msg`'s record into out (room for `cap` words) if the index still points at it and
  // the producer has not overwritten it; returns its words, or 0. size(word) returns the record's
  // length in words (0 if it makes no sense), reading its k-th word with word(k).
  template <class SizeFn>
  std::size_t read_flight(std::uint64_t msg, std::uint64_t* out, std::size_t cap, SizeFn&& size) const noexcept {
    if (flight_ == 0) return 0;
    const std::atomic<std::uint64_t>& slot = flight_pos_[msg & flight_mask_];
    // acquire (relaxed would do): the entry of a message below the caller's acquired `sent` is already
    // visible through that edge (pairs with Producer::bump_release); a newer entry fails the tag check.
    const std::uint64_t e = slot.load(std::memory_order_acquire);
    if ((e >> kPosBits) != (msg & (~std::uint64_t{0} >> kPosBits))) return 0;
    // acquire (relaxed would do): at least the claim of message `msg`, stored before the producer's release
    // of `sent` that the caller acquired; so w <= c0 below.
    const std::uint64_t c0 = claim_.load(std::memory_order_acquire);
    const std::uint64_t w = c0 - ((c0 - e) & kPosMask);  // the entry's full word position, at most c0
    if (w + words_ < c0) return 0;  // already overwritten
    const std::size_t at = static_cast<std::size_t>(w % words_);
    auto load = [&](std::size_t k) {
      const std::size_t i = at + k;
      // relaxed: seqlock data words, validated by the fence and the claim check below.
      return std::atomic_ref<std::uint64_t>(ring_[i < words_ ? i : i - words_]).load(std::memory_order_relaxed);
    };
    const std::size_t n = size(load);
    if (n == 0 || n > cap || n > words_) return 0;
    for (std::size_t i = 0; i < n; ++i) out[i] = load(i);
    // acquire fence: the data loads above happen before the re-check; pairs with write_impl()'s release fence.
    seqlock_acquire_fence();
    const std::uint64_t c1 = claim_.load(std::memory_order_relaxed);  // relaxed: ordered by the fence above
    if (w + words_ < c1) return 0;  // a word we read (the size's too) may have been rewritten
    return n;
  }
  [[nodiscard]] std::size_t flight_capacity() const noexcept { return flight_; }

  // The owner's message count (the logger's Producer::sent), kept in the write index's line: the
  // backend polls that line anyway, so the owner's per-message store of the count costs no second
  // coherence round trip per burst (in the Producer's own line, which the backend reads too, it did).
  [[nodiscard]] std::atomic<std::uint64_t>& count() noexcept { return count_; }
  [[nodiscard]] const std::atomic<std::uint64_t>& count() const noexcept { return count_; }

 private:
  template <class Copy>
  bool write_impl(const std::uint64_t* src, std::size_t n, std::uint64_t msg, Copy&& copy) noexcept {
    const std::uint64_t w = wlocal_;
    if (w + n - read_cache_ > words_) [[unlikely]] {
      // acquire: pairs with the release in pop(): the consumer has finished reading the words we reuse.
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w + n - read_cache_ > words_) return false;
    }
    // relaxed: ordered before the data words by the release fence below (the seqlock's writer side).
    flight_pos_[msg & flight_mask_].store((w & kPosMask) | (msg << kPosBits), std::memory_order_relaxed);
    claim_.store(w + n, std::memory_order_relaxed);  // relaxed: the fence below orders it before the data words
    // release fence: claim_ and the index entry are visible before any data word; pairs with the acquire
    // fence in read_flight() (a reader that saw an overwritten word sees the claim that covers it).
    seqlock_release_fence();
    std::uint64_t* const ring = ring_;
    const std::size_t at = wat_;
    std::size_t next = at + n;
    if (next < words_) [[likely]] {
      copy(ring + at);
    } else {  // the record reaches the end of the ring (n <= words_: the fit check above)
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t j = at + i < words_ ? at + i : at + i - words_;
        // relaxed: as in try_write().
        std::atomic_ref<std::uint64_t>(ring[j]).store(src[i], std::memory_order_relaxed);
      }
      next -= words_;
    }
    // Ask for the line the next records go to now (for writing), so that a burst of calls after an idle
    // spell overlaps its cache misses instead of taking them one at a time. A prefetch never faults, so
    // one past the end of the ring does no harm (it only fetches nothing useful).
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(ring + next) + kPrefetchWords * 8), 1, 3);
    wat_ = next;
    wlocal_ = w + n;
    write_.store(w + n, std::memory_order_release);  // release: the data words before the index; pairs with front()'s acquire
    return true;
  }
  static constexpr std::size_t kAlign = ringkit::detail::kFalseSharingRange;
  // Producer's line(s): its own copies and what it alone writes.
  alignas(kAlign) std::uint64_t wlocal_ = 0;  // words ever written
  std::size_t wat_ = 0;                       // wlocal_ mod words_
  std::uint64_t read_cache_ = 0;
  std::atomic<std::uint64_t> claim_{0};  // words [.., claim_) may be being written (flight seqlock)
  std::uint64_t* ring_ = nullptr;  // in memory_
  std::size_t words_ = 0;
  std::atomic<std::uint64_t>* flight_pos_ = nullptr;  // in memory_
  std::size_t flight_mask_ = 0;
  std::size_t flight_ = 0;
  std::unique_ptr<LaneMemory> memory_;  // owns ring_ and flight_pos_ (null: no ring)
  // Published indices, each on its own lines (the owner's message count beside write_: see count()).
  alignas(kAlign) std::atomic<std::uint64_t> write_{0};
  std::atomic<std::uint64_t> count_{0};
  alignas(kAlign) std::atomic<std::uint64_t> read_{0};
  // Consumer's line, with its own copies of ring_ and words_: the backend never reads the producer's
  // line, so the producer's first store of a burst into it (claim_, wlocal_) finds it still exclusive
  // instead of shared with the backend's core (a coherence round trip per burst).
  alignas(kAlign) std::uint64_t rlocal_ = 0;
  std::size_t rat_ = 0;  // rlocal_ mod rwords_
  std::uint64_t write_cache_ = 0;
  std::uint64_t* rring_ = nullptr;  // = ring_
  std::size_t rwords_ = 0;          // = words_
};

}  // namespace ringkit::telemetry::detail
