// SPDX-License-Identifier: MIT
// MpmcQueue unit suite: every case of slot_queue_cases.hpp, for every wait strategy.
#include "slot_queue_cases.hpp"

namespace ringkit::test {
using MpmcConfigs = ::testing::Types<MpmcCfg<Yielding>, MpmcCfg<BusySpin>, MpmcCfg<Sleeping>, MpmcCfg<Blocking>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Mpmc, SlotQueueTest, MpmcConfigs);

TEST(MpmcQueue, TwoConsumersSplitOneProducer) {
  MpmcQueue<long> q(4);
  const long kN = static_cast<long>(scaled(20000));
  std::atomic<long> sum{0}, count{0};
  auto consume = [&] {
    long v = 0, last = -1;
    while (q.pop(v)) {
      EXPECT_GT(v, last);  // per-producer FIFO as seen by each consumer
      last = v;
      sum += v;
      count++;
    }
  };
  std::thread c1(consume), c2(consume);
  for (long i = 0; i < kN; ++i) ASSERT_EQ(q.push(i), PushResult::Pushed);
  q.close();
  c1.join();
  c2.join();
  EXPECT_EQ(count.load(), kN);
  EXPECT_EQ(sum.load(), kN * (kN - 1) / 2);
}
}  // namespace ringkit::test
