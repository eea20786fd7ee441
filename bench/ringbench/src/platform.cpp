// SPDX-License-Identifier: MIT
#include "platform.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "ringbench/backoff.hpp"
#include "ringkit/cpu.hpp"

namespace ringbench {

void pin_this_thread(int core) {
  if (core < 0) return;
  const int rc = ringkit::pin_this_thread(static_cast<unsigned>(core));
  if (rc != 0) {
    throw std::runtime_error("pthread_setaffinity_np(core " + std::to_string(core) + "): " + std::strerror(rc));
  }
}

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t tsc_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();  // keep earlier loads from drifting past the read
  const std::uint64_t t = __rdtsc();
  _mm_lfence();  // and later work from starting before it
  return t;
#else
  return static_cast<std::uint64_t>(now_ns());
#endif
}

double calibrate_tsc_per_ns() {
#if defined(__x86_64__) || defined(__i386__)
  const std::int64_t n0 = now_ns();
  const std::uint64_t t0 = tsc_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::int64_t n1 = now_ns();
  const std::uint64_t t1 = tsc_now();
  return static_cast<double>(t1 - t0) / static_cast<double>(n1 - n0);
#else
  return 1.0;
#endif
}

namespace {
struct alignas(128) PaddedCounter {
  std::atomic<std::uint64_t> value{0};
};
}  // namespace

double cacheline_pingpong(int core_a, int core_b, std::uint64_t round_trips, double tsc_per_ns, LatencyRecorder* rec,
                          double max_seconds) {
  pin_this_thread(core_a);
  PaddedCounter ping, pong;
  constexpr std::uint64_t kStop = ~std::uint64_t{0};
  const std::uint64_t warm = 200;
  const std::uint64_t total = warm + round_trips;
  std::thread echo([&] {
    pin_this_thread(core_b);
    for (std::uint64_t i = 1; i <= total; ++i) {
      std::uint64_t v;
      // acquire: pairs with the release store of ping below; release: publishes the answer.
      while ((v = ping.value.load(std::memory_order_acquire)) != i && v != kStop) cpu_relax();
      if (v == kStop) break;
      pong.value.store(i, std::memory_order_release);
    }
  });
  const auto deadline_ticks = static_cast<std::uint64_t>(max_seconds * 1e9 * tsc_per_ns);
  const std::uint64_t begin = tsc_now();
  std::uint64_t start = begin, done = 0;
  for (std::uint64_t i = 1; i <= total; ++i) {
    if (i == warm + 1) start = tsc_now();
    const std::uint64_t t0 = rec ? tsc_now() : 0;
    ping.value.store(i, std::memory_order_release);  // release: pairs with the acquire in the echo thread
    while (pong.value.load(std::memory_order_acquire) != i) cpu_relax();  // acquire: pairs with its release
    if (i > warm) {
      ++done;
      if (rec) rec->record(static_cast<std::uint64_t>(static_cast<double>(tsc_now() - t0) / tsc_per_ns));
    }
    if (max_seconds > 0 && i > warm && tsc_now() - begin > deadline_ticks) break;
  }
  const std::uint64_t end = tsc_now();
  ping.value.store(kStop, std::memory_order_release);  // release: lets the echo thread leave early
  echo.join();
  if (done == 0) return 0;
  return static_cast<double>(end - start) / tsc_per_ns / static_cast<double>(done);
}

double memcpy_items_per_s(std::size_t bytes, std::size_t capacity, std::uint64_t items) {
  const std::size_t ring = bytes * capacity;
  std::vector<unsigned char> a(ring), b(ring);
  for (std::size_t i = 0; i < ring; ++i) a[i] = static_cast<unsigned char>(i * 131u);
  std::memcpy(b.data(), a.data(), ring);  // warm both buffers
  const std::uint64_t rounds = (items + capacity - 1) / capacity;
  const std::int64_t t0 = now_ns();
  for (std::uint64_t r = 0; r < rounds; ++r) {
    unsigned char* dst = (r & 1) ? a.data() : b.data();
    const unsigned char* src = (r & 1) ? b.data() : a.data();
    std::memcpy(dst, src, ring);
    asm volatile("" : : "r"(dst) : "memory");  // the copy must happen: nothing later reads it otherwise
  }
  const std::int64_t t1 = now_ns();
  if (a != b) throw std::runtime_error("memcpy floor: buffers differ after copying");
  return static_cast<double>(rounds * capacity) / (static_cast<double>(t1 - t0) / 1e9);
}

}  // namespace ringbench
