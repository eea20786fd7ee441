// SPDX-License-Identifier: MIT
#pragma once
// Timestamps for log events. The hot path stores raw ticks; the backend converts them to wall-clock
// nanoseconds. Two sources (docs/telemetry.md, "Timestamps", has the measurement behind the default):
//   Tsc       rdtsc, calibrated against CLOCK_REALTIME (needs an invariant TSC: CPUID 0x80000007 EDX[8])
//   Realtime  clock_gettime(CLOCK_REALTIME) through the vDSO; ticks are already nanoseconds
#include <atomic>
#include <cstdint>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define RINGKIT_TELEMETRY_HAS_RDTSC 1
#else
#define RINGKIT_TELEMETRY_HAS_RDTSC 0
#endif

namespace ringkit::telemetry {

enum class TimestampSource : std::uint8_t { Tsc, Realtime };

inline std::uint64_t realtime_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t read_tsc() noexcept {
#if RINGKIT_TELEMETRY_HAS_RDTSC
  return __rdtsc();
#else
  return realtime_ns();
#endif
}

// True if this CPU has an invariant TSC (constant rate across P-states and C-states).
bool tsc_is_invariant() noexcept;

// The process-wide TSC -> wall-clock mapping: an anchor (tsc0, ns0) taken the first time it is asked
// for, and a slope measured over ~10 ms then, refined by refine_tsc_calibration() (each logger's
// backend calls it about once a second) over the whole time since the anchor, so its error shrinks
// as the process runs. Lock-free: a signal handler may read it.
struct TscCalibration {
  std::uint64_t tsc0 = 0;
  std::uint64_t ns0 = 0;
  double ns_per_tick = 1.0;
  [[nodiscard]] std::uint64_t to_ns(std::uint64_t tsc) const noexcept {
    const auto d = static_cast<std::int64_t>(tsc - tsc0);
    return ns0 + static_cast<std::uint64_t>(static_cast<double>(d) * ns_per_tick);
  }
};
TscCalibration tsc_calibration() noexcept;
void refine_tsc_calibration() noexcept;

// Converts ticks of `source` to Unix nanoseconds.
inline std::uint64_t ticks_to_ns(TimestampSource source, std::uint64_t ticks) noexcept {
  return source == TimestampSource::Tsc ? tsc_calibration().to_ns(ticks) : ticks;
}

}  // namespace ringkit::telemetry
