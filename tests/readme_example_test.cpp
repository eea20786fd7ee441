// The README's ten-line example, extracted from README.md at configure time, compiled and run.
#include <ringkit/spsc_queue.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace {

int run_readme_example() {
#include "readme_example.inc"
  return sum;
}

TEST(Readme, ten_line_example_compiles_and_delivers_every_item) {
  EXPECT_EQ(run_readme_example(), 999 * 1000 / 2);
}

}  // namespace
