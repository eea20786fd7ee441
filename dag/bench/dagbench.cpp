// SPDX-License-Identifier: MIT
// dagbench: Taskflow's benchmark shapes with tiny tasks (~65K per graph) on the ringkit DAG executor,
// side by side in the same run with oneTBB's flow graph and the same executor over a mutex +
// condition-variable channel (the seed's baseline), at 1, 2 and 4 workers. Every run is verified: each
// task checks that all its predecessors already ran and counts its own runs; after the run every count
// must be 1, else the run is reported FAILED and dagbench exits 1. Performance targets are only
// reported, never a reason to fail.
//
//   dagbench [--quick] [--csv FILE] [--trace FILE] [--repeats N] [--workers 1,2,4] [--shapes a,b]
//            [--engines ringkit,ringkit_queued,channel,channel_queued,tbb] [--no-micro] [--gap-us N]
//
// Engines:
//   ringkit          Executor over ringkit::MpmcQueue<Blocking>, per-worker local batches (the default)
//   ringkit_queued   the same, every ready task through the ring (local_batches = false; the seed's design)
//   channel          the same Executor over ChannelQueue (std::mutex + std::condition_variable), local batches
//   channel_queued   the channel, every ready task through it
//   tbb              oneTBB flow graph: one continue_node per task, make_edge per dependency
// CSV rows: shape,engine,workers,metric,value; metrics tasks_per_s (median), tasks_per_s_min,
// tasks_per_s_max, ns_per_task (median), queue_fraction (ringkit/channel engines: tasks taken from the
// ring / tasks executed), steal_fraction (tasks taken from another worker's local batch / tasks
// executed); ring micro rows use items_per_s and ns_per_item.
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/dag/channel_queue.hpp"
#include "ringkit/dag/executor.hpp"
#include "ringkit/dag/trace.hpp"
#include "ringkit/mpmc_queue.hpp"

namespace dag = ringkit::dag;
using Clock = std::chrono::steady_clock;

namespace {

// ---- shapes -------------------------------------------------------------------------------------------
struct Shape {
  std::string name;
  std::vector<std::vector<std::uint32_t>> preds;
};

Shape linear_chain(std::uint32_t n) {
  Shape s{"linear_chain", std::vector<std::vector<std::uint32_t>>(n)};
  for (std::uint32_t i = 1; i < n; ++i) s.preds[i] = {i - 1};
  return s;
}

Shape binary_tree(std::uint32_t levels) {
  const std::uint32_t n = (1U << levels) - 1;
  Shape s{"binary_tree", std::vector<std::vector<std::uint32_t>>(n)};
  for (std::uint32_t i = 1; i < n; ++i) s.preds[i] = {(i - 1) / 2};
  return s;
}

Shape wavefront(std::uint32_t side) {
  Shape s{"wavefront", std::vector<std::vector<std::uint32_t>>(side * side)};
  for (std::uint32_t r = 0; r < side; ++r) {
    for (std::uint32_t c = 0; c < side; ++c) {
      auto& p = s.preds[r * side + c];
      if (r > 0) p.push_back((r - 1) * side + c);
      if (c > 0) p.push_back(r * side + c - 1);
    }
  }
  return s;
}

Shape embarrassingly_parallel(std::uint32_t n) {
  return Shape{"embarrassingly_parallel", std::vector<std::vector<std::uint32_t>>(n)};
}

// A random DAG (fixed seed): each node depends on 1-4 of the 256 nodes before it.
Shape graph_traversal(std::uint32_t n) {
  Shape s{"graph_traversal", std::vector<std::vector<std::uint32_t>>(n)};
  std::mt19937 rng(20261202);
  for (std::uint32_t i = 1; i < n; ++i) {
    const std::uint32_t k = 1 + static_cast<std::uint32_t>(rng() % 4);
    const std::uint32_t lo = i > 256 ? i - 256 : 0;
    for (std::uint32_t j = 0; j < k; ++j) {
      const std::uint32_t p = lo + static_cast<std::uint32_t>(rng() % (i - lo));
      if (std::find(s.preds[i].begin(), s.preds[i].end(), p) == s.preds[i].end()) s.preds[i].push_back(p);
    }
  }
  return s;
}

// ---- verification: the tiny task body -------------------------------------------------------------------
struct Verifier {
  const Shape* shape;
  std::unique_ptr<std::atomic<std::uint32_t>[]> runs;
  std::unique_ptr<std::atomic<std::uint8_t>[]> done;
  std::atomic<std::uint64_t> violations{0};

