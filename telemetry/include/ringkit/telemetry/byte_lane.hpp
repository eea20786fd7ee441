// SPDX-License-Identifier: MIT
#pragma once
// detail::ByteLane: one logging thread's lane in QueueMode::Lanes: a single-producer single-consumer
// ring of 64-bit words holding variable-size records, and the thread's flight recorder at once.
//
// Built on ringkit's primitives (detail::aligned_allocate, kFalseSharingRange, the SPSC index
// protocol of SpscQueue: a release store of the producer's index per record, an acquire load by the
// consumer, the producer caching the consumer's index and re-reading it only when the ring looks
// full) rather than on SpscQueue<Record> itself, because SpscQueue moves fixed-size slots (a 64-byte
// record for a 16-byte message) and pays for its close protocol on every push (a publishing flag, a
// store-load fence, the closed check); a logger lane is never closed (the backend drains it at
// shutdown after the producers have stopped), so none of that is needed.
//
// A record is 16-byte granular: two header words, then the payload rounded up to 16 bytes:
//   word 0: ticks (TSC or ns)
//   word 1: the call site's Metadata* (bits 0..46) | truncated flag (bit 47) | payload length (48..63)
// so capacity_bytes / 32 records with up to 16 payload bytes fit exactly.
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
#include <stdexcept>
#include <string>

#include "ringkit/detail/aligned_new.hpp"
#include "ringkit/detail/cache_line.hpp"
#include "ringkit/telemetry/seqlock_fence.hpp"

namespace ringkit::telemetry::detail {

class ByteLane {
 public:
  static constexpr std::size_t kHeaderWords = 2;
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << 47) - 1;
  static constexpr std::uint64_t kTruncatedBit = std::uint64_t{1} << 47;
  static constexpr unsigned kLenShift = 48;
  static constexpr unsigned kPosBits = 40;  // flight index entry: word position mod 2^40 | message mod 2^24
  static constexpr std::uint64_t kPosMask = (std::uint64_t{1} << kPosBits) - 1;
  static constexpr std::size_t kMaxFlight = std::size_t{1} << 23;
  static constexpr std::size_t kPrefetchWords = 16;  // 128 bytes ahead of the write position

  // Words a record with `len` payload bytes takes (header + payload rounded up to 16 bytes).
  static constexpr std::size_t record_words(std::size_t len) noexcept { return kHeaderWords + (len + 15) / 16 * 2; }

  // bytes: a power of two, at least 64. flight: messages indexed for the flight recorder (a power of
  // two, at most 2^23, or 0 for none).
  ByteLane(std::size_t bytes, std::size_t flight) : words_(bytes / 8), mask_(words_ - 1) {
    if (bytes < 64 || (bytes & (bytes - 1)) != 0)
      throw std::invalid_argument("telemetry: a lane's size must be a power of two of at least 64 bytes, got " +
                                  std::to_string(bytes));
    if (flight > kMaxFlight || (flight & (flight - 1)) != 0)
      throw std::invalid_argument("telemetry: flight_records must be a power of two up to 2^23, got " +
                                  std::to_string(flight));
    ring_ = static_cast<std::uint64_t*>(ringkit::detail::aligned_allocate(words_ * 8, kAlign));
    std::memset(ring_, 0, words_ * 8);  // touched now, not on the first lap of the hot path
    if (flight) {
      flight_mask_ = flight - 1;
      flight_pos_ = static_cast<std::atomic<std::uint64_t>*>(
          ringkit::detail::aligned_allocate(flight * sizeof(std::atomic<std::uint64_t>), kAlign));
      // relaxed: construction precedes sharing; an entry tagged with message 2^24-1 matches no early message.
      for (std::size_t i = 0; i < flight; ++i) new (&flight_pos_[i]) std::atomic<std::uint64_t>(~std::uint64_t{0});
    }
  }
  ~ByteLane() {
    ringkit::detail::aligned_deallocate(ring_, words_ * 8, kAlign);
    if (flight_pos_)
      ringkit::detail::aligned_deallocate(flight_pos_, (flight_mask_ + 1) * sizeof(std::atomic<std::uint64_t>), kAlign);
  }
  ByteLane(const ByteLane&) = delete;
  ByteLane& operator=(const ByteLane&) = delete;

  [[nodiscard]] std::size_t capacity_bytes() const noexcept { return words_ * 8; }
  [[nodiscard]] std::size_t max_payload() const noexcept { return (words_ - kHeaderWords) * 8; }

