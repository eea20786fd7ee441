// SPDX-License-Identifier: MIT
// mp_probe: a small driver that takes the MPSC/MPMC throughput cells of ringbench apart (issue 8).
//
//   mp_probe run  QUEUE P C ITEMS_PER_PRODUCER [CAPACITY] [count]
//       P producers pinned to CPU 0, C consumers pinned to CPU 1 (ringbench's layout), 8-byte items,
//       push()/pop() (moodycamel: enqueue with a ProducerToken, try_dequeue with a ConsumerToken, retried
//       with the harness's spin-then-yield). Prints M items/s and, per role, context switches (voluntary /
//       involuntary, getrusage RUSAGE_THREAD) per 1000 items and CPU seconds. With "count": each pop is a
//       try_pop first and each push a try_push first, counting how often the consumer found the ring empty
//       and a producer found it full (the hand-offs that wait; it changes the timing a little, so its
//       M items/s is not the plain figure), and the consumer samples size_approx() every 64th item.
//   mp_probe pairs QUEUE ITEMS [CAPACITY] [DEPTH]
//       One thread: rounds of DEPTH pushes then DEPTH pops (push_n / pop_n, kept out of line) until ITEMS
//       went through. For valgrind's cachegrind/callgrind: instructions and simulated cache misses per
//       push and per pop, no threads (valgrind runs threads one at a time and simulates one cache, so it
//       cannot show the cross-core transfers; say so with its figures).
//
// QUEUE: mpsc | mpmc | lane | cq  (MpscQueue<Yielding>, MpmcQueue<Yielding>, MpscLaneQueue<Yielding>,
// moodycamel::ConcurrentQueue+tokens with enqueue). Every item is checked: exactly once, per-producer order.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <bit>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ringkit/cpu.hpp>
#include <ringkit/mpmc_queue.hpp>
#include <ringkit/mpsc_lane_queue.hpp>
#include <ringkit/mpsc_queue.hpp>
#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#define MP_PROBE_HAVE_CQ 1
#endif

namespace {

struct Item {
  std::uint64_t tag;
};
constexpr unsigned kShift = 48;

struct Role {
  long nvcsw = 0, nivcsw = 0;
  double cpu_s = 0;
  std::uint64_t waits = 0;  // count mode: empty (consumer) / full (producer) hand-offs
};

Role usage_now() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  Role r;
  r.nvcsw = u.ru_nvcsw;
  r.nivcsw = u.ru_nivcsw;
  r.cpu_s = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
            static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return r;
}
Role since(const Role& a) {
  Role b = usage_now();
  b.nvcsw -= a.nvcsw;
  b.nivcsw -= a.nivcsw;
  b.cpu_s -= a.cpu_s;
  return b;
}

void spin_then_yield(unsigned& n) {
  if (n < 128) {
    ++n;
    ringkit::cpu_relax();
  } else {
    std::this_thread::yield();
  }
}

// ---- adapters: producer handle / consumer handle over one queue ----
template <class Q>
struct Slotq {
  Q q;
  Slotq(unsigned, std::size_t cap) : q(cap) {}
  struct Prod {
    Q& q;
    explicit Prod(Slotq& s) : q(s.q) {}
    void push(Item v) { (void)q.push(std::move(v)); }
    bool try_push(Item v) { return q.try_push(v); }
  };
  struct Cons {
    Q& q;
    explicit Cons(Slotq& s) : q(s.q) {}
    void pop(Item& v) { (void)q.pop(v); }
    bool try_pop(Item& v) { return q.try_pop(v); }
  };
  std::size_t size() const { return q.size_approx(); }
};

struct Lane {
  ringkit::MpscLaneQueue<Item> q;
  static std::size_t lane_cap(std::size_t cap, unsigned p) { return std::max<std::size_t>(64, std::bit_floor(cap / p)); }
  Lane(unsigned p, std::size_t cap) : q(p, lane_cap(cap, p)) {}
  struct Prod {
    ringkit::MpscLaneQueue<Item>::Producer h;
    explicit Prod(Lane& s) : h(s.q.make_producer()) {}
    void push(Item v) { (void)h.push(std::move(v)); }
    bool try_push(Item v) { return h.try_push(v); }
  };
  struct Cons {
    ringkit::MpscLaneQueue<Item>& q;
    explicit Cons(Lane& s) : q(s.q) {}
    void pop(Item& v) { (void)q.pop(v); }
    bool try_pop(Item& v) { return q.try_pop(v); }
  };
  std::size_t size() const { return q.size_approx(); }
};