  explicit Verifier(const Shape& s)
      : shape(&s),
        runs(std::make_unique<std::atomic<std::uint32_t>[]>(s.preds.size())),
        done(std::make_unique<std::atomic<std::uint8_t>[]>(s.preds.size())) {}

  void body(std::uint32_t i) noexcept {
    for (std::uint32_t p : shape->preds[i]) {
      // acquire: pairs with the predecessor's release below.
      if (done[p].load(std::memory_order_acquire) == 0) violations.fetch_add(1, std::memory_order_relaxed);
    }
    runs[i].fetch_add(1, std::memory_order_relaxed);  // relaxed: checked after the run
    done[i].store(1, std::memory_order_release);      // release: pairs with the acquire above
  }
  void reset() {
    for (std::size_t i = 0; i < shape->preds.size(); ++i) {
      runs[i].store(0, std::memory_order_relaxed);  // relaxed: between runs
      done[i].store(0, std::memory_order_relaxed);  // relaxed: as above
    }
    violations.store(0);
  }
  // "" when every task ran exactly once after its predecessors, else what went wrong.
  std::string check() const {
    std::size_t wrong = 0, first = 0;
    for (std::size_t i = 0; i < shape->preds.size(); ++i) {
      if (runs[i].load(std::memory_order_relaxed) != 1) {  // relaxed: the run is over
        if (wrong++ == 0) first = i;
      }
    }
    std::string err;
    if (wrong != 0) {
      err += std::to_string(wrong) + " tasks did not run exactly once (first: task " + std::to_string(first) +
             " ran " + std::to_string(runs[first].load()) + " times)";
    }
    if (violations.load() != 0) err += (err.empty() ? "" : "; ") + std::to_string(violations.load()) + " ran before a predecessor";
    return err;
  }
};

// ---- engines ------------------------------------------------------------------------------------------------
struct Engine {
  virtual ~Engine() = default;
  virtual void run() = 0;  // one run of the graph, synchronous
  virtual double queue_fraction() { return -1; }
};

struct DagEngine : Engine {
  dag::Executor& ex;
  dag::Graph graph;
  dag::ExecutorStats before{};
  bool first = true;
  DagEngine(dag::Executor& e, const Shape& s, Verifier& v) : ex(e), graph(s.name) {
    std::vector<dag::NodeId> ids;
    ids.reserve(s.preds.size());
    for (std::uint32_t i = 0; i < s.preds.size(); ++i) ids.push_back(graph.task("t", [&v, i] { v.body(i); }));
    for (std::uint32_t i = 0; i < s.preds.size(); ++i) {
      for (std::uint32_t p : s.preds[i]) graph.precede(ids[p], ids[i]);
    }
    graph.validate();
  }
  void run() override {
    const auto r = ex.run(graph);
    if (r.status != dag::RunStatus::Succeeded) std::fprintf(stderr, "dag run status %s\n", dag::to_string(r.status));
  }
};

struct TbbEngine : Engine {
  tbb::task_arena& arena;
  tbb::flow::graph g;
  std::vector<std::unique_ptr<tbb::flow::continue_node<tbb::flow::continue_msg>>> nodes;
  std::vector<std::uint32_t> roots;
  TbbEngine(tbb::task_arena& a, const Shape& s, Verifier& v) : arena(a) {
    arena.execute([&] {
      nodes.reserve(s.preds.size());
      for (std::uint32_t i = 0; i < s.preds.size(); ++i) {
        nodes.push_back(std::make_unique<tbb::flow::continue_node<tbb::flow::continue_msg>>(
            g, [&v, i](const tbb::flow::continue_msg&) { v.body(i); }));
        if (s.preds[i].empty()) roots.push_back(i);
      }
      for (std::uint32_t i = 0; i < s.preds.size(); ++i) {
        for (std::uint32_t p : s.preds[i]) tbb::flow::make_edge(*nodes[p], *nodes[i]);
      }
    });
  }
  void run() override {
    arena.execute([&] {
      // One try_put per root from the calling thread, as Taskflow's TBB benchmarks do (feeding the roots
      // from one broadcast_node instead measured no faster here).
      for (std::uint32_t r : roots) nodes[r]->try_put(tbb::flow::continue_msg());
      g.wait_for_all();
    });
  }
};

struct Stat {
  double median = 0, min = 0, max = 0;
};
Stat stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return Stat{v[v.size() / 2], v.front(), v.back()};
}

struct Row {
  std::string shape, engine, metric;
  unsigned workers;
  double value;
};

