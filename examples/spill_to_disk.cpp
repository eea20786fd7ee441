// SPDX-License-Identifier: MIT
// SpillToDisk: a 4-slot ring that overflows into a spill file in a directory you choose; items come back in
// order once the consumer catches up. Link ringkit::spill.
#include <ringkit/spilling_queue.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include <stdlib.h>  // mkdtemp

// Runs the example in a fresh, uniquely named directory (mkdtemp), so two runs at once never share it.
static int run(const std::filesystem::path& dir);

int main() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ringkit-example-spill-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = tmpl;
  const int rc = run(dir);
  std::filesystem::remove_all(dir);
  return rc;
}

static int run(const std::filesystem::path& dir) {
  long expect = 0;
  unsigned long long spilled = 0;
  {
    ringkit::SpillingMpscQueue<long> q(4, ringkit::SpillOptions{.directory = dir});
    for (long i = 0; i < 1000; ++i) (void)q.push(i);
    spilled = q.stats().spilled;
    long v = 0;
    while (q.try_pop(v)) {
      if (v != expect) {
        std::printf("out of order: got %ld, expected %ld\n", v, expect);
        return 1;
      }
      ++expect;
    }
  }
  std::printf("1000 pushed, %llu went through the spill file, %ld came back in order\n", spilled, expect);
  return expect == 1000 && spilled > 0 ? 0 : 1;
}
