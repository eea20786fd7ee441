// SPDX-License-Identifier: MIT
#pragma once
// ringkit::dag::Executor: a worker pool that runs Graphs.
//
//   ringkit::dag::Executor ex;                         // hardware threads, ringkit rings
//   RunReport r = ex.run(g);                           // synchronous
//   RunHandle h = ex.run_async(g, {.stream_results = true});
//   NodeResult buf[64];
//   while (std::size_t n = h.next_results(buf)) { ... }  // results as nodes finish, in batches
//   RunReport r2 = h.wait();  r2.rethrow_if_failed();
//
// Scheduling (docs/dag.md has the full design):
//   * Workers take tasks from ONE bounded task ring (ringkit::MpmcQueue with the Blocking or Parking
//     wait strategy, or, with QueueKind::Channel, a std::mutex + std::condition_variable ring: the
//     comparison baseline) in batches (pop_batch), into a fixed per-worker local batch.
//   * A worker that finishes a task keeps the successors it made ready in its own local batch and runs
//     them next (depth first), without touching the ring; it moves the older half of its local batch to
//     the ring (push_batch) only when some worker is idle. A worker that finds the ring empty steals
//     the oldest task of another worker's local batch (a bounded Chase-Lev deque) before it parks, so a
//     ready task never waits behind a long-running one while a worker idles. local_batches = false
//     sends every ready task through the ring instead (the seed's design).
//   * Idle workers park on a futex (Blocking: ~20 µs of spinning/yielding first; Parking: at once, the
//     default when workers outnumber hardware threads): no CPU when idle.
//   * Full rings push back: a thread outside the pool that submits a run's root tasks blocks in push()
//     until workers make room; a stream node whose items do not fit handles the item itself. Ready tasks
//     that fit neither the local batch nor the ring wait in a per-worker overflow list reserved up front
//     (bounded by the graph's size).
//   * No allocation per task: a run allocates its per-node state once (a few blocks, whatever the node
//     count), tasks are 24-byte values in pre-allocated slots (tests/dag_alloc_test.cpp proves it).
//   * Per-node counts and times (RunOptions::profile) and a Chrome/Perfetto trace (RunOptions::trace;
//     trace.hpp writes it) read the clock only when asked for; the trace allocates as it records.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/dag/graph.hpp"

