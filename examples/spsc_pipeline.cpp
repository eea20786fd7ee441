// SPDX-License-Identifier: MIT
// One producer, one consumer, a Blocking wait strategy: the consumer sleeps in the kernel while the ring is
// empty instead of spinning. close() ends the stream; pop() drains what is left, then returns false.
#include <ringkit/spsc_queue.hpp>

#include <cstdio>
#include <thread>

int main() {
  ringkit::SpscQueue<long, ringkit::Blocking> q(1024);
  std::thread producer([&] {
    for (long i = 1; i <= 100'000; ++i) (void)q.push(i);
    q.close();
  });
  long sum = 0, count = 0, v = 0;
  while (q.pop(v)) {
    sum += v;
    ++count;
  }
  producer.join();
  std::printf("received %ld items, sum %ld\n", count, sum);
  return count == 100'000 && sum == 100'000L * 100'001 / 2 ? 0 : 1;
}
