// SPDX-License-Identifier: MIT
#pragma once
// Deadlines for the timed calls (try_push_for / try_pop_for) of every queue.
#include <chrono>

namespace ringkit::detail {

// now + timeout, saturating at time_point::max(); a zero or negative timeout is "now". Compared in long
// double nanoseconds, so a narrow Rep (e.g. duration<int, std::micro>) can never overflow into a
// negative limit and turn a bounded wait into "wait forever".
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
  const auto now = std::chrono::steady_clock::now();
  if (timeout <= timeout.zero()) return now;
  using wide = std::chrono::duration<long double, std::nano>;
  if (wide(timeout) >= wide(std::chrono::steady_clock::time_point::max() - now)) {
    return std::chrono::steady_clock::time_point::max();
  }
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

}  // namespace ringkit::detail
