// SPDX-License-Identifier: MIT
#pragma once
// Every contender ringbench knows, in report order.
#include <string>
#include <vector>

#include "run_spec.hpp"

namespace ringbench {

struct Contender {
  std::string name;
  std::string family;  // "ringkit" rows are highlighted
  unsigned caps = 0;   // ringbench::Caps
  RunOutcome (*throughput)(const RunSpec&) = nullptr;
  RunOutcome (*latency)(const RunSpec&) = nullptr;
  RunOutcome (*idle)(const RunSpec&) = nullptr;
};

const std::vector<Contender>& all_contenders();
const Contender* find_contender(const std::string& name);
bool have_ringkit_mp();  // ringkit MpscQueue/MpmcQueue were in the tree at build time

}  // namespace ringbench