#ifdef MP_PROBE_HAVE_CQ
struct Cq {
  moodycamel::ConcurrentQueue<Item> q;
  Cq(unsigned p, std::size_t cap) : q(cap, p, 0) {}
  struct Prod {
    moodycamel::ConcurrentQueue<Item>& q;
    moodycamel::ProducerToken t;
    explicit Prod(Cq& s) : q(s.q), t(s.q) {}
    void push(Item v) { (void)q.enqueue(t, v); }
    bool try_push(Item v) { return q.enqueue(t, v); }
  };
  struct Cons {
    moodycamel::ConcurrentQueue<Item>& q;
    moodycamel::ConsumerToken t;
    explicit Cons(Cq& s) : q(s.q), t(s.q) {}
    void pop(Item& v) {
      unsigned n = 0;
      while (!q.try_dequeue(t, v)) spin_then_yield(n);
    }
    bool try_pop(Item& v) { return q.try_dequeue(t, v); }
  };
  std::size_t size() const { return q.size_approx(); }
};
#endif

template <class A>
int run(unsigned P, unsigned C, std::uint64_t per, std::size_t cap, bool count) {
  A a(P, cap);
  const std::uint64_t total = per * P;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> claimed{0};
  std::vector<Role> roles(P + C);
  std::vector<std::int64_t> end(C);
  std::vector<std::vector<std::uint64_t>> next(C, std::vector<std::uint64_t>(P, 0));
  std::vector<std::array<std::uint64_t, 7>> occ(C);  // size_approx samples: 0,1-7,8-63,64-511,512-cap/2,>cap/2,full
  std::atomic<bool> bad{false};
  std::vector<std::thread> th;
  const auto now = [] { return std::chrono::steady_clock::now().time_since_epoch().count(); };
  for (unsigned p = 0; p < P; ++p) {
    th.emplace_back([&, p] {
      (void)ringkit::pin_this_thread(0);
      typename A::Prod h(a);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();  // acquire: the start signal
      const Role r0 = usage_now();
      std::uint64_t full = 0;
      for (std::uint64_t i = 0; i < per; ++i) {
        const Item v{std::uint64_t{p} << kShift | i};
        if (count) {
          if (!h.try_push(v)) {
            ++full;
            h.push(v);
          }
        } else {
          h.push(v);
        }
      }
      roles[p] = since(r0);
      roles[p].waits = full;
    });
  }
  for (unsigned c = 0; c < C; ++c) {
    th.emplace_back([&, c] {
      (void)ringkit::pin_this_thread(1);
      typename A::Cons h(a);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();  // acquire: the start signal
      const Role r0 = usage_now();
      std::uint64_t empty = 0;
      const auto take = [&](std::uint64_t n) {
        for (std::uint64_t k = 0; k < n; ++k) {
          Item v{};
          if (count) {
            if (!h.try_pop(v)) {
              ++empty;
              h.pop(v);
            }
            if ((k & 63) == 0) {
              const std::size_t s = a.size();
              const unsigned b = s == 0 ? 0 : s < 8 ? 1 : s < 64 ? 2 : s < 512 ? 3 : s <= cap / 2 ? 4 : s < cap ? 5 : 6;
              ++occ[c][b];
            }
          } else {
            h.pop(v);
          }
          const std::uint64_t pr = v.tag >> kShift, ix = v.tag & ((std::uint64_t{1} << kShift) - 1);
          if (pr >= P || (C == 1 ? ix != next[c][pr] : ix < next[c][pr])) bad = true;
          next[c][pr] = ix + 1;
        }
      };
      if (C == 1) {
        take(total);
      } else {
        for (;;) {
          const std::uint64_t base = claimed.fetch_add(64, std::memory_order_relaxed);  // relaxed: a ticket
          if (base >= total) break;
          take(std::min<std::uint64_t>(64, total - base));
        }
      }
      end[c] = now();
      roles[P + c] = since(r0);
      roles[P + c].waits = empty;
    });
  }
  while (ready.load() < P + C) std::this_thread::yield();
  const std::int64_t t0 = now();
  go.store(true, std::memory_order_release);  // release: the start signal
  for (auto& t : th) t.join();
  const double s = static_cast<double>(*std::max_element(end.begin(), end.end()) - t0) / 1e9;
  if (bad) {
    std::printf("FAILED: order or exactly-once\n");
    return 1;
  }
  std::printf("%.1f M items/s (%.3f s)", static_cast<double>(total) / s / 1e6, s);
  const double k = static_cast<double>(total) / 1000.0;
  for (unsigned i = 0; i < P + C; ++i) {
    std::printf(" | %s%u csw/1k v%.2f iv%.2f cpu %.2fs", i < P ? "P" : "C", i < P ? i : i - P,
                static_cast<double>(roles[i].nvcsw) / k, static_cast<double>(roles[i].nivcsw) / k, roles[i].cpu_s);
    if (count) std::printf(" %s %.3f/item", i < P ? "full" : "empty", static_cast<double>(roles[i].waits) / (i < P ? static_cast<double>(per) : static_cast<double>(total) / C));
  }
  if (count) {
    std::array<double, 7> share{};
    double n = 0;
    for (auto& o : occ)
      for (std::size_t b = 0; b < 7; ++b) share[b] += static_cast<double>(o[b]), n += static_cast<double>(o[b]);
    for (auto& x : share) x /= n;
    std::printf("\n  size_approx samples: 0:%.2f 1-7:%.2f 8-63:%.2f 64-511:%.2f 512-cap/2:%.2f <cap:%.2f full:%.2f", share[0],
                share[1], share[2], share[3], share[4], share[5], share[6]);
  }
  std::printf("\n");
  return 0;
}