namespace ringkit::dag {

enum class QueueKind : std::uint8_t {
  Ring,     // ringkit::MpmcQueue<Task, ringkit::Blocking or ringkit::Parking> (IdleWait)
  Channel,  // std::mutex + std::condition_variable bounded ring (the seed's channel baseline)
};

// How idle workers wait on the ringkit task ring (ringkit/wait_strategy.hpp). Both park on a futex:
// no CPU when idle.
enum class IdleWait : std::uint8_t {
  Auto,      // Parking when workers outnumber the hardware threads, else Blocking
  Blocking,  // spin/yield ~20 µs, then park: busy hand-offs stay in user space
  Parking,   // park at once: for more workers than cores, where a spinning waiter takes a busy worker's core
};

struct ExecutorOptions {
  unsigned workers = 0;                 // 0: std::thread::hardware_concurrency() (at least 1)
  QueueKind queue = QueueKind::Ring;
  IdleWait idle_wait = IdleWait::Auto;  // QueueKind::Ring only (the channel always blocks on a condvar)
  bool local_batches = true;            // false: every ready task goes through the task ring
  std::size_t ring_capacity = 8192;     // task ring slots (a power of two)
  std::size_t pop_batch = 32;           // most tasks one pop_batch takes
  std::size_t overflow_reserve = 4096;  // per-worker overflow list reserved up front
};

struct RunOptions {
  bool stream_results = false;  // publish a NodeResult per node through the result ring (next_results)
  bool profile = false;         // per-node counts and times in RunReport::nodes
  bool trace = false;           // record TraceEvents (RunReport::trace) for write_chrome_trace()
};

enum class Outcome : std::uint8_t {
  Pending = 0,
  Ran,              // the callable returned
  Failed,           // the callable threw (or a spawned subgraph failed)
  SkippedNotTaken,  // no incoming edge was taken (condition branches)
  SkippedFailed,    // a node it depends on failed
  Cancelled,        // the run was cancelled before it ran
};
const char* to_string(Outcome o) noexcept;

enum class RunStatus : std::uint8_t { Succeeded, Failed, Cancelled };
const char* to_string(RunStatus s) noexcept;

// One node's result, as published through the result ring.
struct NodeResult {
  std::uint32_t node = 0;
  Outcome outcome = Outcome::Pending;
  std::uint32_t worker = 0;
};

struct NodeStats {
  std::string name;
  Outcome outcome = Outcome::Pending;
  std::uint64_t items = 0;  // for_each nodes: items handled
  std::uint64_t ns = 0;     // time in the callable (for_each: summed over items)
};

struct TraceEvent {
  std::uint32_t worker = 0;
  std::uint32_t node = 0;
  std::uint64_t start_ns = 0;  // since the run started
  std::uint64_t dur_ns = 0;
  bool item = false;
  const std::string* name = nullptr;  // the node's name (kept alive by the report)
};

struct RunReport {
  RunStatus status = RunStatus::Succeeded;
  std::size_t ran = 0, failed = 0, skipped_not_taken = 0, skipped_failed = 0, cancelled = 0;  // nodes
  std::size_t subgraph_nodes = 0;  // of the counts above, nodes of spawned subgraphs
  std::uint64_t items = 0;         // for_each items handled
  std::exception_ptr error;        // the first exception
  std::string failed_node;         // the node that threw it
  std::vector<NodeStats> nodes;    // RunOptions::profile: one per top-level node, in NodeId order
  std::vector<TraceEvent> trace;   // RunOptions::trace
  std::shared_ptr<const void> keep_alive;  // keeps the names in `trace` valid
  void rethrow_if_failed() const {
    if (error) std::rethrow_exception(error);
  }
};

struct ExecutorStats {
  std::uint64_t executed = 0;    // tasks (nodes and items) executed by workers
  std::uint64_t from_queue = 0;  // of those, taken from the task ring (the rest came from local batches)
  std::uint64_t shared = 0;      // tasks a worker moved from its local batch to the ring for idle workers
  std::uint64_t overflowed = 0;  // ready tasks that went to a worker's overflow list
  std::uint64_t inline_items = 0;  // stream items the emitting worker handled itself (ring full)
  std::uint64_t stolen = 0;        // tasks an idle worker took from another worker's local batch
};

namespace detail {
struct RunState;
class PoolBase;
}  // namespace detail

class RunHandle {
 public:
  RunHandle() = default;
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(run_); }
  [[nodiscard]] bool done() const noexcept;
  // Blocks until the run is finished; returns its report (the same on every call).
  RunReport wait();
  // Stops scheduling: nodes not yet started are resolved as Cancelled without running.
  void cancel() noexcept;
  // RunOptions::stream_results only (else std::logic_error): blocks until at least one result is there,
  // moves up to out.size() of them into `out` (one batch pop), returns how many; 0 once the run is
  // finished and every result was taken.
  std::size_t next_results(std::span<NodeResult> out);

 private:
  friend class Executor;
  explicit RunHandle(std::shared_ptr<detail::RunState> run) : run_(std::move(run)) {}
  std::shared_ptr<detail::RunState> run_;
};

class Executor {
 public:
  explicit Executor(ExecutorOptions options = {});
  ~Executor();  // waits for the runs in flight, then stops the workers
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Compiles `graph` (CycleError / GraphError here), then starts it. The graph must outlive no run:
  // a run keeps the compiled snapshot alive itself.
  RunHandle run_async(const Graph& graph, RunOptions options = {});
  RunReport run(const Graph& graph, RunOptions options = {}) { return run_async(graph, options).wait(); }

  [[nodiscard]] unsigned workers() const noexcept;
  [[nodiscard]] const ExecutorOptions& options() const noexcept { return options_; }
  [[nodiscard]] ExecutorStats stats() const noexcept;  // cumulative, all runs (a racy snapshot while running)

 private:
  ExecutorOptions options_;
  std::unique_ptr<detail::PoolBase> pool_;
};

}  // namespace ringkit::dag
