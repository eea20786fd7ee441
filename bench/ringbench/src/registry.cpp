// SPDX-License-Identifier: MIT
// The contender registry: one line per contender (see include/ringbench/contender.hpp for the adapter).
#include "registry.hpp"

#include <stdexcept>

#include "../contenders/atomic_queue.hpp"
#include "../contenders/boost_queue.hpp"
#include "../contenders/boost_spsc.hpp"
#include "../contenders/moodycamel_bcq.hpp"
#include "../contenders/moodycamel_brwcb.hpp"
#include "../contenders/moodycamel_cq.hpp"
#include "../contenders/moodycamel_cq_token.hpp"
#include "../contenders/moodycamel_cq_token_enqueue.hpp"
#include "../contenders/moodycamel_rwq.hpp"
#include "../contenders/mutex_channel.hpp"
#include "../contenders/ringkit_lanes.hpp"
#include "../contenders/ringkit_mp.hpp"
#include "../contenders/ringkit_spsc.hpp"
#include "../contenders/tbb_bounded.hpp"
#include "../contenders/xenium_vyukov.hpp"
#include "runners.hpp"

namespace ringbench {
namespace {

template <template <class> class A>
RunOutcome throughput_dispatch(const RunSpec& s) {
  switch (s.bytes) {
    case 8: return run_throughput<A, 8>(s);
    case 64: return run_throughput<A, 64>(s);
    case 256: return run_throughput<A, 256>(s);
    default: throw std::invalid_argument("item size " + std::to_string(s.bytes) + " is not one of 8, 64, 256");
  }
}

template <template <class> class A>
Contender make() {
  using Probe = A<Item<8>>;
  return Contender{Probe::kName, Probe::kFamily, Probe::kCaps, &throughput_dispatch<A>, &run_latency<A>, &run_idle<A>};
}

std::vector<Contender> build() {
  using namespace contenders;
  return {
      make<RingkitSpscYielding>(),
      make<RingkitSpscBusySpin>(),
      make<RingkitSpscSleeping>(),
      make<RingkitSpscBlocking>(),
      make<RingkitSpscTry>(),
#ifdef RINGBENCH_HAVE_RINGKIT_MP
      make<RingkitMpscYielding>(),
      make<RingkitMpscBusySpin>(),
      make<RingkitMpscBlocking>(),
      make<RingkitMpmcYielding>(),
      make<RingkitMpmcBusySpin>(),
      make<RingkitMpmcBlocking>(),
#endif
#ifdef RINGBENCH_HAVE_RINGKIT_LANES
      make<RingkitMpscLanes>(),
#endif
      make<BoostSpsc>(),
      make<BoostQueue>(),
      make<MoodycamelRwq>(),
      make<MoodycamelBrwcb>(),
      make<MoodycamelCq>(),
      make<MoodycamelCqToken>(),
      make<MoodycamelCqTokenEnqueue>(),
      make<MoodycamelBcq>(),
      make<AtomicQueueB2>(),
      make<OptimistAtomicQueueB2>(),
      make<AtomicQueueB2Spsc>(),
      make<OptimistAtomicQueueB2Spsc>(),
      make<TbbBounded>(),
      make<XeniumVyukov>(),
      make<MutexChannel>(),
  };
}

}  // namespace

const std::vector<Contender>& all_contenders() {
  static const std::vector<Contender> all = build();
  return all;
}

bool have_ringkit_mp() {
#ifdef RINGBENCH_HAVE_RINGKIT_MP
  return true;
#else
  return false;
#endif
}

const Contender* find_contender(const std::string& name) {
  for (const auto& c : all_contenders()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace ringbench
