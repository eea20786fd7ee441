// SPDX-License-Identifier: MIT
// Batches without copies on an SpscQueue: the producer claims up to 64 slots, writes them in place and
// publishes them with one store (try_claim + commit); the consumer reads them in place (consume) and frees
// them with one store.
#include <ringkit/spsc_queue.hpp>

#include <cstdio>
#include <thread>

int main() {
  constexpr long kItems = 1'000'000;
  ringkit::SpscQueue<long> q(4096);
  std::thread producer([&] {
    long next = 0;
    while (next < kItems) {
      auto spans = q.try_claim(64);
      std::size_t written = 0;
      for (auto span : {spans.first, spans.second}) {
        for (long& slot : span) {
          if (next + static_cast<long>(written) >= kItems) break;
          slot = next + static_cast<long>(written);
          ++written;
        }
      }
      q.commit(written);
      next += static_cast<long>(written);
    }
    q.close();
  });
  long expect = 0;
  bool in_order = true;
  while (!(q.closed() && q.empty())) {
    q.consume(256, [&](long& v) { in_order = in_order && v == expect++; });
  }
  producer.join();
  std::printf("consumed %ld items in place, in order: %s\n", expect, in_order ? "yes" : "no");
  return expect == kItems && in_order ? 0 : 1;
}
