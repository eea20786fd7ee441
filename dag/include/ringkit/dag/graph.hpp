// SPDX-License-Identifier: MIT
#pragma once
// ringkit::dag::Graph: a directed acyclic graph of tasks, built once and run any number of times by an
// Executor (executor.hpp).
//
//   ringkit::dag::Graph g("build");
//   auto a = g.task("fetch", [] { ... });
//   auto b = g.task("parse", [](ringkit::dag::Context& ctx) { ... });
//   g.precede(a, b);                       // a runs before b
//   auto src = g.stream("lines", [](Context& ctx) { for (...) ctx.emit(i); });
//   auto each = g.for_each("count", src, [](Context&, Item i) { ... });  // once per item, as emitted
//   auto c = g.condition("which", [](Context&) -> std::size_t { return 1; });  // runs successor #1 only
//
// Node kinds
//   task       a callable, void() or void(Context&). Context::spawn(Graph) runs a subgraph created while
//              the task runs; the task's successors wait for the subgraph too.
//   condition  returns the index (in precede() order) of the ONE successor to run; the others are not
//              taken. A node runs when all its predecessors are resolved and at least one incoming edge
//              was taken (or it has no predecessors); a node none of whose incoming edges was taken is
//              skipped, and passes "not taken" on (dead-path elimination). Joins after an if/else work.
//   stream     an iterator node: its body calls Context::emit(item) as it produces items; each for_each
//              node fed by it runs its item callable once per item, on any worker, while the stream is
//              still producing. Regular successors of a stream run after it returns.
//   for_each   fed by exactly one stream node; it is resolved when the stream has returned and every item
//              has been handled; its successors run after that.
// A failed node (its callable threw) fails the run: the first exception is kept; every node that depends
// on a failed node (transitively) is skipped; independent nodes still run.
//
// Items are 64-bit values (an index, an id, a handle into storage the caller owns): moving one through a
// ring never allocates.
//
// Building is single-threaded. A graph may be run concurrently and repeatedly; modifying it while a run
// is in flight is not allowed (runs use a compiled snapshot: a modification after compile() makes the
// next run compile again). A cycle is rejected when the graph is compiled (first run, or validate()),
// with a CycleError naming the nodes on the cycle.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringkit::dag {

using Item = std::uint64_t;
class Context;
class Graph;

enum class NodeKind : std::uint8_t { Task, Condition, Stream, ForEach };

struct NodeId {
  std::uint32_t index = UINT32_MAX;
  [[nodiscard]] bool valid() const noexcept { return index != UINT32_MAX; }
  friend bool operator==(NodeId, NodeId) = default;
};

// A graph that cannot run: bad node ids, a for_each node not fed by exactly one stream, ...
class GraphError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The graph has a cycle. what() names it ("cycle: a -> b -> c -> a"); nodes() lists it in order.
class CycleError : public GraphError {
 public:
  explicit CycleError(std::vector<std::string> cycle);
  [[nodiscard]] const std::vector<std::string>& nodes() const noexcept { return nodes_; }

 private:
  std::vector<std::string> nodes_;
};

namespace detail {
struct RunState;
class PoolBase;
struct ContextAccess;

// The immutable, compiled form of a Graph that runs use (shared by all runs of one graph version).
struct Topology {
  std::string graph_name;
  std::vector<std::string> names;
  std::vector<NodeKind> kinds;
  std::vector<std::uint32_t> pred_count;
  std::vector<std::uint32_t> succ_begin;  // CSR: successors of n are succs[succ_begin[n] .. succ_begin[n+1])
  std::vector<std::uint32_t> succs;       // in precede() order (a condition's branch index is this order)
  std::vector<std::uint32_t> roots;       // nodes without predecessors
  std::vector<std::function<void(Context&)>> task_fns;              // Task and Stream bodies
  std::vector<std::function<std::size_t(Context&)>> condition_fns;  // Condition bodies
  std::vector<std::function<void(Context&, Item)>> item_fns;        // ForEach bodies
  [[nodiscard]] std::size_t size() const noexcept { return kinds.size(); }
};
}  // namespace detail

