// SPDX-License-Identifier: MIT
#pragma once
// Summaries over repeats, and the rule that decides whether the VM's host moved the vCPUs during a run.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace ringbench {

struct Summary {
  double median = 0, min = 0, max = 0;
  std::size_t n = 0;
};

// Median (mean of the middle two for an even count), min and max; n == 0 for no values.
inline Summary summarize(std::vector<double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

// The core-to-core round trip measured before and after a run differs by more than `ratio`
// (and by more than `min_delta_ns`, so sub-noise jitter on a fast machine does not count).
inline bool probe_moved(double before_ns, double after_ns, double ratio = 1.5, double min_delta_ns = 40) {
  if (!(before_ns > 0) || !(after_ns > 0)) return true;
  const double lo = std::min(before_ns, after_ns), hi = std::max(before_ns, after_ns);
  return hi / lo > ratio && hi - lo > min_delta_ns;
}

}  // namespace ringbench
