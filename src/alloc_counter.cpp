// SPDX-License-Identifier: MIT
// ringkit::alloc_counter: the program's counting global operator new/delete (<ringkit/alloc_counter.hpp>).
#define RINGKIT_ALLOC_COUNTER_DEFINE_OPERATORS
#include "ringkit/alloc_counter.hpp"
