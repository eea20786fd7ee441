// SPDX-License-Identifier: MIT
// The Blocking/Parking strategy's bookkeeping (issue 8): a waiter that returns early un-counts itself,
// a notify() wakes ONE parked waiter (not every one), notify_all() wakes all, and a woken waiter is
// un-counted exactly once. The protocol itself is model-checked in tests/model/blocking_wait.pml; the
// lost-wake-up hunt on real queues is tests/wait_strategy_stress_test.cpp.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
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

// The waker-side grace (blocking.hpp, detail::woke_a_peer): granted by a wake that woke exactly one
// parked thread, on Blocking only; taken by the waker's very next wait on any strategy, so a grant never
// waits around for an unrelated wait much later; and while granted, a wait polls past its spin phase
// instead of registering to park.

// True once thread `tid` of this process is inside futex(2), per /proc/self/task/TID/syscall (Linux).
// nullopt if that file cannot be read here.
std::optional<bool> in_futex_syscall(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  if (!f) return std::nullopt;
  long nr = -1;
  return (f >> nr) && nr == SYS_futex;
}

// Parks `parked` threads on `w` (each parked in futex_wait when the wake comes, checked through /proc, or
// after 20 ms where /proc cannot say), then calls `wake(w)` from this thread; returns this thread's grant
// right after the wake. Clears the grant first.
template <class W, class Wake>
bool grant_after_waking_parked_threads(W& w, int parked, Wake wake) {
  detail::woke_a_peer = false;
  std::atomic<bool> go{false};
  std::vector<std::atomic<pid_t>> tids(static_cast<std::size_t>(parked));
  std::vector<std::thread> waiters;
  for (int k = 0; k < parked; ++k) {
    waiters.emplace_back([&, k] {
      // release: pairs with the acquire load below that reads the tid.
      tids[static_cast<std::size_t>(k)].store(static_cast<pid_t>(syscall(SYS_gettid)), std::memory_order_release);
      w.wait([&] { return go.load(std::memory_order_acquire); });  // acquire: pairs with the release of `go`
    });
  }
  for (auto& t : tids) {
    pid_t tid = 0;
    // acquire: pairs with the waiter's release store of its tid.
    while ((tid = t.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      const std::optional<bool> in = in_futex_syscall(tid);
      if (!in) {
        std::this_thread::sleep_for(20ms);  // no /proc view: past the registration into futex_wait
        break;
      }
      if (*in && w.waiters() >= static_cast<std::uint32_t>(parked)) break;
      if (std::chrono::steady_clock::now() > give_up) break;
      std::this_thread::sleep_for(1ms);
    }
  }
  go.store(true, std::memory_order_release);  // release: pairs with the acquire in the waiters
  wake(w);
  const bool granted = detail::woke_a_peer;
  for (auto& t : waiters) t.join();
  return granted;
}

TEST(BlockingWakeGrace, IsGrantedByANotifyThatWokeAParkedThreadAndTakenByTheNextWait) {
  Watchdog dog("IsGrantedByANotifyThatWokeAParkedThreadAndTakenByTheNextWait");
  Blocking w;
  bool granted = false;
  // A round whose waiter had not reached futex_wait yet wakes nobody (and grants nothing): retry.
  for (int round = 0; round < 20 && !granted; ++round) {
    granted = grant_after_waking_parked_threads(w, 1, [](Blocking& b) { b.notify(); });
  }
  ASSERT_TRUE(granted) << "20 notify() calls, each on a parked thread, never woke it";
  w.wait([] { return true; });  // ready at once: the spin phase returns
  EXPECT_FALSE(detail::woke_a_peer) << "a wait that needed no grace left the grant for a later one";
}

// The grace itself: the wait after a grant polls past its spin phase (kPauses + kYields + 1 polls without
// a deadline) instead of registering as a waiter. Without the grant the same wait registers.
TEST(BlockingWakeGrace, AGrantedWaitPollsPastItsSpinPhaseWithoutRegistering) {
  Watchdog dog("AGrantedWaitPollsPastItsSpinPhaseWithoutRegistering");
  Blocking w;
  constexpr unsigned kPastTheSpinPhase = Blocking::kPauses + Blocking::kYields + 100;
  auto polls_until_past_spin_phase = [&](bool& registered) {
    unsigned calls = 0;
    w.wait([&] {
      if (w.waiters() != 0) {  // reached W1 (registered to park): the re-check returns, nobody hangs
        registered = true;
        return true;
      }
      return ++calls > kPastTheSpinPhase;
    });
  };
  bool registered = false;
  detail::woke_a_peer = true;
  polls_until_past_spin_phase(registered);
  EXPECT_FALSE(registered) << "a granted wait registered to park at the end of its spin phase";
  registered = false;
  polls_until_past_spin_phase(registered);  // no grant now
  EXPECT_TRUE(registered) << "control: without a grant the wait registers after its spin phase";
}

TEST(BlockingWakeGrace, IsNeverGrantedByWakingSeveralThreadsOrByParking) {
  Watchdog dog("IsNeverGrantedByWakingSeveralThreadsOrByParking");
  Blocking b;
  Parking p;
  for (int round = 0; round < 3; ++round) {
    EXPECT_FALSE(grant_after_waking_parked_threads(b, 2, [](Blocking& w) { w.notify_all(); }));
    EXPECT_FALSE(grant_after_waking_parked_threads(p, 1, [](Parking& w) { w.notify(); }));
  }
}

TEST(BlockingWakeGrace, AStaleGrantIsDroppedByTheNextWaitOnAnyStrategy) {
  detail::woke_a_peer = true;
  BlockingWait<1000> other;  // another spin length: another instantiation, the same per-thread grant
  other.wait([] { return true; });
  EXPECT_FALSE(detail::woke_a_peer);
  detail::woke_a_peer = true;
  Parking parking;  // no grace of its own, but it takes the grant too
  parking.wait([] { return true; });
  EXPECT_FALSE(detail::woke_a_peer);
}

}  // namespace
}  // namespace ringkit::test
