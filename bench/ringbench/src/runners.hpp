// SPDX-License-Identifier: MIT
#pragma once
// The measured bodies, templated over the adapter: throughput (P producers x C consumers, single ops or
// batches) and round-trip latency (ping-pong over two queues). Both check every item they receive.
#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>

#include "platform.hpp"
#include "ringbench/contender.hpp"
#include "ringbench/item.hpp"
#include "ringbench/latency_recorder.hpp"
#include "ringbench/sequence_checker.hpp"
#include "run_spec.hpp"

namespace ringbench {

namespace detail {

// Collects the first exception any benchmark thread throws, so the run reports ERROR instead of dying.
class FirstError {
 public:
  void capture(const std::exception& e) {
    std::lock_guard lock(mutex_);
    if (message_.empty()) message_ = e.what();
  }
  std::string message() {
    std::lock_guard lock(mutex_);
    return message_;
  }

 private:
  std::mutex mutex_;
  std::string message_;
};

inline void wait_for(const std::atomic<bool>& flag) {
  Backoff b;
  while (!flag.load(std::memory_order_acquire)) b.pause();  // acquire: pairs with the release that starts the run
}

template <std::size_t N, class H>
void produce(H& h, std::uint64_t producer, std::uint64_t per, unsigned batch) {
  using T = Item<N>;
  if (batch <= 1) {
    for (std::uint64_t i = 0; i < per; ++i) h.push(make_item<N>(producer, i));
    return;
  }
  if constexpr (!requires(H& x, std::span<T> sp) { x.try_push_batch(sp); }) {
    throw std::runtime_error("this contender has no batch push");
  } else {
  std::vector<T> buf(batch);
  for (std::uint64_t i = 0; i < per;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(batch, per - i));
    for (std::size_t k = 0; k < n; ++k) buf[k] = make_item<N>(producer, i + k);
    std::size_t done = 0;
    Backoff b;
    while (done < n) {
      const std::size_t m = h.try_push_batch(std::span<T>(buf.data() + done, n - done));
      if (m == 0) {
        b.pause();
      } else {
        done += m;
        b.reset();
      }
    }
    i += n;
  }
  }
}

// The slow consumer's per-item work: `n` dependent multiply-adds on the item's tag (a chain the CPU
// cannot overlap, ~3-4 cycles each), kept alive through an empty asm so the compiler cannot drop it.
inline void burn(std::uint64_t seed, unsigned n) noexcept {
  std::uint64_t x = seed;
  for (unsigned i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    asm volatile("" : "+r"(x));
  }
}

// Pops exactly `count` items into `check`; with work > 0, burns `work` multiply-adds per item.
template <std::size_t N, class H>
void consume(H& h, std::uint64_t count, unsigned batch, std::vector<Item<N>>& buf, SequenceChecker& check, bool& torn,
             unsigned work = 0) {
  using T = Item<N>;
  const auto take = [&](const T& x) {
    if (!item_intact(x)) torn = true;
    (void)check.observe(producer_of(x.tag), index_of(x.tag));
    if (work) burn(x.tag, work);
  };
  if (batch <= 1) {
    T x{};
    for (std::uint64_t i = 0; i < count; ++i) {
      h.pop(x);
      take(x);
    }
    return;
  }
  if constexpr (!requires(H& x, std::span<T> sp) { x.try_pop_batch(sp); }) {
    throw std::runtime_error("this contender has no batch pop");
  } else {
  Backoff b;
  for (std::uint64_t got = 0; got < count;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(batch, count - got));
    const std::size_t n = h.try_pop_batch(std::span<T>(buf.data(), want));
    if (n == 0) {
      b.pause();
      continue;
    }
    b.reset();
    for (std::size_t k = 0; k < n; ++k) take(buf[k]);
    got += n;
  }
  }
}

}  // namespace detail

