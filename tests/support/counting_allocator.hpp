// SPDX-License-Identifier: MIT
#pragma once
// The counting global allocator for ringkit's own tests: <ringkit/alloc_counter.hpp> with its operators
// defined here. Include this header in exactly ONE translation unit of a test executable: it replaces the
// global operator new/delete for that whole program. Tests then bracket a hot path with AllocationCounter
// and assert that nothing was allocated.
#define RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS
#include "ringkit/alloc_counter.hpp"

namespace ringkit::test {
using ringkit::AllocationCounter;
}  // namespace ringkit::test
