// MpscQueue unit suite: every case of slot_queue_cases.hpp, for every wait strategy.
// The Blocking strategy's StoreLoad fence (detail/fence.hpp) draws GCC's -Wtsan ("atomic_thread_fence is
// not supported with -fsanitize=thread") in TSan builds; fence.hpp documents why that is safe. The
// pragma must precede the first #include of <atomic>.
#pragma GCC diagnostic ignored "-Wtsan"
#include "slot_queue_cases.hpp"

namespace ringkit::test {
using MpscConfigs = ::testing::Types<MpscCfg<Yielding>, MpscCfg<BusySpin>, MpscCfg<Sleeping>, MpscCfg<Blocking>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Mpsc, SlotQueueTest, MpscConfigs);

// MPSC-specific: the single-consumer pop path is the cheap one (no CAS) except under DropOldest.
TEST(MpscQueue, SingleConsumerSurface) {
  MpscQueue<int> q(4);
  static_assert(std::is_same_v<MpscQueue<int>::wait_strategy, Yielding>);
  EXPECT_EQ(q.overflow(), Overflow::Block);
  MpscQueue<int> d(4, Overflow::DropOldest);
  EXPECT_EQ(d.overflow(), Overflow::DropOldest);
}
}  // namespace ringkit::test
