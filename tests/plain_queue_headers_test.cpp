// SPDX-License-Identifier: MIT
// The plain queues compile no spill code: mpsc_queue.hpp and mpmc_queue.hpp (and spsc_queue.hpp) must
// pull in neither <mutex> nor <filesystem> (the spill layer needs both; detail/spill_layer.hpp), and a
// plain queue refuses Overflow::SpillToDisk with a message naming the spilling queue to use instead.
// The include checks come first, before anything else (GoogleTest itself includes <mutex>).
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/spsc_queue.hpp"

#if defined(_GLIBCXX_MUTEX) || defined(_LIBCPP_MUTEX)
#error "a plain queue header included <mutex> (spill code leaked into the lock-free core)"
#endif
#if defined(_GLIBCXX_FILESYSTEM) || defined(_LIBCPP_FILESYSTEM)
#error "a plain queue header included <filesystem> (spill code leaked into the lock-free core)"
#endif

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ringkit::test {
namespace {

template <class Q>
void spill_to_disk_is_refused_with_the_spilling_queue_named(const std::string& spilling) {
  try {
    Q q(8, Overflow::SpillToDisk);
    ADD_FAILURE() << "a plain queue accepted Overflow::SpillToDisk";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(spilling), std::string::npos) << e.what();
  }
}

TEST(PlainQueueHeaders, MpscQueueRefusesSpillToDiskAndNamesSpillingMpscQueue) {
  spill_to_disk_is_refused_with_the_spilling_queue_named<MpscQueue<long>>("SpillingMpscQueue");
}

TEST(PlainQueueHeaders, MpmcQueueRefusesSpillToDiskAndNamesSpillingMpmcQueue) {
  spill_to_disk_is_refused_with_the_spilling_queue_named<MpmcQueue<long>>("SpillingMpmcQueue");
}

}  // namespace
}  // namespace ringkit::test