// What a running callable may do: learn where it runs, emit items (stream nodes), spawn subgraphs (task
// and stream nodes), check for cancellation.
class Context {
 public:
  [[nodiscard]] NodeId node() const noexcept { return NodeId{node_}; }
  [[nodiscard]] const std::string& node_name() const noexcept;
  [[nodiscard]] unsigned worker() const noexcept { return worker_; }
  // True once the run was cancelled (or failed with cancel_on_error): long bodies may stop early.
  [[nodiscard]] bool cancelled() const noexcept;
  // Stream nodes only (else GraphError): hands `item` to every for_each node this stream feeds. The item
  // goes to the shared task ring for any worker to take; when the ring is full the emitting worker handles
  // the item itself (the ring pushes back: the producer slows to the consumers' pace; memory stays bounded).
  void emit(Item item);
  // Task and stream nodes: run `sub` as part of this node (compiled now: a cycle throws CycleError here,
  // failing this node). This node's successors run after the body returned AND every spawned subgraph
  // finished; a failure inside a subgraph fails this node.
  void spawn(const Graph& sub);

 private:
  friend struct detail::ContextAccess;
  Context(detail::RunState* run, std::uint32_t node, unsigned worker, detail::PoolBase* pool) noexcept
      : run_(run), node_(node), worker_(worker), pool_(pool) {}
  detail::RunState* run_;
  std::uint32_t node_;
  unsigned worker_;
  detail::PoolBase* pool_;
  bool spawned_ = false;
};

class Graph {
 public:
  using TaskFn = std::function<void(Context&)>;
  using ConditionFn = std::function<std::size_t(Context&)>;
  using ItemFn = std::function<void(Context&, Item)>;

  explicit Graph(std::string name = "graph");
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  // A task: `fn` is void() or void(Context&).
  template <class F>
  NodeId task(std::string name, F&& fn) {
    if constexpr (std::is_invocable_v<F&, Context&>) {
      return add(std::move(name), NodeKind::Task, TaskFn(std::forward<F>(fn)), {}, {});
    } else {
      static_assert(std::is_invocable_v<F&>, "task: the callable must be void() or void(Context&)");
      return add(std::move(name), NodeKind::Task, TaskFn([f = std::forward<F>(fn)](Context&) mutable { f(); }), {},
                 {});
    }
  }
  // A condition: `fn` returns the index of the successor to run (precede() order); an index out of range
  // fails the node with a GraphError naming it.
  NodeId condition(std::string name, ConditionFn fn);
  // A stream (iterator) node: its body emits items with ctx.emit(item).
  NodeId stream(std::string name, TaskFn fn);
  // A for_each node fed by `source` (a stream node; else GraphError): `fn` runs once per emitted item.
  // Adds the edge source -> this node; a for_each node may have no other predecessor.
  NodeId for_each(std::string name, NodeId source, ItemFn fn);

  // `from` runs (is resolved) before `to`. Ids from another graph or out of range: GraphError.
  void precede(NodeId from, NodeId to);
  void precede(NodeId from, std::initializer_list<NodeId> to) {
    for (NodeId t : to) precede(from, t);
  }
  void succeed(NodeId to, std::initializer_list<NodeId> from) {
    for (NodeId f : from) precede(f, to);
  }

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& name(NodeId id) const;
  [[nodiscard]] NodeKind kind(NodeId id) const;

  // Throws CycleError / GraphError if the graph cannot run.
  void validate() const { (void)compile(); }
  // The compiled snapshot runs use; built on first use and cached until the graph is modified.
  [[nodiscard]] std::shared_ptr<const detail::Topology> compile() const;

 private:
  struct Node {
    std::string name;
    NodeKind kind;
    TaskFn task;
    ConditionFn condition;
    ItemFn item;
    std::vector<std::uint32_t> succs;
    std::uint32_t preds = 0;
  };
  NodeId add(std::string name, NodeKind kind, TaskFn task, ConditionFn condition, ItemFn item);
  void check(NodeId id, const char* what) const;
  void modified() noexcept;

  std::string name_;
  std::vector<Node> nodes_;
  std::unique_ptr<std::mutex> cache_mutex_;
  mutable std::shared_ptr<const detail::Topology> cache_;  // guarded by *cache_mutex_
};

}  // namespace ringkit::dag
