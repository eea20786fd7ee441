// A downstream project: uses the installed headers through find_package(ringkit).
#include <ringkit/spsc_queue.hpp>

#include <cstdio>
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
  std::printf("sum=%ld\n", sum);
  return sum == 500500 ? 0 : 1;
}
