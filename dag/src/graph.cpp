// SPDX-License-Identifier: MIT
#include "ringkit/dag/graph.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace ringkit::dag {

namespace {
std::string join_cycle(const std::vector<std::string>& nodes) {
  std::string s = "graph has a cycle: ";
  for (const auto& n : nodes) s += "'" + n + "' -> ";
  s += nodes.empty() ? std::string("?") : "'" + nodes.front() + "'";
  return s;
}
}  // namespace

CycleError::CycleError(std::vector<std::string> cycle) : GraphError(join_cycle(cycle)), nodes_(std::move(cycle)) {}

Graph::Graph(std::string name) : name_(std::move(name)), cache_mutex_(std::make_unique<std::mutex>()) {}
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

void Graph::modified() noexcept {
  if (cache_mutex_) {
    std::lock_guard lock(*cache_mutex_);
    cache_.reset();
  }
}

NodeId Graph::add(std::string name, NodeKind kind, TaskFn task, ConditionFn condition, ItemFn item) {
  if (nodes_.size() >= UINT32_MAX - 1) throw GraphError("graph '" + name_ + "': too many nodes");
  const bool has_body = kind == NodeKind::Condition ? static_cast<bool>(condition)
                        : kind == NodeKind::ForEach ? static_cast<bool>(item)
                                                    : static_cast<bool>(task);
  if (!has_body) throw GraphError("graph '" + name_ + "': node '" + name + "' has an empty callable");
  modified();
  nodes_.push_back(Node{std::move(name), kind, std::move(task), std::move(condition), std::move(item), {}, 0});
  return NodeId{static_cast<std::uint32_t>(nodes_.size() - 1)};
}

void Graph::check(NodeId id, const char* what) const {
  if (!id.valid() || id.index >= nodes_.size()) {
    throw GraphError("graph '" + name_ + "': " + what + ": node id " +
                     (id.valid() ? std::to_string(id.index) : std::string("<invalid>")) + " is not a node of it (" +
                     std::to_string(nodes_.size()) + " nodes)");
  }
}

NodeId Graph::condition(std::string name, ConditionFn fn) {
  return add(std::move(name), NodeKind::Condition, {}, std::move(fn), {});
}

NodeId Graph::stream(std::string name, TaskFn fn) { return add(std::move(name), NodeKind::Stream, std::move(fn), {}, {}); }

NodeId Graph::for_each(std::string name, NodeId source, ItemFn fn) {
  check(source, "for_each source");
  if (nodes_[source.index].kind != NodeKind::Stream) {
    throw GraphError("graph '" + name_ + "': for_each node '" + name + "' must be fed by a stream node, and '" +
                     nodes_[source.index].name + "' is not one");
  }
  const NodeId id = add(std::move(name), NodeKind::ForEach, {}, {}, std::move(fn));
  nodes_[source.index].succs.push_back(id.index);
  nodes_[id.index].preds = 1;
  return id;
}

void Graph::precede(NodeId from, NodeId to) {
  check(from, "precede(from)");
  check(to, "precede(to)");
  if (nodes_[to.index].kind == NodeKind::ForEach) {
    throw GraphError("graph '" + name_ + "': for_each node '" + nodes_[to.index].name +
                     "' takes its items from its stream only; edge from '" + nodes_[from.index].name + "' rejected");
  }
  modified();
  nodes_[from.index].succs.push_back(to.index);
  ++nodes_[to.index].preds;
}

const std::string& Graph::name(NodeId id) const {
  check(id, "name");
  return nodes_[id.index].name;
}

NodeKind Graph::kind(NodeId id) const {
  check(id, "kind");
  return nodes_[id.index].kind;
}

std::shared_ptr<const detail::Topology> Graph::compile() const {
  if (!cache_mutex_) throw GraphError("graph '" + name_ + "': used after being moved from");
  std::lock_guard lock(*cache_mutex_);
  if (cache_) return cache_;
  const std::size_t n = nodes_.size();

  // Kahn's algorithm: every node must be removable; what is left holds a cycle.
  std::vector<std::uint32_t> indeg(n);
  for (std::size_t i = 0; i < n; ++i) indeg[i] = nodes_[i].preds;
  std::vector<std::uint32_t> stack;
  for (std::size_t i = 0; i < n; ++i) {
    if (indeg[i] == 0) stack.push_back(static_cast<std::uint32_t>(i));
  }
  std::size_t removed = 0;
  while (!stack.empty()) {
    const std::uint32_t v = stack.back();
    stack.pop_back();
    ++removed;
    for (std::uint32_t s : nodes_[v].succs) {
      if (--indeg[s] == 0) stack.push_back(s);
    }
  }
  if (removed != n) {
    // Every remaining node has a remaining predecessor: walk predecessors backwards from any of them
    // until a node repeats; the walk between the two visits is a cycle.
    std::vector<std::vector<std::uint32_t>> preds(n);
    for (std::size_t v = 0; v < n; ++v) {
      for (std::uint32_t s : nodes_[v].succs) {
        if (indeg[s] != 0 && indeg[v] != 0) preds[s].push_back(static_cast<std::uint32_t>(v));
      }
    }
    std::uint32_t v = 0;
    while (indeg[v] == 0) ++v;
    std::vector<std::int64_t> seen_at(n, -1);
    std::vector<std::uint32_t> walk;
    while (seen_at[v] < 0) {
      seen_at[v] = static_cast<std::int64_t>(walk.size());
      walk.push_back(v);
      v = preds[v].front();
    }
    std::vector<std::string> cycle;
    for (auto i = static_cast<std::size_t>(seen_at[v]); i < walk.size(); ++i) cycle.push_back(nodes_[walk[i]].name);
    std::reverse(cycle.begin(), cycle.end());  // the walk went against the edges
    throw CycleError(std::move(cycle));
  }

  auto t = std::make_shared<detail::Topology>();
  t->graph_name = name_;
  t->names.reserve(n);
  t->kinds.reserve(n);
  t->pred_count.reserve(n);
  t->succ_begin.reserve(n + 1);
  t->task_fns.resize(n);
  t->condition_fns.resize(n);
  t->item_fns.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = nodes_[i];
    t->names.push_back(node.name);
    t->kinds.push_back(node.kind);
    t->pred_count.push_back(node.preds);
    t->succ_begin.push_back(static_cast<std::uint32_t>(t->succs.size()));
    t->succs.insert(t->succs.end(), node.succs.begin(), node.succs.end());
    if (node.preds == 0) t->roots.push_back(static_cast<std::uint32_t>(i));
    switch (node.kind) {
      case NodeKind::Task:
      case NodeKind::Stream: t->task_fns[i] = node.task; break;
      case NodeKind::Condition: t->condition_fns[i] = node.condition; break;
      case NodeKind::ForEach: t->item_fns[i] = node.item; break;
    }
  }
  t->succ_begin.push_back(static_cast<std::uint32_t>(t->succs.size()));
  cache_ = std::move(t);
  return cache_;
}

}  // namespace ringkit::dag
