// SPDX-License-Identifier: MIT
#pragma once
// The one place ringkit parks a thread: a futex on a 32-bit word (Linux), with an optional timeout.
// Elsewhere it falls back to C++20 atomic wait/notify, and timed waits poll with short sleeps.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include <climits>
#if defined(__linux__)
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ringkit::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

// Blocks while `word == expected`, until woken, the timeout passes, or spuriously. Callers re-check.
// Returns true if a futex_wake() woke us (the waker then knows it woke us: see futex_wake's count);
// false if we did not sleep (the word differed), timed out or were interrupted. On other platforms
// always false (nobody counts wakes there).
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept {
#if defined(__linux__)
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout != std::chrono::nanoseconds::max()) {
    const auto ns = timeout.count() > 0 ? timeout.count() : 0;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  // The kernel compares the word with `expected` under its own lock, so a wake between our check and the
  // sleep is not lost. EINTR, EAGAIN and ETIMEDOUT all return to the caller's re-check loop.
  // 0 only when a FUTEX_WAKE dequeued us (the word is private to its BlockingWait, so no unrelated
  // wake can reach it).
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, tsp, nullptr,
                 0) == 0;
#else
  if (timeout == std::chrono::nanoseconds::max()) {
    // acquire: pairs with the release bump before futex_wake(); the caller re-checks anyway.
    word.wait(expected, std::memory_order_acquire);
  } else {
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(timeout, std::chrono::microseconds(50)));
  }
  return false;
#endif
}

// Wakes up to `count` threads blocked in futex_wait() on `word`; returns how many it woke (0 where
// unknown: other platforms).
inline int futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
#if defined(__linux__)
  const long woken =
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
  return woken > 0 ? static_cast<int>(woken) : 0;
#else
  if (count == 1) {
    word.notify_one();
  } else {
    word.notify_all();
  }
  return 0;
#endif
}

inline int futex_wake_all(std::atomic<std::uint32_t>& word) noexcept { return futex_wake(word, INT_MAX); }

}  // namespace ringkit::detail
