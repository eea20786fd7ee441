// SPDX-License-Identifier: MIT
// A work queue: 2 producers, 3 consumers on one MpmcQueue with the Blocking wait strategy. Each item is taken
// by exactly one consumer; the totals prove it.
#include <ringkit/mpmc_queue.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

int main() {
  constexpr long kPerProducer = 50'000;
  ringkit::MpmcQueue<long, ringkit::Blocking> q(256);
  std::atomic<long> sum{0}, count{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c) {
    consumers.emplace_back([&] {
      long v = 0, local_sum = 0, local_count = 0;
      while (q.pop(v)) {
        local_sum += v;
        ++local_count;
      }
      sum += local_sum;
      count += local_count;
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&] {
      for (long i = 1; i <= kPerProducer; ++i) (void)q.push(i);
    });
  }
  for (auto& t : producers) t.join();
  q.close();  // consumers drain what is left, then pop() returns false
  for (auto& t : consumers) t.join();
  std::printf("consumed %ld items, sum %ld\n", count.load(), sum.load());
  return count == 2 * kPerProducer && sum == 2 * (kPerProducer * (kPerProducer + 1) / 2) ? 0 : 1;
}
