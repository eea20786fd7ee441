// SPDX-License-Identifier: MIT
// Compiled by the install test with only `pkg-config --cflags --libs ringkit-spill`: the installed .pc files
// must give everything a plain Makefile user needs.
#include <ringkit/spsc_queue.hpp>
#include <ringkit/version.hpp>

#include <cstdio>

static_assert(RINGKIT_VERSION >= 200, "version macros present");

int main() {
  ringkit::SpscQueue<int> q(4);
  (void)q.try_push(RINGKIT_VERSION_MAJOR + 1);
  int x = 0;
  std::printf("ringkit %s\n", RINGKIT_VERSION_STRING);
  return q.try_pop(x) && x == RINGKIT_VERSION_MAJOR + 1 ? 0 : 1;
}
