// SPDX-License-Identifier: MIT
// A user's translation unit built with `-fsanitize=thread -Werror` (tests/install_consumer/tsan_consumer.cmake):
// every queue with every wait strategy, so each fence and atomic in the headers is instantiated. It must
// compile without a warning: users' TSan builds cannot pass -Wno-tsan for us.
#include <ringkit/mpmc_queue.hpp>
#include <ringkit/mpsc_queue.hpp>
#include <ringkit/spsc_queue.hpp>
#include <ringkit/wait/blocking.hpp>
#include <ringkit/wait/busy_spin.hpp>
#include <ringkit/wait/sleeping.hpp>
#include <ringkit/wait/yielding.hpp>

template <template <class, class> class Queue, class Wait>
int round_trip() {
  Queue<int, Wait> q(8);
  int v = 0;
  if (!q.try_push(1) || !q.try_pop(v)) return 1;
  return v == 1 ? 0 : 1;
}

template <class Wait>
int every_queue() {
  return round_trip<ringkit::SpscQueue, Wait>() + round_trip<ringkit::MpscQueue, Wait>() +
         round_trip<ringkit::MpmcQueue, Wait>();
}

int main() {
  return every_queue<ringkit::Blocking>() + every_queue<ringkit::BusySpin>() + every_queue<ringkit::Yielding>() +
         every_queue<ringkit::Sleeping>();
}
