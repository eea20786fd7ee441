// SPDX-License-Identifier: MIT
// The Blocking/Parking strategy's bookkeeping (issue 8): a waiter that returns early un-counts itself,
// a notify() wakes ONE parked waiter (not every one), notify_all() wakes all, and a woken waiter is
// un-counted exactly once. The protocol itself is model-checked in tests/model/blocking_wait.pml; the
// lost-wake-up hunt on real queues is tests/wait_strategy_stress_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ringkit/mpmc_queue.hpp"
#include "ringkit/spsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"
#include "stress_support.hpp"

namespace ringkit::test {
namespace {

using namespace std::chrono_literals;

// Waits (polling, generously) until pred() holds; false after `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

TEST(BlockingWait, WaiterThatReturnsEarlyUnCountsItself) {
  Parking w;  // no spin phase: call 1 is the spin check, call 2 is the re-check after arming (W4)
  int calls = 0;
  EXPECT_TRUE(w.wait_until([&] { return ++calls >= 2; }, std::chrono::steady_clock::time_point::max()));
  EXPECT_EQ(calls, 2) << "returned at the re-check after arming";
  EXPECT_EQ(w.waiters(), 0u) << "a waiter that returned early left its registration behind";
  Blocking b;
  int polls = 0;
  b.wait([&] { return ++polls >= 3; });  // during the spin phase: never armed
  EXPECT_EQ(b.waiters(), 0u);
}

TEST(BlockingWait, TimedOutWaiterUnCountsItself) {
  Parking w;
  EXPECT_FALSE(w.wait_until([] { return false; }, std::chrono::steady_clock::now() + 5ms));
  EXPECT_EQ(w.waiters(), 0u);
}

// Two threads park on one strategy; one "item" and one notify() must wake exactly one of them.
TEST(BlockingWait, NotifyWakesOneParkedWaiterNotAll) {
  Watchdog dog("NotifyWakesOneParkedWaiterNotAll");
  Parking w;
  std::atomic<int> tokens{0};
  std::atomic<int> checks[2] = {0, 0};  // predicate evaluations per thread
  std::atomic<int> taken{0};
  auto take = [&](int me) {
    return [&, me] {
      checks[me]++;
      int t = tokens.load();
      while (t > 0) {
        if (tokens.compare_exchange_weak(t, t - 1)) return true;
      }
      return false;
    };
  };
  std::vector<std::thread> threads;
  for (int me = 0; me < 2; ++me) {
    threads.emplace_back([&, me] {
      w.wait(take(me));
      taken++;
    });
  }
  ASSERT_TRUE(eventually([&] { return w.waiters() == 2; })) << "both threads registered";
  std::this_thread::sleep_for(20ms);  // let both reach the futex
  const int before = checks[0].load() + checks[1].load();
  tokens = 1;
  w.notify();
  ASSERT_TRUE(eventually([&] { return taken.load() == 1; }));
  std::this_thread::sleep_for(50ms);  // a second, needless wake would show as another check
  EXPECT_EQ(checks[0].load() + checks[1].load(), before + 1) << "notify() woke more than one waiter";
  EXPECT_EQ(w.waiters(), 1u) << "the woken waiter is un-counted once, the other still counted";
  tokens = 1;
  w.notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 2);
  EXPECT_EQ(w.waiters(), 0u);
}

TEST(BlockingWait, NotifyAllWakesEveryParkedWaiter) {
  Watchdog dog("NotifyAllWakesEveryParkedWaiter");
  Parking w;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { w.wait([&] { return go.load(); }); });
  ASSERT_TRUE(eventually([&] { return w.waiters() == 3; }));
  go = true;
  w.notify_all();
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.waiters(), 0u);
}

// On a queue: a consumer parked in pop() of a fresh SpscQueue<Blocking> gets a later push (the first
// park of the process; membarrier is registered at construction, not here).
TEST(BlockingWait, FirstParkOfAFreshQueueIsWoken) {
  Watchdog dog("FirstParkOfAFreshQueueIsWoken");
  SpscQueue<int, Parking> q(4);
  std::thread consumer([&] {
    int v = 0;
    ASSERT_TRUE(q.pop(v));
    EXPECT_EQ(v, 7);
  });
  std::this_thread::sleep_for(5ms);
  ASSERT_EQ(q.push(7), PushResult::Pushed);
  consumer.join();
}

// The waker-side grace (blocking.hpp, detail::woke_a_peer): granted by a notify() that woke a parked
// thread, on Blocking only, never by notify_all(); taken by the waker's very next wait, so a grant never
// waits around for an unrelated wait much later.

// Parks a thread on `w`, then wakes it with `wake(w)` from this thread; returns this thread's grant right
// after the wake. Clears the grant first.
template <class W, class Wake>
bool grant_after_waking_a_parked_thread(W& w, Wake wake) {
  detail::woke_a_peer = false;
  std::atomic<bool> go{false};
  // acquire: pairs with the release store of `go` below.
  std::thread waiter([&] { w.wait([&] { return go.load(std::memory_order_acquire); }); });
  while (w.waiters() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // past the registration (W1) into futex_wait
  go.store(true, std::memory_order_release);  // release: pairs with the acquire in the waiter
  wake(w);
  const bool granted = detail::woke_a_peer;
  waiter.join();
  return granted;
}

TEST(BlockingWakeGrace, IsGrantedByANotifyThatWokeAParkedThreadAndTakenByTheNextWait) {
  Watchdog dog("IsGrantedByANotifyThatWokeAParkedThreadAndTakenByTheNextWait");
  Blocking w;
  bool granted = false;
  // A round whose waiter had not reached futex_wait yet wakes nobody (and grants nothing): retry.
  for (int round = 0; round < 20 && !granted; ++round) {
    granted = grant_after_waking_a_parked_thread(w, [](Blocking& b) { b.notify(); });
  }
  ASSERT_TRUE(granted) << "20 notify() calls, each after a 20 ms park, never woke the parked thread";
  w.wait([] { return true; });  // ready at once: the spin phase returns
  EXPECT_FALSE(detail::woke_a_peer) << "a wait that needed no grace left the grant for a later one";
}

TEST(BlockingWakeGrace, IsNeverGrantedByNotifyAllOrByParking) {
  Watchdog dog("IsNeverGrantedByNotifyAllOrByParking");
  Blocking b;
  Parking p;
  for (int round = 0; round < 3; ++round) {
    EXPECT_FALSE(grant_after_waking_a_parked_thread(b, [](Blocking& w) { w.notify_all(); }));
    EXPECT_FALSE(grant_after_waking_a_parked_thread(p, [](Parking& w) { w.notify(); }));
  }
}

TEST(BlockingWakeGrace, AStaleGrantIsDroppedByTheNextWaitOnAnyBlockingStrategy) {
  detail::woke_a_peer = true;
  BlockingWait<1000> other;  // another spin length: another instantiation, the same per-thread grant
  other.wait([] { return true; });
  EXPECT_FALSE(detail::woke_a_peer);
}

}  // namespace
}  // namespace ringkit::test
