// SPDX-License-Identifier: MIT
#pragma once
// Machine-facing helpers: pinning, the TSC clock, the core-to-core ping-pong (the RTT floor and the
// before/after probe) and the memcpy floor.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ringbench/latency_recorder.hpp"

namespace ringbench {

// Pins the calling thread to `core` (ringkit::pin_this_thread); core < 0 leaves it alone. Throws on error.
void pin_this_thread(int core);

std::int64_t now_ns() noexcept;  // steady_clock
std::uint64_t tsc_now() noexcept;  // serialized rdtsc on x86 (steady_clock ns elsewhere)
double calibrate_tsc_per_ns();  // ~20 ms; 1.0 where tsc_now() is already ns

// Cache-line ping-pong between `core_a` (the calling thread, pinned there) and a helper thread on
// `core_b`: up to `round_trips` timed round trips (after a short warm-up) go into `rec` when given,
// stopping early after `max_seconds` (0: never). Returns the mean round trip in ns (0 if none finished).
double cacheline_pingpong(int core_a, int core_b, std::uint64_t round_trips, double tsc_per_ns,
                          LatencyRecorder* rec, double max_seconds = 0);

// Copies `items` items of `bytes` bytes between two ring-sized buffers (capacity items each), pinned to
// the calling thread's core; returns items per second.
double memcpy_items_per_s(std::size_t bytes, std::size_t capacity, std::uint64_t items);

}  // namespace ringbench