template <template <class> class A, std::size_t N>
RunOutcome run_throughput(const RunSpec& s) {
  using T = Item<N>;
  using Q = A<T>;
  RunOutcome out;
  const unsigned P = s.producers, C = s.consumers;
  const std::uint64_t per = s.items, total = per * P;
  if (s.batch > 1 && !(Q::kCaps & kBatch)) throw std::runtime_error(std::string(Q::kName) + " has no batch API");
  auto q = std::make_unique<Q>(s.capacity, P, C);
  // Order is checked where the queue promises it; exactly-once always.
  const auto mode = !(Q::kCaps & kPerProducerFifo) ? SequenceChecker::Mode::Unordered
                    : C == 1                        ? SequenceChecker::Mode::Contiguous
                                                    : SequenceChecker::Mode::Increasing;
  std::vector<SequenceChecker> checkers;
  checkers.reserve(C);
  for (unsigned c = 0; c < C; ++c) checkers.emplace_back(P, per, mode);
  std::vector<char> torn(C, 0);
  std::vector<std::int64_t> end_ns(C, 0);
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> claimed{0};
  detail::FirstError error;
  constexpr std::uint64_t kClaim = 64;

  std::vector<std::thread> threads;
  for (unsigned p = 0; p < P; ++p) {
    threads.emplace_back([&, p] {
      try {
        pin_this_thread(s.core_a);
        with_producer(*q, [&](auto& h) {
          ready.fetch_add(1);
          detail::wait_for(go);
          detail::produce<N>(h, p, per, s.batch);
        });
      } catch (const std::exception& e) {
        error.capture(e);
      }
    });
  }
  for (unsigned c = 0; c < C; ++c) {
    threads.emplace_back([&, c] {
      try {
        pin_this_thread(s.core_b);
        std::vector<T> buf(std::max(1u, s.batch));
        bool is_torn = false;
        with_consumer(*q, [&](auto& h) {
          ready.fetch_add(1);
          detail::wait_for(go);
          if (C == 1) {
            detail::consume<N>(h, total, s.batch, buf, checkers[c], is_torn, s.work);
          } else {
            // Claim items in chunks, so each consumer pops exactly as many items as exist for it.
            for (;;) {
              const std::uint64_t base = claimed.fetch_add(kClaim, std::memory_order_relaxed);  // relaxed: a ticket counter
              if (base >= total) break;
              detail::consume<N>(h, std::min(kClaim, total - base), s.batch, buf, checkers[c], is_torn, s.work);
            }
          }
        });
        end_ns[c] = now_ns();
        torn[c] = is_torn ? 1 : 0;
      } catch (const std::exception& e) {
        error.capture(e);
      }
    });
  }
  while (ready.load() < P + C) std::this_thread::yield();
  const std::int64_t t0 = now_ns();
  go.store(true, std::memory_order_release);  // release: pairs with the acquire in wait_for()
  for (auto& t : threads) t.join();
  if (auto e = error.message(); !e.empty()) {
    out.status = "ERROR";
    out.error = e;
    return out;
  }
  const std::int64_t t1 = *std::max_element(end_ns.begin(), end_ns.end());
  out.seconds = static_cast<double>(t1 - t0) / 1e9;
  if (std::find(torn.begin(), torn.end(), 1) != torn.end()) {
    out.status = "FAILED";
    out.error = "torn payload: an item's check word did not match its tag";
  } else if (auto v = SequenceChecker::verify(checkers)) {
    out.status = "FAILED";
    out.error = *v;
  } else {
    out.metrics.emplace_back("items_per_s", static_cast<double>(total) / out.seconds);
  }
  return out;
}

inline void add_latency_metrics(RunOutcome& out, const LatencyRecorder& rec) {
  out.metrics.emplace_back("rtt_p50_ns", static_cast<double>(rec.percentile(50)));
  out.metrics.emplace_back("rtt_p99_ns", static_cast<double>(rec.percentile(99)));
  out.metrics.emplace_back("rtt_p999_ns", static_cast<double>(rec.percentile(99.9)));
  out.metrics.emplace_back("rtt_max_ns", static_cast<double>(rec.max()));
  out.metrics.emplace_back("rtt_mean_ns", rec.mean());
}

