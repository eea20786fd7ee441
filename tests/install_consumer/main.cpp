// SPDX-License-Identifier: MIT
// A downstream project: uses the installed headers and the installed spill library through
// find_package(ringkit).
#include <ringkit/mpsc_queue.hpp>
#include <ringkit/spilling_queue.hpp>
#include <ringkit/spsc_queue.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>

int main() {
  ringkit::SpscQueue<int> q(8);
  std::thread producer([&] {
    for (int i = 1; i <= 1000; ++i) (void)q.push(i);
    q.close();
  });
  long sum = 0;
  int x = 0;
  while (q.pop(x)) sum += x;
  producer.join();

  // SpillToDisk: 4 slots, 100 items; the rest goes through the spill file and comes back in order.
  const auto dir = std::filesystem::temp_directory_path();
  ringkit::SpillingMpscQueue<long> spilling(4, ringkit::SpillOptions{.directory = dir});
  for (long i = 0; i < 100; ++i) (void)spilling.push(i);
  long expect = 0, v = 0;
  while (spilling.try_pop(v)) {
    if (v != expect++) return 2;
  }
  std::printf("sum=%ld spilled=%llu\n", sum, static_cast<unsigned long long>(spilling.stats().spilled));
  return sum == 500500 && expect == 100 ? 0 : 1;
}
