// SPDX-License-Identifier: MIT
#pragma once
// Producer-wait hysteresis for push()'s wait path (issue 8): a producer that found the ring full first
// waits, spinning only, until a fraction of the ring is free, so that the producer and the consumer stop
// working one slot apart (which moves the slot's line and the index line between the cores on every
// item) and instead work in different parts of the ring. The phase is bounded twice:
//   * it ends as soon as the consumer stops making progress for kStallPolls polls (a consumer that is
//     itself waiting for this producer, e.g. a caller waiting for an answer with the ring nearly full,
//     costs a few microseconds, never a deadlock), or after kMaxPolls polls in all (79 µs measured on
//     the reference AMD EPYC; PAUSE is slower on Intel since Skylake), and it runs at most once per
//     push() (a producer that then loses the claim to another waits exactly);
//   * it never parks and never registers as a waiter, so it cannot cause a futex wake-up: afterwards
//     push() waits exactly as before (wait strategy, predicate "one slot free").
// try_push(), push_batch() and try_push_for()'s deadline path stay exact (no hysteresis).
// Define RINGKIT_PUSH_RESUME_DIVISOR=0 to turn the phase off (for A/B measurements); default 8:
// resume when capacity/8 slots are free. Define it for the whole program (it changes inline function
// bodies: two translation units that disagree break the one-definition rule).
#include <cstddef>
#include <cstdint>

#include "ringkit/detail/cpu_relax.hpp"

#ifndef RINGKIT_PUSH_RESUME_DIVISOR
#define RINGKIT_PUSH_RESUME_DIVISOR 8
#endif

namespace ringkit::detail {

struct ResumeHysteresis {
  static constexpr std::size_t kDivisor = RINGKIT_PUSH_RESUME_DIVISOR;
  static constexpr unsigned kPausesPerPoll = 8;  // ~0.1-0.4 µs between polls of the consumer's index
  static constexpr unsigned kStallPolls = 16;    // polls without consumer progress before giving up
  static constexpr unsigned kMaxPolls = 512;     // hard bound on the whole phase

  // Slots that must be free before the producer resumes (0: no hysteresis phase).
  static constexpr std::size_t threshold(std::size_t capacity) noexcept {
    if constexpr (kDivisor == 0) {
      return 0;
    } else {
      const std::size_t t = capacity / kDivisor;
      return t > 1 ? t : 0;  // rings of fewer than 2*kDivisor slots: no phase
    }
  }

  // Spins until free_slots() >= want, stop() is true, the consumer's position (progress()) stops moving
  // for kStallPolls polls, or kMaxPolls polls pass. Returns nothing: the caller re-tries exactly.
  template <class FreeSlots, class Progress, class Stop>
  static void wait(std::size_t want, FreeSlots&& free_slots, Progress&& progress, Stop&& stop) noexcept {
    if (want == 0) return;
    std::uint64_t last = progress();
    for (unsigned poll = 0, stalled = 0; poll < kMaxPolls && stalled < kStallPolls; ++poll) {
      for (unsigned i = 0; i < kPausesPerPoll; ++i) cpu_relax();
      if (stop() || free_slots() >= want) return;
      const std::uint64_t now = progress();
      if (now == last) {
        ++stalled;
      } else {
        stalled = 0;
        last = now;
      }
    }
  }
};

}  // namespace ringkit::detail
