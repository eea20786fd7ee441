// SPDX-License-Identifier: MIT
#pragma once
// The record layout in a Lanes-mode byte lane (detail::ByteLane), and the process-wide table of call
// sites its 16-bit site ids index. In memory only: nothing here reaches a file (the flight dump and
// the binary sink write ttlog RawEvents, docs/ttlog-format.md).
//
//   word 0      ticks mod 2^48 (bits 16..63) | site id (bits 0..15)
//   word 1      site id 0 only ("wide"): the call site's Metadata*
//   next word   if the site has string arguments, or is wide: payload length (bits 0..15) | truncated (bit 16)
//   payload     the arguments (record.hpp's encoding), padded with zeros to a whole word
//
// So the benchmark's message (int, int, double: 16 argument bytes) is 3 words, 24 bytes: 8 of them
// beyond the arguments. A site gets its id the first time it logs in Lanes mode (a mutex, once per
// site); ids 1..65535; when they run out, later sites write the wide form (the pointer in the record).
//
// Ticks keep their low 48 bits. A reader rebuilds the full value from a reference at most 2^46 ticks
// after the record's time and less than 3 * 2^46 ticks after it (the backend's clock, the dump's
// clock): 2^46 TSC ticks are 7-11 hours at 1.7-2.8 GHz, 2^46 ns 19.5 hours. The backend handles a
// record milliseconds after it is written; a flight record older than that window when it is dumped
// gets a wrong date (by a multiple of 2^48 ticks), which the docs state.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ringkit/telemetry/record.hpp"

namespace ringkit::telemetry::detail::lane_record {

inline constexpr unsigned kSiteBits = 16;
inline constexpr std::uint64_t kSiteMask = (std::uint64_t{1} << kSiteBits) - 1;
inline constexpr std::uint32_t kWideSite = 0;
inline constexpr std::uint32_t kMaxSites = 65535;
inline constexpr std::uint32_t kNoSiteId = 0x10000;  // a site's id variable once the table is full
inline constexpr std::uint64_t kTickMask = (std::uint64_t{1} << (64 - kSiteBits)) - 1;
inline constexpr std::uint64_t kLenMask = 0xFFFF;
inline constexpr std::uint64_t kTruncatedBit = std::uint64_t{1} << 16;
static_assert(kMaxPayload <= kLenMask);
// The most header words a record has (wide: word 0, the pointer, the length word).
inline constexpr std::size_t kMaxHeaderWords = 3;

constexpr std::size_t payload_words(std::size_t len) noexcept { return (len + 7) / 8; }

// One call site in the table. meta is published (release) after the rest is written.
struct SiteEntry {
  std::atomic<const Metadata*> meta{nullptr};
  std::uint16_t fixed_len = 0;  // payload bytes, for a site without strings
  bool variable = false;        // has strings: its records carry a length word
};
// The table, indexed by site id (entry 0 unused).
extern SiteEntry g_sites[kMaxSites + 1];

// Gives the site its id (1..kMaxSites) and stores it in `id` (release), or kNoSiteId when the table is
// full; returns what it stored. Takes a mutex; once per site.
std::uint32_t register_site(const Metadata* meta, std::size_t fixed_len, bool variable,
                            std::atomic<std::uint32_t>& id) noexcept;

// A site's id variable (one per call site and argument-type list).
template <class Site, class... A>
struct SiteId {
  static inline std::atomic<std::uint32_t> id{0};
};

// The full tick value of a record's 48 low bits, from a reference taken at most 2^46 ticks before the
// record's time (see the file comment).
constexpr std::uint64_t expand_ticks(std::uint64_t low48, std::uint64_t now) noexcept {
  const std::uint64_t ref = now + (std::uint64_t{1} << 46);
  return ref - ((ref - low48) & kTickMask);
}

// What a record's header words say.
struct Shape {
  const Metadata* meta = nullptr;
  std::uint64_t ticks48 = 0;
  std::size_t header_words = 1;
  std::size_t len = 0;  // payload bytes
  bool truncated = false;
  [[nodiscard]] std::size_t words() const noexcept { return header_words + payload_words(len); }
};

// Reads a record's header with word(k) (the k-th word of the record). False if the site id is not
// registered or the wide pointer is null (a damaged or torn record). Never dereferences the pointer of a
// wide record (a flight reader validates the words only afterwards).
template <class Load>
inline bool read_shape(Load&& word, Shape& s) noexcept {
  const std::uint64_t w0 = word(0);
  s.ticks48 = w0 >> kSiteBits;
  const auto site = static_cast<std::uint32_t>(w0 & kSiteMask);
  bool variable = true;
  if (site != kWideSite) {
    const SiteEntry& e = g_sites[site];
    s.meta = e.meta.load(std::memory_order_acquire);  // acquire: pairs with register_site()'s release
    if (s.meta == nullptr) return false;
    variable = e.variable;
    s.len = e.fixed_len;
    s.header_words = 1;
  } else {
    s.meta = reinterpret_cast<const Metadata*>(static_cast<std::uintptr_t>(word(1)));
    if (s.meta == nullptr) return false;
    s.header_words = 2;
  }
  s.truncated = false;
  if (variable) {
    const std::uint64_t lw = word(s.header_words);
    s.len = static_cast<std::size_t>(lw & kLenMask);
    s.truncated = (lw & kTruncatedBit) != 0;
    ++s.header_words;
    if (s.len > kMaxPayload) return false;
  }
  return true;
}

}  // namespace ringkit::telemetry::detail::lane_record