  // ---- producer (the owning thread) ----
  // Copies a record of n words (n even, n <= capacity) in; `msg` is the producer's message number (for
  // the flight index). False if it does not fit now.
  bool try_write(const std::uint64_t* src, std::size_t n, std::uint64_t msg) noexcept {
    const std::uint64_t w = wlocal_;
    if (w + n - read_cache_ > words_) [[unlikely]] {
      // acquire: pairs with the release in pop(): the consumer has finished reading the words we reuse.
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w + n - read_cache_ > words_) return false;
    }
    if (flight_pos_ != nullptr)
      // relaxed: ordered before the data words by the release fence below (the seqlock's writer side).
      flight_pos_[msg & flight_mask_].store((w & kPosMask) | (msg << kPosBits), std::memory_order_relaxed);
    claim_.store(w + n, std::memory_order_relaxed);  // relaxed: the fence below orders it before the data words
    // release fence: claim_ and the index entry are visible before any data word; pairs with the acquire
    // fence in read_flight() (a reader that saw an overwritten word sees the claim that covers it).
    seqlock_release_fence();
    std::uint64_t* const ring = ring_;
    const std::size_t at = static_cast<std::size_t>(w & mask_);
    if (at + n <= words_) [[likely]] {
      for (std::size_t i = 0; i < n; ++i)
        // relaxed: the words a flight reader may read concurrently; published to the consumer by write_.
        std::atomic_ref<std::uint64_t>(ring[at + i]).store(src[i], std::memory_order_relaxed);
    } else {
      for (std::size_t i = 0; i < n; ++i)
        // relaxed: as above (the record wraps around the end of the ring).
        std::atomic_ref<std::uint64_t>(ring[(at + i) & mask_]).store(src[i], std::memory_order_relaxed);
    }
    // Ask for the lines the next records go to now (for writing), so that a burst of calls after an
    // idle spell overlaps its cache misses instead of taking them one at a time.
    __builtin_prefetch(&ring[(at + n + kPrefetchWords) & mask_], 1, 3);
    wlocal_ = w + n;
    write_.store(w + n, std::memory_order_release);  // release: the data words before the index; pairs with front()'s acquire
    return true;
  }

  // ---- consumer (the backend) ----
  // The front record's two header words, or nullptr if the lane is empty.
  [[nodiscard]] const std::uint64_t* front() noexcept {
    if (rlocal_ == write_cache_) {
      write_cache_ = write_.load(std::memory_order_acquire);  // acquire: pairs with try_write()'s release
      if (rlocal_ == write_cache_) return nullptr;
    }
    return &ring_[rlocal_ & mask_];  // 16-byte granular and the ring a multiple of 16: never split
  }
  // Copies the front record (front() != nullptr) into out (room for record_words(max_payload())) and
  // frees it; returns its words.
  std::size_t pop(std::uint64_t* out) noexcept {
    const std::uint64_t r = rlocal_;
    const std::size_t n = record_words(static_cast<std::size_t>(ring_[(r & mask_) | 1] >> kLenShift));
    const std::size_t first = words_ - (r & mask_);
    if (n <= first) {
      std::memcpy(out, &ring_[r & mask_], n * 8);
    } else {
      std::memcpy(out, &ring_[r & mask_], first * 8);
      std::memcpy(out + first, ring_, (n - first) * 8);
    }
    rlocal_ = r + n;
    read_.store(r + n, std::memory_order_release);  // release: our reads of the words before the producer reuses them; pairs with try_write()'s acquire
    return n;
  }
  // Bytes queued (any thread; a snapshot).
  [[nodiscard]] std::size_t queued_bytes() const noexcept {
    const std::uint64_t r = read_.load(std::memory_order_acquire);   // acquire: pairs with pop()'s release
    const std::uint64_t w = write_.load(std::memory_order_acquire);  // acquire: pairs with try_write()'s release
    return w > r ? static_cast<std::size_t>(w - r) * 8 : 0;
  }
  [[nodiscard]] bool empty() const noexcept { return queued_bytes() == 0; }

  // ---- flight reader (any thread, async-signal-safe) ----
  // Copies message `msg`'s record into out (room for `cap` words) if the index still points at it and
  // the producer has not overwritten it; returns its words, or 0.
  std::size_t read_flight(std::uint64_t msg, std::uint64_t* out, std::size_t cap) const noexcept {
    if (flight_pos_ == nullptr) return 0;
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
    const std::uint64_t hdr = std::atomic_ref<std::uint64_t>(ring_[(w + 1) & mask_]).load(std::memory_order_relaxed);  // relaxed: checked by the seqlock below
    const std::size_t n = record_words(static_cast<std::size_t>(hdr >> kLenShift));
    if (n > cap || n > words_) return 0;
    for (std::size_t i = 0; i < n; ++i)
      // relaxed: seqlock data words, validated by the fence and the claim check below.
      out[i] = std::atomic_ref<std::uint64_t>(ring_[(w + i) & mask_]).load(std::memory_order_relaxed);
    // acquire fence: the data loads above happen before the re-check; pairs with try_write()'s release fence.
    seqlock_acquire_fence();
    const std::uint64_t c1 = claim_.load(std::memory_order_relaxed);  // relaxed: ordered by the fence above
    if (w + words_ < c1) return 0;  // a word we copied may have been rewritten
    if ((out[1] >> kLenShift) != (hdr >> kLenShift)) return 0;
    return n;
  }
  [[nodiscard]] std::size_t flight_capacity() const noexcept { return flight_pos_ ? flight_mask_ + 1 : 0; }

 private:
  static constexpr std::size_t kAlign = ringkit::detail::kFalseSharingRange;
  // Producer's line(s): its own copies and what it alone writes.
  alignas(kAlign) std::uint64_t wlocal_ = 0;
  std::uint64_t read_cache_ = 0;
  std::atomic<std::uint64_t> claim_{0};  // words [.., claim_) may be being written (flight seqlock)
  std::uint64_t* ring_ = nullptr;
  std::size_t words_;
  std::size_t mask_;
  std::atomic<std::uint64_t>* flight_pos_ = nullptr;
  std::size_t flight_mask_ = 0;
  // Published indices, each on its own lines.
  alignas(kAlign) std::atomic<std::uint64_t> write_{0};
  alignas(kAlign) std::atomic<std::uint64_t> read_{0};
  // Consumer's line.
  alignas(kAlign) std::uint64_t rlocal_ = 0;
  std::uint64_t write_cache_ = 0;
};

}  // namespace ringkit::telemetry::detail
