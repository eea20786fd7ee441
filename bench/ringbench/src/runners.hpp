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

// Pops exactly `count` items into `check`.
template <std::size_t N, class H>
void consume(H& h, std::uint64_t count, unsigned batch, std::vector<Item<N>>& buf, SequenceChecker& check, bool& torn) {
  using T = Item<N>;
  const auto take = [&](const T& x) {
    if (!item_intact(x)) torn = true;
    (void)check.observe(producer_of(x.tag), index_of(x.tag));
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
            detail::consume<N>(h, total, s.batch, buf, checkers[c], is_torn);
          } else {
            // Claim items in chunks, so each consumer pops exactly as many items as exist for it.
            for (;;) {
              const std::uint64_t base = claimed.fetch_add(kClaim, std::memory_order_relaxed);  // relaxed: a ticket counter
              if (base >= total) break;
              detail::consume<N>(h, std::min(kClaim, total - base), s.batch, buf, checkers[c], is_torn);
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

}  // namespace ringbench
