// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/clock.hpp"

#include <bit>
#include <mutex>
#include <thread>

#if RINGKIT_TELEMETRY_HAS_RDTSC
#include <cpuid.h>
#endif

namespace ringkit::telemetry {

bool tsc_is_invariant() noexcept {
#if RINGKIT_TELEMETRY_HAS_RDTSC
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __cpuid(0x80000007u, a, b, c, d);
  return (d & (1u << 8)) != 0;
#else
  return false;
#endif
}

namespace {
struct Calib {
  std::atomic<std::uint64_t> tsc0{0};
  std::atomic<std::uint64_t> ns0{0};
  std::atomic<std::uint64_t> slope_bits{std::bit_cast<std::uint64_t>(1.0)};
  std::once_flag once;
};
Calib g_calib;

// A (tsc, ns) pair taken as close together as possible: the read with the shortest TSC bracket wins.
void sample(std::uint64_t& tsc, std::uint64_t& ns) {
  std::uint64_t best = ~std::uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t t0 = read_tsc();
    const std::uint64_t n = realtime_ns();
    const std::uint64_t t1 = read_tsc();
    if (t1 - t0 < best) {
      best = t1 - t0;
      tsc = t0 + (t1 - t0) / 2;
      ns = n;
    }
  }
}

void init() {
  std::uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
  sample(t0, n0);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sample(t1, n1);
  const double slope = t1 > t0 ? static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0) : 1.0;
  // relaxed (all three): published to other threads by std::call_once's synchronization.
  g_calib.tsc0.store(t0, std::memory_order_relaxed);
  g_calib.ns0.store(n0, std::memory_order_relaxed);  // relaxed: published by call_once (init happens-before its return)
  g_calib.slope_bits.store(std::bit_cast<std::uint64_t>(slope), std::memory_order_relaxed);  // relaxed: published by call_once (init happens-before its return)
}
}  // namespace

TscCalibration tsc_calibration() noexcept {
  // call_once may throw only on system errors; a failure leaves the identity mapping.
  try {
    std::call_once(g_calib.once, init);
  } catch (...) {
  }
  TscCalibration c;
  // relaxed: tsc0/ns0 never change after call_once (which orders them); the slope is refined
  // independently and any published value is a valid slope.
  c.tsc0 = g_calib.tsc0.load(std::memory_order_relaxed);
  c.ns0 = g_calib.ns0.load(std::memory_order_relaxed);  // relaxed: fixed after call_once, which orders it
  c.ns_per_tick = std::bit_cast<double>(g_calib.slope_bits.load(std::memory_order_relaxed));  // relaxed: refined standalone; any published slope is valid
  return c;
}

void refine_tsc_calibration() noexcept {
  const TscCalibration c = tsc_calibration();
  std::uint64_t t = 0, n = 0;
  sample(t, n);
  // Only once the baseline is long (>= 1 s) does the long-run slope beat the initial 10 ms one.
  if (n > c.ns0 + 1'000'000'000u && t > c.tsc0) {
    const double slope = static_cast<double>(n - c.ns0) / static_cast<double>(t - c.tsc0);
    // relaxed: a standalone value; readers accept any published slope.
    g_calib.slope_bits.store(std::bit_cast<std::uint64_t>(slope), std::memory_order_relaxed);
  }
}

}  // namespace ringkit::telemetry
