// SPDX-License-Identifier: MIT
#include "workload.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "rewardpool/wal_format.hpp"

namespace rewardpool::cli {

namespace {
AllocProbe g_probe = nullptr;

struct Usage {
  double cpu = 0;
  long switches = 0;
};
Usage usage_now() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {secs(u.ru_utime) + secs(u.ru_stime), u.ru_nvcsw + u.ru_nivcsw};
}
}  // namespace

void set_alloc_probe(AllocProbe probe) { g_probe = probe; }

void alloc_probe(long& count, long& bytes) {
  count = bytes = 0;
  if (g_probe) g_probe(count, bytes);
}

double process_cpu_seconds() { return usage_now().cpu; }

double WorkloadResult::percentile_ns(double p) const {
  if (latency_ns.empty()) return 0;
  const auto idx = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(latency_ns.size()))) ;
  return latency_ns[std::min(latency_ns.size() - 1, idx == 0 ? 0 : idx - 1)];
}

WorkloadResult run_workload(Service& svc, const WorkloadOptions& o) {
  const unsigned clients = std::max(1u, o.clients);
  const std::uint64_t per_client_cap = o.draws ? (o.draws + clients - 1) / clients : 1'000'000;
  std::vector<std::vector<std::uint32_t>> lat(clients);
  for (auto& v : lat) v.reserve(per_client_cap);  // before the timed region
  std::atomic<std::uint64_t> issued{0}, ok{0}, empty{0}, errors{0};
  std::atomic<bool> stop{false};
  const auto limit = o.draws ? o.draws : UINT64_MAX;
  long a0 = 0, b0 = 0, a1 = 0, b1 = 0;
  std::atomic<bool> go{false};
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(clients);
  // Each client stamps when it finished, so the measured time does not depend on when the polling
  // main thread notices.
  std::vector<std::chrono::steady_clock::time_point> finished(clients);
  for (unsigned t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto client = svc.client();
      auto& my = lat[t];
      unsigned char ack[12];
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();  // threads and handles exist before the timed region
      // relaxed: a work counter; the joins order everything for the totals.
      while (!stop.load(std::memory_order_relaxed) && issued.fetch_add(1, std::memory_order_relaxed) < limit) {
        const auto t0 = std::chrono::steady_clock::now();
        const DrawResult r = client.draw();
        const auto t1 = std::chrono::steady_clock::now();
        if (my.size() < my.capacity()) {
          my.push_back(static_cast<std::uint32_t>(
              std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), UINT32_MAX)));
        }
        if (r.status == Status::Ok) {
          ok.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
          if (o.ack_fd >= 0) {
            wal::put_u64(reinterpret_cast<std::byte*>(ack), r.lsn);
            wal::put_u32(reinterpret_cast<std::byte*>(ack) + 8, r.index);
            if (::write(o.ack_fd, ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) std::_Exit(3);
          }
        } else if (r.status == Status::Empty) {
          empty.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
          stop.store(true, std::memory_order_relaxed);    // relaxed: a hint to the others
        } else {
          errors.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
          if (r.status == Status::Closed || r.status == Status::WalError) stop.store(true, std::memory_order_relaxed);
        }
      }
      finished[t] = std::chrono::steady_clock::now();
    });
  }
  while (ready.load() < clients) std::this_thread::yield();
  if (g_probe) g_probe(a0, b0);
  const Usage u0 = usage_now();
  const auto start = std::chrono::steady_clock::now();
  go.store(true);
  // The main thread: duration limit and progress line.
  auto last_print = start;
  std::uint64_t last_ok = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.progress || o.duration.count() > 0 ? 20 : 50));
    const auto now = std::chrono::steady_clock::now();
    const bool done = issued.load(std::memory_order_relaxed) >= limit || stop.load(std::memory_order_relaxed);  // relaxed: polling
    if (o.duration.count() > 0 && now - start >= o.duration) stop.store(true, std::memory_order_relaxed);
    if (o.progress && now - last_print >= std::chrono::seconds(1)) {
      const std::uint64_t k = ok.load(std::memory_order_relaxed);  // relaxed: progress only
      std::fprintf(stderr, "\r[%6.1f s] %llu draws ok, %.0f draws/s    ",
                   std::chrono::duration<double>(now - start).count(), static_cast<unsigned long long>(k),
                   static_cast<double>(k - last_ok) / std::chrono::duration<double>(now - last_print).count());
      last_print = now;
      last_ok = k;
    }
    if (done || stop.load(std::memory_order_relaxed)) break;  // relaxed: polling
  }
  for (auto& th : threads) th.join();
  const auto end = *std::max_element(finished.begin(), finished.end());
  if (g_probe) g_probe(a1, b1);
  const Usage u1 = usage_now();
  if (o.progress) std::fprintf(stderr, "\n");
  WorkloadResult r;
  r.ok = ok.load();
  r.empty = empty.load();
  r.errors = errors.load();
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.allocations = a1 - a0;
  r.allocated_bytes = b1 - b0;
  r.cpu_seconds = u1.cpu - u0.cpu;
  r.context_switches = u1.switches - u0.switches;
  std::size_t total = 0;
  for (auto& v : lat) total += v.size();
  r.latency_ns.reserve(total);
  for (auto& v : lat) r.latency_ns.insert(r.latency_ns.end(), v.begin(), v.end());
  std::sort(r.latency_ns.begin(), r.latency_ns.end());
  return r;
}

Stat stat_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stat s;
  if (v.empty()) return s;
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

}  // namespace rewardpool::cli
