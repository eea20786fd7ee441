// SPDX-License-Identifier: MIT
// The README's ten-line example, extracted from README.md at configure time, compiled and run.
#include <ringkit/spsc_queue.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace {

int run_readme_example() {
#include "readme_example.inc"
  return sum;
}

TEST(Readme, TenLineExampleCompilesAndDeliversEveryItem) {
  EXPECT_EQ(run_readme_example(), 999 * 1000 / 2);
}

}  // namespace
