// SPDX-License-Identifier: MIT
// What each overflow policy does when the ring is full, shown on an 8-slot MpscQueue with nobody consuming:
// Block would wait (so it uses try_push here), DropNewest rejects the new item and counts it, DropOldest
// evicts the oldest unread item and counts it. Nothing is lost silently: stats() accounts for every item.
#include <ringkit/mpsc_queue.hpp>

#include <cstdio>

int main() {
  int failures = 0;

  ringkit::MpscQueue<int> block(8, ringkit::Overflow::Block);
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += block.try_push(i) ? 1 : 0;
  std::printf("Block:      try_push accepted %d of 20 (the caller keeps the rest)\n", accepted);
  failures += accepted != 8;

  ringkit::MpscQueue<int> newest(8, ringkit::Overflow::DropNewest);
  for (int i = 0; i < 20; ++i) (void)newest.push(i);
  std::printf("DropNewest: dropped %llu, first item still %d\n",
              static_cast<unsigned long long>(newest.stats().dropped), *newest.try_pop());
  failures += newest.stats().dropped != 12;

  ringkit::MpscQueue<int> oldest(8, ringkit::Overflow::DropOldest);
  for (int i = 0; i < 20; ++i) (void)oldest.push(i);
  const auto first = oldest.try_pop();
  std::printf("DropOldest: evicted %llu, oldest kept is %d\n",
              static_cast<unsigned long long>(oldest.stats().evicted), first.value_or(-1));
  failures += oldest.stats().evicted != 12 || first != 12;

  return failures == 0 ? 0 : 1;
}