// Out of line, so that valgrind's per-function counts split the producer's and the consumer's side.
template <class P>
__attribute__((noinline)) void push_n(P& p, std::uint64_t from, std::uint64_t n) {
  for (std::uint64_t i = from; i < from + n; ++i) p.push(Item{i});
}
template <class C>
__attribute__((noinline)) std::uint64_t pop_n(C& c, std::uint64_t n) {
  std::uint64_t sum = 0;
  Item v{};
  for (std::uint64_t i = 0; i < n; ++i) {
    c.pop(v);
    sum += v.tag;
  }
  return sum;
}

// Rounds of (push `depth` items, pop them) until `items` went through: one thread, nothing waits.
template <class A>
int pairs(std::uint64_t items, std::size_t cap, std::size_t depth) {
  A a(1, cap);
  typename A::Prod p(a);
  typename A::Cons c(a);
  std::uint64_t sum = 0;
  depth = std::max<std::size_t>(1, std::min(depth, cap));
  for (std::uint64_t done = 0; done < items; done += depth) {
    push_n(p, done, depth);
    sum += pop_n(c, depth);
  }
  std::printf("pairs done (%llu)\n", static_cast<unsigned long long>(sum));
  return 0;
}

template <template <class> class F>
int dispatch(const std::string& q, auto&&... args) {
  if (q == "mpsc") return F<Slotq<ringkit::MpscQueue<Item>>>::go(args...);
  if (q == "mpmc") return F<Slotq<ringkit::MpmcQueue<Item>>>::go(args...);
  if (q == "lane") return F<Lane>::go(args...);
#ifdef MP_PROBE_HAVE_CQ
  if (q == "cq") return F<Cq>::go(args...);
#endif
  std::fprintf(stderr, "unknown queue %s\n", q.c_str());
  return 2;
}
template <class A>
struct Run {
  static int go(unsigned P, unsigned C, std::uint64_t per, std::size_t cap, bool count) { return run<A>(P, C, per, cap, count); }
};
template <class A>
struct Pairs {
  static int go(std::uint64_t items, std::size_t cap, std::size_t depth) { return pairs<A>(items, cap, depth); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 6 && std::strcmp(argv[1], "run") == 0) {
    const std::size_t cap = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 4096;
    const bool count = argc > 7 && std::strcmp(argv[7], "count") == 0;
    return dispatch<Run>(argv[2], static_cast<unsigned>(std::atoi(argv[3])), static_cast<unsigned>(std::atoi(argv[4])),
                         std::strtoull(argv[5], nullptr, 10), cap, count);
  }
  if (argc >= 4 && std::strcmp(argv[1], "pairs") == 0) {
    const std::size_t cap = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 4096;
    const std::size_t depth = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1;
    return dispatch<Pairs>(argv[2], std::strtoull(argv[3], nullptr, 10), cap, depth);
  }
  std::fprintf(stderr,
               "usage: mp_probe run QUEUE P C ITEMS_PER_PRODUCER [CAPACITY] [count]\n"
               "       mp_probe pairs QUEUE ITEMS [CAPACITY] [DEPTH]\n"
               "QUEUE: mpsc | mpmc | lane | cq\n");
  return 2;
}