template <template <class> class A>
RunOutcome run_latency(const RunSpec& s) {
  using T = Item<8>;
  using Q = A<T>;
  RunOutcome out;
  auto ping = std::make_unique<Q>(s.capacity, 1, 1);
  auto pong = std::make_unique<Q>(s.capacity, 1, 1);
  const std::uint64_t warm = std::min<std::uint64_t>(s.items / 10 + 1, 10'000);
  const std::uint64_t total = warm + s.items;
  LatencyRecorder rec;
  std::atomic<bool> ready{false};
  bool echo_ok = true;
  detail::FirstError error;
  std::thread echo([&] {
    try {
      pin_this_thread(s.core_b);
      with_consumer(*ping, [&](auto& c) {
        with_producer(*pong, [&](auto& p) {
          ready.store(true, std::memory_order_release);  // release: pairs with wait_for() below
          T x{};
          for (std::uint64_t i = 0; i < total; ++i) {
            c.pop(x);
            if (x.tag != i) echo_ok = false;
            p.push(std::move(x));
          }
        });
      });
    } catch (const std::exception& e) {
      error.capture(e);
    }
  });
  bool ping_ok = true;
  std::int64_t t0 = 0, t1 = 0;
  try {
    pin_this_thread(s.core_a);
    with_producer(*ping, [&](auto& p) {
      with_consumer(*pong, [&](auto& c) {
        detail::wait_for(ready);
        T x{};
        for (std::uint64_t i = 0; i < total; ++i) {
          if (i == warm) t0 = now_ns();
          const std::uint64_t a = tsc_now();
          p.push(make_item<8>(0, i));
          c.pop(x);
          const std::uint64_t b = tsc_now();
          if (x.tag != i) ping_ok = false;
          if (i >= warm) rec.record(static_cast<std::uint64_t>(static_cast<double>(b - a) / s.tsc_per_ns));
        }
        t1 = now_ns();
      });
    });
  } catch (const std::exception& e) {
    error.capture(e);
  }
  echo.join();
  if (auto e = error.message(); !e.empty()) {
    out.status = "ERROR";
    out.error = e;
    return out;
  }
  out.seconds = static_cast<double>(t1 - t0) / 1e9;
  if (!echo_ok || !ping_ok) {
    out.status = "FAILED";
    out.error = !echo_ok ? "echo thread received an item out of sequence" : "a reply did not match its request";
    return out;
  }
  add_latency_metrics(out, rec);
  return out;
}

// CPU use of an idle queue: one consumer pinned to core B waits in pop() on an empty queue; after a
// 100 ms settle (a spin-then-park strategy has parked by then) the process's CPU time (getrusage:
// user + system, every thread) is read over s.items milliseconds of wall time. The main thread sleeps
// meanwhile, so what is counted is the waiting consumer. Then one item is pushed and must come out
// (self-check: the parked consumer wakes and receives exactly that item).
template <template <class> class A>
RunOutcome run_idle(const RunSpec& s) {
  using T = Item<8>;
  using Q = A<T>;
  RunOutcome out;
  auto q = std::make_unique<Q>(s.capacity, 1, 1);
  std::atomic<bool> waiting{false};
  T got{};
  got.tag = ~std::uint64_t{0};
  detail::FirstError error;
  pin_this_thread(s.core_a);
  std::thread consumer([&] {
    try {
      pin_this_thread(s.core_b);
      with_consumer(*q, [&](auto& h) {
        waiting.store(true, std::memory_order_release);  // release: pairs with the acquire in wait_for() below
        h.pop(got);
      });
    } catch (const std::exception& e) {
      error.capture(e);
    }
  });
  detail::wait_for(waiting);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto cpu_ns = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto tv = [](const timeval& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_usec * 1000; };
    return tv(u.ru_utime) + tv(u.ru_stime);
  };
  const std::int64_t c0 = cpu_ns(), t0 = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(s.items));
  const std::int64_t c1 = cpu_ns(), t1 = now_ns();
  constexpr std::uint64_t kTag = 42;
  try {
    with_producer(*q, [&](auto& p) { p.push(make_item<8>(0, kTag)); });
  } catch (const std::exception& e) {
    error.capture(e);
  }
  consumer.join();
  if (auto e = error.message(); !e.empty()) {
    out.status = "ERROR";
    out.error = e;
    return out;
  }
  out.seconds = static_cast<double>(t1 - t0) / 1e9;
  if (got.tag != kTag) {
    out.status = "FAILED";
    out.error = "the parked consumer did not receive the one item pushed after the idle window";
    return out;
  }
  out.metrics.emplace_back("idle_cpu_pct", 100.0 * static_cast<double>(c1 - c0) / static_cast<double>(t1 - t0));
  return out;
}

}  // namespace ringbench
