// SPDX-License-Identifier: MIT
#pragma once
// Thread helpers for the queue benchmarks: pin a thread to a CPU (round-robin over the machine's CPUs),
// and run a set of role functions on pinned threads, timing the whole transfer.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <ringkit/cpu.hpp>

namespace ringkit::bench {

// Pins the calling thread to CPU (index % ncpu), best effort: an unpinned thread still runs the benchmark.
inline void pin_to_cpu(unsigned index) {
  (void)ringkit::pin_this_thread(index % std::max(1u, std::thread::hardware_concurrency()));
}

// Runs every role on its own thread pinned to CPU (i % ncpu); all start together. Returns seconds from
// the start signal until the last one finished.
inline double run_roles(const std::vector<std::function<void()>>& roles) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    threads.emplace_back([&, i] {
      pin_to_cpu(static_cast<unsigned>(i));
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      roles[i]();
    });
  }
  while (ready.load() != static_cast<int>(roles.size())) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace ringkit::bench