// ---- the seed's ring micro-figures: one producer, one consumer, single items vs batches of 128 ----
template <class Q>
double micro(Q& q, std::uint64_t n, std::size_t batch, bool& ok) {
  std::uint64_t sum = 0;
  const auto t0 = Clock::now();
  std::thread consumer([&] {
    std::vector<std::uint64_t> buf(batch);
    std::uint64_t got = 0;
    while (got < n) {
      std::size_t k = 0;
      if (batch == 1) {
        std::uint64_t v = 0;
        if constexpr (requires { q.try_pop(v); }) {
          k = q.try_pop(v) ? 1 : 0;
        } else {
          k = q.pop_batch(std::span<std::uint64_t>(&v, 1));
        }
        if (k) sum += v;
      } else {
        k = q.pop_batch(std::span<std::uint64_t>(buf.data(), batch));
        for (std::size_t i = 0; i < k; ++i) sum += buf[i];
      }
      if (k == 0) std::this_thread::yield();
      got += k;
    }
  });
  std::vector<std::uint64_t> buf(batch);
  std::uint64_t next = 0;
  while (next < n) {
    if (batch == 1) {
      if (q.try_push(next)) {
        ++next;
      } else {
        std::this_thread::yield();
      }
    } else {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(batch, n - next));
      for (std::size_t i = 0; i < k; ++i) buf[i] = next + i;
      const std::size_t pushed = q.push_batch(std::span<std::uint64_t>(buf.data(), k));
      next += pushed;
      if (pushed == 0) std::this_thread::yield();
    }
  }
  consumer.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ok = sum == n * (n - 1) / 2;
  return static_cast<double>(n) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool no_micro = false;
  int gap_us = 2000;
  std::string csv_path, trace_path;
  int repeats = -1;
  std::vector<unsigned> worker_counts{1, 2, 4};
  std::vector<std::string> shape_names{"linear_chain", "binary_tree", "wavefront", "embarrassingly_parallel",
                                       "graph_traversal"};
  std::vector<std::string> engine_names{"ringkit", "ringkit_queued", "channel", "channel_queued", "tbb"};
  // The command line (CLI11): --help prints it and exits 0; a usage error prints why and exits 2.
  CLI::App app{"dagbench: ringkit's DAG executor against a mutex channel and oneTBB's flow graph", "dagbench"};
  app.add_flag("--quick", quick, "5 repeats instead of 15");
  app.add_option("--csv", csv_path, "also write every figure to FILE as CSV");
  app.add_option("--trace", trace_path, "write a Chrome trace of a binary tree plus a stream to FILE");
  app.add_option("--repeats", repeats, "timed runs per cell (default 15; --quick 5)")->check(CLI::Range(1, 1000));
  app.add_option("--workers", worker_counts, "comma-separated worker counts")->delimiter(',')->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  app.add_option("--shapes", shape_names, "comma-separated graph shapes")->delimiter(',')->capture_default_str();
  app.add_option("--engines", engine_names, "comma-separated engines")->delimiter(',')->capture_default_str();
  app.add_flag("--no-micro", no_micro, "skip the micro-benchmarks");
  app.add_option("--gap-us", gap_us, "microseconds between stream items")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: stdout, 0; a usage error: stderr, 2
  }
  if (repeats < 0) repeats = quick ? 5 : 15;

  std::map<std::string, std::function<Shape()>> makers{
      {"linear_chain", [] { return linear_chain(65536); }},
      {"binary_tree", [] { return binary_tree(16); }},
      {"wavefront", [] { return wavefront(256); }},
      {"embarrassingly_parallel", [] { return embarrassingly_parallel(65536); }},
      {"graph_traversal", [] { return graph_traversal(65536); }},
  };
  for (const auto& s : shape_names) {
    if (!makers.count(s)) {
      std::fprintf(stderr, "dagbench: unknown shape '%s'\n", s.c_str());
      return 2;
    }
  }

  std::printf("dagbench: %d timed runs (+1 warm-up) per cell; median [min-max] M tasks/s; hardware threads: %u\n",
              repeats, std::thread::hardware_concurrency());
  std::printf("note: a shared machine (other jobs compiling): absolute figures move run to run; compare ratios.\n");
  std::vector<Row> rows;
  std::vector<std::string> targets;
  bool failed = false;
  tbb::global_control tbb_limit(tbb::global_control::max_allowed_parallelism,
                                *std::max_element(worker_counts.begin(), worker_counts.end()));

  for (const auto& shape_name : shape_names) {
    const Shape shape = makers[shape_name]();
    Verifier v(shape);
    std::printf("\n== %s (%zu tasks)\n", shape.name.c_str(), shape.preds.size());
    for (unsigned w : worker_counts) {
      std::map<std::string, double> median;
      std::map<std::string, double> best;
      std::map<std::string, double> qfrac;
      // Build every engine for this cell first, then interleave them run by run, so that the load
      // others put on this machine falls on all engines alike.
      struct Slot {
        std::string name;
        std::unique_ptr<dag::Executor> ex;
        std::unique_ptr<tbb::task_arena> arena;
        std::unique_ptr<Engine> e;
        std::vector<double> tps;
        std::uint64_t from_queue = 0, executed = 0, stolen = 0;
      };
      std::vector<Slot> slots;
      for (const auto& engine : engine_names) {
        Slot sl;
        sl.name = engine;
        if (engine == "tbb") {
          sl.arena = std::make_unique<tbb::task_arena>(static_cast<int>(w));
          sl.e = std::make_unique<TbbEngine>(*sl.arena, shape, v);
        } else {
          if (engine != "ringkit" && engine != "ringkit_queued" && engine != "channel" && engine != "channel_queued") {
            std::fprintf(stderr, "dagbench: unknown engine '%s'\n", engine.c_str());
            return 2;
          }
          dag::ExecutorOptions o;
          o.workers = w;
          o.queue = engine.rfind("channel", 0) == 0 ? dag::QueueKind::Channel : dag::QueueKind::Ring;
          o.local_batches = engine.find("_queued") == std::string::npos;
          sl.ex = std::make_unique<dag::Executor>(o);
          sl.e = std::make_unique<DagEngine>(*sl.ex, shape, v);
        }
        slots.push_back(std::move(sl));
      }
      for (int r = 0; r <= repeats; ++r) {
        for (std::size_t k = 0; k < slots.size(); ++k) {
          // Rotate the order every round, and pause between runs: an engine whose threads still spin
          // after their run (TBB's do, for a while) must not tax whichever engine always runs next.
          auto& sl = slots[(k + static_cast<std::size_t>(r)) % slots.size()];
          if (gap_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
          v.reset();
          const dag::ExecutorStats s0 = sl.ex ? sl.ex->stats() : dag::ExecutorStats{};
          const auto t0 = Clock::now();
          sl.e->run();
          const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
          const std::string err = v.check();
          if (!err.empty()) {
            std::printf("FAILED: %s %s %u workers: %s\n", shape.name.c_str(), sl.name.c_str(), w, err.c_str());
            failed = true;
          }
          if (r == 0) continue;  // warm-up
          sl.tps.push_back(static_cast<double>(shape.preds.size()) / secs);
          if (sl.ex) {
            const dag::ExecutorStats s1 = sl.ex->stats();
            sl.from_queue += s1.from_queue - s0.from_queue;
            sl.stolen += s1.stolen - s0.stolen;
            sl.executed += s1.executed - s0.executed;
          }
        }
      }
      for (auto& sl : slots) {
        const std::string& engine = sl.name;
        const Stat st = stats_of(sl.tps);
        median[engine] = st.median;
        best[engine] = st.max;
        if (sl.ex) qfrac[engine] = static_cast<double>(sl.from_queue) / static_cast<double>(std::max<std::uint64_t>(1, sl.executed));
        std::printf("  %u w  %-15s %8.2f [%6.2f-%6.2f] M tasks/s  %7.1f ns/task", w, engine.c_str(), st.median / 1e6,
                    st.min / 1e6, st.max / 1e6, 1e9 / st.median);
        const double steal_frac =
            static_cast<double>(sl.stolen) / static_cast<double>(std::max<std::uint64_t>(1, sl.executed));
        if (qfrac.count(engine)) {
          std::printf("  ring pops/task %6.2f%%  stolen %5.2f%%", 100.0 * qfrac[engine], 100.0 * steal_frac);
        }
        std::printf("\n");
        rows.push_back({shape.name, engine, "tasks_per_s", w, st.median});
        rows.push_back({shape.name, engine, "tasks_per_s_min", w, st.min});
        rows.push_back({shape.name, engine, "tasks_per_s_max", w, st.max});
        rows.push_back({shape.name, engine, "ns_per_task", w, 1e9 / st.median});
        if (qfrac.count(engine)) {
          rows.push_back({shape.name, engine, "queue_fraction", w, qfrac[engine]});
          rows.push_back({shape.name, engine, "steal_fraction", w, steal_frac});
        }
      }
      auto ratio = [&](const char* a, const char* b) {
        if (!median.count(a) || !median.count(b)) return;
        std::printf("     ratio %s/%s = %.2fx (medians), %.2fx (best runs)\n", a, b, median[a] / median[b],
                    best[a] / best[b]);
        if ((std::string(a) == "ringkit" && (std::string(b) == "tbb" || std::string(b) == "channel")) && w >= 2) {
          const double want = std::string(b) == "tbb" ? 1.5 : 2.0;
          targets.push_back(shape.name + " " + std::to_string(w) + "w ringkit/" + b + " " +
                            std::to_string(median[a] / median[b]).substr(0, 4) + "x (target " +
                            std::to_string(want).substr(0, 3) + "x): " +
                            (median[a] / median[b] >= want ? "met" : "NOT met"));
        }
      };
      ratio("ringkit", "tbb");
      ratio("ringkit", "channel");
      ratio("ringkit_queued", "channel_queued");
      ratio("ringkit", "channel_queued");
    }
  }

  if (!targets.empty()) {
    std::printf("\n== targets (medians of this run; performance never fails dagbench)\n");
    for (const auto& t : targets) std::printf("  %s\n", t.c_str());
  }

  // The seed's micro-figures: single push/pop vs batches of 128, one producer and one consumer thread.
  if (!no_micro) {
    const std::uint64_t n = quick ? 2'000'000 : 8'000'000;
    std::printf("\n== ring micro (1 producer, 1 consumer, %llu items of 8 bytes; capacity 8192)\n",
                static_cast<unsigned long long>(n));
    for (std::size_t batch : {std::size_t{1}, std::size_t{128}}) {
      const std::string shape = batch == 1 ? "ring_single" : "ring_batch128";
      bool ok1 = false, ok2 = false;
      ringkit::MpmcQueue<std::uint64_t> rq(8192);
      const double r = micro(rq, n, batch, ok1);
      dag::ChannelQueue<std::uint64_t> cq(8192);
      const double c = micro(cq, n, batch, ok2);
      if (!ok1 || !ok2) {
        std::printf("FAILED: ring micro %s lost or duplicated items\n", shape.c_str());
        failed = true;
      }
      std::printf("  %-14s ringkit_mpmc %7.1f M items/s (%5.1f ns)   channel %7.1f M items/s (%5.1f ns)   %.2fx\n",
                  shape.c_str(), r / 1e6, 1e9 / r, c / 1e6, 1e9 / c, r / c);
      rows.push_back({shape, "ringkit_mpmc", "items_per_s", 2, r});
      rows.push_back({shape, "ringkit_mpmc", "ns_per_item", 2, 1e9 / r});
      rows.push_back({shape, "channel", "items_per_s", 2, c});
      rows.push_back({shape, "channel", "ns_per_item", 2, 1e9 / c});
    }
  }

  if (!trace_path.empty()) {
    // A small run, traced: a 16,383-task binary tree and a stream of 256 items, on 2 workers.
    dag::Executor ex(dag::ExecutorOptions{.workers = 2});
    const Shape t = binary_tree(14);
    Verifier v(t);
    DagEngine e(ex, t, v);
    auto s = e.graph.stream("stream", [](dag::Context& ctx) {
      for (dag::Item i = 0; i < 256; ++i) ctx.emit(i);
    });
    e.graph.for_each("item", s, [](dag::Context&, dag::Item) {});
    (void)ex.run(e.graph);  // warm-up: the workers have started and parked once
    v.reset();
    const auto r = ex.run(e.graph, {.profile = true, .trace = true});
    if (const std::string err = v.check(); !err.empty()) {
      std::printf("FAILED: traced run: %s\n", err.c_str());
      failed = true;
    }
    try {
      dag::write_chrome_trace_file(r, trace_path, "dagbench binary_tree(14) + stream, 2 workers");
      std::printf("\ntrace: %zu events written to %s (open it in https://ui.perfetto.dev)\n", r.trace.size(),
                  trace_path.c_str());
    } catch (const std::exception& ex2) {
      std::fprintf(stderr, "dagbench: %s\n", ex2.what());
      return 2;
    }
  }

  if (!csv_path.empty()) {
    std::ofstream f(csv_path);
    if (!f) {
      std::fprintf(stderr, "dagbench: cannot write '%s'\n", csv_path.c_str());
      return 2;
    }
    f << "shape,engine,workers,metric,value\n";
    for (const auto& r : rows) f << r.shape << ',' << r.engine << ',' << r.workers << ',' << r.metric << ',' << r.value << '\n';
  }
  if (failed) {
    std::printf("\ndagbench: FAILED (a verification failed above)\n");
    return 1;
  }
  std::printf("\ndagbench: every run verified (each task exactly once, after its predecessors)\n");
  return 0;
}
