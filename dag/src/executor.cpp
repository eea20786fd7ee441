// SPDX-License-Identifier: MIT
// The executor: run state, the worker pool over a task ring (ringkit::MpmcQueue or the channel
// baseline), per-worker local batches, completion counting. docs/dag.md explains the design.
#include "ringkit/dag/executor.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ringkit/dag/channel_queue.hpp"
#include "ringkit/detail/fence.hpp"
#include "ringkit/mpmc_queue.hpp"
#include "ringkit/mpsc_queue.hpp"
#include "ringkit/wait_strategy.hpp"

namespace ringkit::dag {

const char* to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::Pending: return "pending";
    case Outcome::Ran: return "ran";
    case Outcome::Failed: return "failed";
    case Outcome::SkippedNotTaken: return "skipped_not_taken";
    case Outcome::SkippedFailed: return "skipped_failed";
    case Outcome::Cancelled: return "cancelled";
  }
  return "?";
}

const char* to_string(RunStatus s) noexcept {
  switch (s) {
    case RunStatus::Succeeded: return "succeeded";
    case RunStatus::Failed: return "failed";
    case RunStatus::Cancelled: return "cancelled";
  }
  return "?";
}

namespace detail {

using ringkit::detail::heavy_store_load_fence;
using ringkit::detail::light_store_load_fence;

namespace {
// Per-node flag bits.
constexpr std::uint8_t kActive = 1;      // some incoming edge was taken
constexpr std::uint8_t kPoison = 2;      // a predecessor failed / was skipped for a failure / cancelled
constexpr std::uint8_t kItemFailed = 4;  // for_each: an item callable threw
constexpr std::uint8_t kBodyFailed = 8;  // task with spawned subgraphs: the body or a subgraph failed

constexpr std::uint32_t kNodeTask = 0;
constexpr std::uint32_t kItemTask = 1;
constexpr std::uint32_t kKindMask = 0xFF;
constexpr unsigned kFlagsShift = 8;  // Task::kind carries a single-predecessor node's flag bits above the kind

constexpr std::size_t kLocal = 256;  // per-worker local batch (a power of two)

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

// What moves through the task ring: 24 bytes, trivially copyable.
struct Task {
  RunState* run = nullptr;
  std::uint32_t node = 0;
  std::uint32_t kind = kNodeTask;
  Item item = 0;
};
static_assert(sizeof(Task) == 24 && std::is_trivially_copyable_v<Task>);

struct RunState {
  std::shared_ptr<const Topology> topo;
  RunState* root = this;
  RunState* parent = nullptr;  // subgraph runs: the run and node that spawned it
  std::uint32_t parent_node = 0;
  std::shared_ptr<RunState> self;  // the run holds itself until it completes
  PoolBase* pool = nullptr;
  bool timed = false;              // profile or trace: read the clock around callables
  RunOptions options;

  // Per node, one 8-byte record (one cache line serves 8 nodes):
  struct NodeState {
    std::atomic<std::uint32_t> pending{0};  // unresolved predecessors (+ items in flight, + subgraphs)
    std::atomic<std::uint8_t> flags{0};
    Outcome outcome = Outcome::Pending;  // written once, by the node's resolver
  };
  std::unique_ptr<NodeState[]> node;
  std::unique_ptr<std::atomic<std::uint64_t>[]> items;    // for_each: items handled
  std::unique_ptr<std::atomic<std::uint64_t>[]> ns;       // profile: time in callables

  alignas(64) std::atomic<std::uint64_t> unresolved{0};  // nodes not yet resolved (flushed per worker)

  // ---- root run only ----
  alignas(64) std::atomic<bool> cancel{false};
  std::atomic<bool> has_error{false};
  std::exception_ptr error;  // written by the has_error winner
  std::string error_node;
  std::atomic<std::uint64_t> sub_counts[6] = {};  // per Outcome, nodes of finished subgraph runs
  std::atomic<std::uint64_t> sub_items{0};
  std::mutex keep_mutex;
  std::vector<std::shared_ptr<const Topology>> keep;  // subgraph topologies (names used by the trace)
  std::vector<std::vector<TraceEvent>> trace;          // per worker: only that worker appends
  std::uint64_t t0 = 0;
  std::unique_ptr<MpscQueue<NodeResult, Blocking>> results;
  RunReport report;  // built by the completing thread before `done` is set
  std::atomic<std::uint32_t> done{0};
};

// Reaches Context's private members for the pool.
struct ContextAccess {
  static Context make(RunState* run, std::uint32_t node, unsigned worker, PoolBase* pool) noexcept {
    return Context(run, node, worker, pool);
  }
  static RunState* run(const Context& c) noexcept { return c.run_; }
  static std::uint32_t node(const Context& c) noexcept { return c.node_; }
  static unsigned worker(const Context& c) noexcept { return c.worker_; }
  static PoolBase* pool(const Context& c) noexcept { return c.pool_; }
  static bool& spawned(Context& c) noexcept { return c.spawned_; }
};

class PoolBase {
 public:
  virtual ~PoolBase() = default;
  virtual std::shared_ptr<RunState> start(std::shared_ptr<const Topology> topo, const RunOptions& options) = 0;
  virtual void emit(Context& ctx, Item item) = 0;
  virtual void spawn(Context& ctx, const Graph& graph) = 0;
  [[nodiscard]] virtual unsigned workers() const noexcept = 0;
  [[nodiscard]] virtual ExecutorStats stats() const noexcept = 0;
};

namespace {

thread_local PoolBase* tl_pool = nullptr;  // the pool whose worker this thread is
thread_local void* tl_worker = nullptr;

// A per-worker counter written by its worker only; read by stats() from anywhere.
struct OwnCounter {
  std::atomic<std::uint64_t> v{0};
  // relaxed (both): a statistic; one writer.
  void add(std::uint64_t n) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  // relaxed: a statistic; stats() may read a slightly stale value.
  [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

// The local batch: a bounded Chase-Lev work-stealing deque of kLocal tasks (Le, Pop, Cohen, Zappa
// Nardelli, "Correct and efficient work-stealing for weak memory models", PPoPP 2013, with its two
// seq_cst fences replaced by ringkit's asymmetric pair: the owner's frequent side is a compiler barrier,
// the thief's rare side a membarrier). The owner pushes and pops the newest end (bottom_); thieves, and
// the owner when it shares with the ring, take the oldest end (top_) with a CAS.
// Slots are relaxed atomics: a slow thief may read a slot the owner is reusing; its CAS on top_ then
// fails and it drops what it read (no data race, nothing torn is ever used).
class StealDeque {
 public:
  // Owner. False when full.
  bool push(const Task& t) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);  // relaxed: only the owner writes it
    // acquire: pairs with the thieves' CAS on top_ (the slot we reuse was read before they moved on).
    const std::int64_t tp = top_.load(std::memory_order_acquire);
    if (b - tp >= static_cast<std::int64_t>(kLocal)) return false;
    write(b, t);
    bottom_.store(b + 1, std::memory_order_release);  // release: publishes the slot; pairs with steal()'s acquire
    return true;
  }
  // Owner: the newest task.
  bool pop(Task& out) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;  // relaxed: owner-written
    bottom_.store(b, std::memory_order_release);  // release: as in push (a thief may read this value)
    light_store_load_fence();  // StoreLoad bottom_ -> top_; pairs with the heavy fence in Pool::try_steal()
    std::int64_t t = top_.load(std::memory_order_relaxed);  // relaxed: ordered by the fence pair
    if (t > b) {  // empty
      bottom_.store(b + 1, std::memory_order_release);  // release: as above
      return false;
    }
    out = read(b);
    if (t != b) return true;
    // The last task: race the thieves for it on top_. seq_cst: pairs with their CAS.
    const bool won = top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
    bottom_.store(b + 1, std::memory_order_release);  // release: as above
    return won;
  }
  enum class Steal : std::uint8_t { Got, Empty, Lost };
  // Thief: the oldest task, given top `t` loaded (top()) BEFORE a StoreLoad fence the caller made.
  Steal steal_at(std::int64_t t, Task& out) noexcept {
    // acquire: pairs with the owner's release stores of bottom_ (the slots below it are published).
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return Steal::Empty;
    out = read(t);
    // seq_cst: pairs with the owner's CAS in pop() and other thieves'; failure: someone else took it.
    return top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed) ? Steal::Got
                                                                                                       : Steal::Lost;
  }
  [[nodiscard]] std::int64_t top() const noexcept {
    return top_.load(std::memory_order_acquire);  // acquire: pairs with the CASes on top_
  }
  // Owner: the oldest task (for sharing it through the ring); no fence needed, bottom_ is ours.
  bool take_oldest(Task& out) noexcept { return steal_at(top(), out) == Steal::Got; }
  // Owner: tasks held (exact for the owner up to concurrent steals, which only lower it).
  [[nodiscard]] std::size_t size() const noexcept {
    // relaxed (both): a size estimate; steals only make it smaller.
    const std::int64_t d = bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_relaxed);
    return d > 0 ? static_cast<std::size_t>(d) : 0;
  }

 private:
  struct Slot {
    std::atomic<RunState*> run{nullptr};
    std::atomic<std::uint64_t> node_kind{0};
    std::atomic<Item> item{0};
  };
  void write(std::int64_t i, const Task& t) noexcept {
    Slot& s = slots_[static_cast<std::size_t>(i) & (kLocal - 1)];
    // relaxed (all): published by the release store of bottom_ that follows.
    s.run.store(t.run, std::memory_order_relaxed);
    // relaxed: published by the release store of bottom_ that follows, as above.
    s.node_kind.store(static_cast<std::uint64_t>(t.node) << 32 | t.kind, std::memory_order_relaxed);
    s.item.store(t.item, std::memory_order_relaxed);  // relaxed: as above
  }
  Task read(std::int64_t i) const noexcept {
    const Slot& s = slots_[static_cast<std::size_t>(i) & (kLocal - 1)];
    // relaxed (all): ordered after the publishing bottom_ store by the caller's acquire; a stale read
    // is discarded when the CAS on top_ fails.
    const std::uint64_t nk = s.node_kind.load(std::memory_order_relaxed);
    // relaxed: ordered by the caller's acquire of bottom_, as above.
    return Task{s.run.load(std::memory_order_relaxed), static_cast<std::uint32_t>(nk >> 32),
                static_cast<std::uint32_t>(nk), s.item.load(std::memory_order_relaxed)};  // relaxed: as above
  }

  alignas(64) std::atomic<std::int64_t> top_{0};     // oldest; thieves CAS it
  alignas(64) std::atomic<std::int64_t> bottom_{0};  // newest + 1; written by the owner only
  alignas(64) std::array<Slot, kLocal> slots_{};
};

struct alignas(64) Worker {
  unsigned id = 0;
  StealDeque local;            // the local batch (stealable)
  std::vector<Task> overflow;  // ready tasks that fit neither the local batch nor the ring (owner only)
  std::array<Task, kLocal> buf{};
  RunState* flush_run = nullptr;  // nodes resolved here but not yet subtracted from that run's count
  std::uint64_t unflushed = 0;
  std::vector<std::int64_t> tops;  // try_steal()'s scratch: one top per worker (sized at start)
  alignas(64) OwnCounter executed, from_queue, shared, overflowed, inline_items, stolen;
  std::thread thread;
};

// The two task rings behind one interface.
template <class Q>
bool push_blocking(Q& q, const Task& t) {
  if constexpr (std::is_same_v<Q, ChannelQueue<Task>>) {
    return q.push(t);
  } else {
    return q.push(t) == PushResult::Pushed;
  }
}

template <class Q>
class Pool final : public PoolBase {
 public:
  explicit Pool(const ExecutorOptions& o)
      : ring_(o.ring_capacity),
        local_batches_(o.local_batches),
        pop_batch_(std::clamp<std::size_t>(o.pop_batch, 1, kLocal)) {
    unsigned n = o.workers != 0 ? o.workers : std::max(1U, std::thread::hardware_concurrency());
    workers_.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      w->id = i;
      w->overflow.reserve(o.overflow_reserve);
      w->tops.resize(n);
      workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) {
      Worker* wp = w.get();
      wp->thread = std::thread([this, wp] { worker_main(*wp); });
    }
  }

  ~Pool() override {
    // acquire: pairs with the release decrement in complete(); every run's last touch of the pool is before it.
    for (std::uint64_t n = active_runs_.load(std::memory_order_acquire); n != 0;
         n = active_runs_.load(std::memory_order_acquire)) {  // acquire: as above
      active_runs_.wait(n, std::memory_order_acquire);  // acquire: as above
    }
    ring_.close();
    for (auto& w : workers_) w->thread.join();
  }

  [[nodiscard]] unsigned workers() const noexcept override { return static_cast<unsigned>(workers_.size()); }

  [[nodiscard]] ExecutorStats stats() const noexcept override {
    ExecutorStats s;
    for (const auto& w : workers_) {
      s.executed += w->executed.get();
      s.from_queue += w->from_queue.get();
      s.shared += w->shared.get();
      s.overflowed += w->overflowed.get();
      s.inline_items += w->inline_items.get();
      s.stolen += w->stolen.get();
    }
    return s;
  }

  std::shared_ptr<RunState> start(std::shared_ptr<const Topology> topo, const RunOptions& options) override {
    auto r = make_run(std::move(topo), nullptr, 0, options);
    active_runs_.fetch_add(1, std::memory_order_relaxed);  // relaxed: the pool is alive (our caller holds it)
    r->self = r;
    RunState& run = *r;
    const Topology& g = *run.topo;
    if (g.size() == 0) {
      complete(nullptr, run);
      return r;
    }
    Worker* w = current_worker();
    if (w != nullptr) {  // started from a task of this pool: the roots go to this worker's local batch
      for (std::uint32_t root : g.roots) schedule(*w, Task{&run, root, kNodeTask, 0});
      return r;
    }
    // From outside the pool: batches of roots into the ring; a full ring pushes back (we wait for room).
    std::array<Task, 128> batch{};
    std::size_t i = 0;
    while (i < g.roots.size()) {
      const std::size_t k = std::min(batch.size(), g.roots.size() - i);
      for (std::size_t j = 0; j < k; ++j) batch[j] = Task{&run, g.roots[i + j], kNodeTask, 0};
      std::size_t done = ring_.push_batch(std::span<Task>(batch.data(), k));
      if (done == 0) {
        if (!push_blocking(ring_, batch[0])) throw std::logic_error("dag::Executor: task ring closed");
        done = 1;
      }
      i += done;
    }
    return r;
  }

  void emit(Context& ctx, Item item) override {
    RunState& run = *ContextAccess::run(ctx);
    const std::uint32_t n = ContextAccess::node(ctx);
    const Topology& g = *run.topo;
    if (g.kinds[n] != NodeKind::Stream) {
      throw GraphError("emit: node '" + g.names[n] + "' is not a stream node");
    }
    Worker& w = *workers_[ContextAccess::worker(ctx)];
    for (std::uint32_t k = g.succ_begin[n]; k != g.succ_begin[n + 1]; ++k) {
      const std::uint32_t f = g.succs[k];
      if (g.kinds[f] != NodeKind::ForEach) continue;
      // relaxed: the stream's own edge keeps pending[f] above zero until the stream finishes; the item's
      // decrement (acq_rel, in run_item) is what orders its work before the for_each node resolves.
      run.node[f].pending.fetch_add(1, std::memory_order_relaxed);
      const Task t{&run, f, kItemTask, item};
      if (!ring_.try_push(t)) {  // the ring is full: push back, this worker handles the item itself
        w.inline_items.add(1);
        run_item(w, run, f, item);
      }
    }
  }

  void spawn(Context& ctx, const Graph& graph) override {
    RunState& run = *ContextAccess::run(ctx);
    const std::uint32_t n = ContextAccess::node(ctx);
    const NodeKind kind = run.topo->kinds[n];
    if (kind != NodeKind::Task && kind != NodeKind::Stream) {
      throw GraphError("spawn: node '" + run.topo->names[n] + "' is not a task or stream node");
    }
    auto topo = graph.compile();  // CycleError / GraphError fail this node
    {
      std::lock_guard lock(run.root->keep_mutex);
      run.root->keep.push_back(topo);
    }
    bool& spawned = ContextAccess::spawned(ctx);
    if (!spawned) {
      spawned = true;
      // relaxed: pending[n] is 0 while n runs and nobody else touches it until the body returns.
      run.node[n].pending.store(1, std::memory_order_relaxed);  // the body's own token
    }
    run.node[n].pending.fetch_add(1, std::memory_order_relaxed);  // relaxed: as above; the subrun's token
    auto sub = make_run(std::move(topo), &run, n, run.root->options);
    sub->self = sub;
    Worker& w = *workers_[ContextAccess::worker(ctx)];
    RunState& s = *sub;
    if (s.topo->size() == 0) {
      complete(&w, s);
      return;
    }
    for (std::uint32_t root : s.topo->roots) schedule(w, Task{&s, root, kNodeTask, 0});
  }

 private:
  Worker* current_worker() const noexcept {
    return tl_pool == this ? static_cast<Worker*>(tl_worker) : nullptr;
  }

  std::shared_ptr<RunState> make_run(std::shared_ptr<const Topology> topo, RunState* parent, std::uint32_t parent_node,
                                     const RunOptions& options) {
    auto r = std::make_shared<RunState>();
    const std::size_t n = topo->size();
    r->topo = std::move(topo);
    r->pool = this;
    r->options = options;
    if (parent != nullptr) {
      r->root = parent->root;
      r->parent = parent;
      r->parent_node = parent_node;
    }
    r->timed = (parent == nullptr && options.profile) || options.trace;
    r->node = std::make_unique<RunState::NodeState[]>(n);
    r->items = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    if (parent == nullptr && options.profile) r->ns = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    for (std::size_t i = 0; i < n; ++i) {
      // relaxed (all): construction; the run is published to workers through the ring / local batch.
      r->node[i].pending.store(r->topo->pred_count[i], std::memory_order_relaxed);
    }
    r->unresolved.store(n, std::memory_order_relaxed);  // relaxed: as above
    if (parent == nullptr) {
      if (options.stream_results) {
        // One result per node: the ring never fills within a run, so workers never wait on a slow reader.
        r->results = std::make_unique<MpscQueue<NodeResult, Blocking>>(std::bit_ceil(std::max<std::size_t>(n, 1)));
      }
      if (options.trace) {
        r->trace.resize(workers_.size());
        r->t0 = now_ns();
      }
    }
    return r;
  }

  void worker_main(Worker& w) {
    tl_pool = this;
    tl_worker = &w;
    const std::size_t nworkers = workers_.size();
    for (;;) {
      Task t;
      if (w.local.pop(t)) {
        // the newest task of the local batch
      } else if (!w.overflow.empty()) {
        t = w.overflow.back();
        w.overflow.pop_back();
      } else {
        flush(w);  // may complete a subgraph run, resolve its parent node and make tasks ready here
        if (w.local.size() != 0 || !w.overflow.empty()) continue;
        // Take a fair share of what waits (so one worker does not take everything while others idle),
        // at most pop_batch, in one batch pop.
        const std::size_t want = std::clamp<std::size_t>(ring_.size_approx() / nworkers, 1, pop_batch_);
        std::size_t n = ring_.pop_batch(std::span<Task>(w.buf.data(), want));
        if (n == 0) {
          // Announce idleness BEFORE looking at the other workers' batches: an owner that pushes after
          // our look reads idle_ != 0 (the fence pair in schedule()/try_steal() orders the two) and
          // shares through the ring, whose push wakes us. seq_cst: part of that handshake.
          idle_.fetch_add(1, std::memory_order_seq_cst);
          if (local_batches_ && nworkers > 1 && try_steal(w, t)) {
            idle_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a count share() reads as a hint
            w.stolen.add(1);
            w.executed.add(1);
            execute(w, t);
            continue;
          }
          const bool ok = ring_.pop(t);                   // parks (no CPU) until a task or close()
          idle_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
          if (!ok) return;
          n = 1;
        } else {
          t = w.buf[0];
          // w.buf[1] runs next; the local batch is empty here and n <= pop_batch <= its capacity.
          for (std::size_t i = n - 1; i >= 1; --i) (void)w.local.push(w.buf[i]);
        }
        w.from_queue.add(n);
      }
      w.executed.add(1);  // before execute(): counted before the run it belongs to can complete
      execute(w, t);
    }
  }

  // Takes the oldest task of some other worker's local batch. One StoreLoad fence per scan: load every
  // victim's top, fence, then read bottoms and CAS (the thief half of StealDeque's fence pair, and of
  // the idle_ handshake). Retries while a CAS was lost (another thief or the owner took that task and
  // there may be more); false once every other batch looked empty.
  bool try_steal(Worker& w, Task& out) {
    const std::size_t n = workers_.size();
    for (;;) {
      for (std::size_t i = 1; i < n; ++i) {
        const std::size_t v = (w.id + i) % n;
        w.tops[v] = workers_[v]->local.top();
      }
      heavy_store_load_fence();  // pairs with light_store_load_fence() in StealDeque::pop() and schedule()
      bool lost = false;
      for (std::size_t i = 1; i < n; ++i) {
        const std::size_t v = (w.id + i) % n;
        switch (workers_[v]->local.steal_at(w.tops[v], out)) {
          case StealDeque::Steal::Got: return true;
          case StealDeque::Steal::Lost: lost = true; break;
          case StealDeque::Steal::Empty: break;
        }
      }
      if (!lost) return false;
    }
  }

  // A ready task from a worker: into its local batch (sharing the older half through the ring with
  // idle workers), or, without local batches, into the ring; what fits nowhere goes to the overflow list.
  void schedule(Worker& w, const Task& t) {
    if (!local_batches_) {
      if (!ring_.try_push(t)) to_overflow(w, t);
      return;
    }
    if (!w.local.push(t)) {
      share(w, kLocal / 2);
      if (!w.local.push(t)) {
        to_overflow(w, t);
        return;
      }
    }
    // StoreLoad between the push above and the idle_ load below; pairs with the heavy fence in
    // try_steal(): either a worker going idle sees this task in our batch, or we see it idle here.
    light_store_load_fence();
    // relaxed: ordered by the fence pair. Share only while the ring holds fewer tasks than there are
    // idle workers: a woken worker needs time to arrive, and sharing again before it does would drain
    // this batch into the ring task by task. (A parked worker is woken only by the ring.)
    const std::size_t held = w.local.size();
    if (held >= 2) {
      const std::uint32_t idle = idle_.load(std::memory_order_relaxed);  // relaxed: the fence pair
      if (idle != 0 && ring_.size_approx() < idle) w.shared.add(share(w, held / 2));
    }
  }

  // Moves up to k of the oldest tasks of w's local batch to the ring (one push_batch); what the ring
  // does not take goes back. Returns how many the ring took.
  std::size_t share(Worker& w, std::size_t k) {
    std::size_t got = 0;
    while (got < k && w.local.take_oldest(w.buf[got])) ++got;
    const std::size_t n = ring_.push_batch(std::span<Task>(w.buf.data(), got));
    for (std::size_t i = n; i < got; ++i) {
      if (!w.local.push(w.buf[i])) to_overflow(w, w.buf[i]);
    }
    return n;
  }

  static void to_overflow(Worker& w, const Task& t) {
    w.overflowed.add(1);
    w.overflow.push_back(t);  // allocates only beyond overflow_reserve (a very wide ready set)
  }

  void record_error(RunState& run, std::uint32_t n, std::exception_ptr e) {
    RunState& root = *run.root;
    // acq_rel: one winner writes error/error_node; the completing thread reads them after the countdown
    // chain (acq_rel decrements) that this node's resolution is part of.
    if (!root.has_error.exchange(true, std::memory_order_acq_rel)) {
      root.error = std::move(e);
      root.error_node = run.parent != nullptr ? run.topo->graph_name + "/" + run.topo->names[n] : run.topo->names[n];
    }
  }

  void note_time(Worker& w, RunState& run, std::uint32_t n, std::uint64_t start, bool item) {
    const std::uint64_t end = now_ns();
    if (run.ns) run.ns[n].fetch_add(end - start, std::memory_order_relaxed);  // relaxed: read after completion
    RunState& root = *run.root;
    if (root.options.trace) {
      root.trace[w.id].push_back(TraceEvent{w.id, n, start - root.t0, end - start, item, &run.topo->names[n]});
    }
  }

  void execute(Worker& w, const Task& t) {
    RunState& run = *t.run;
    if ((t.kind & kKindMask) == kItemTask) {
      run_item(w, run, t.node, t.item);
      return;
    }
    const std::uint32_t n = t.node;
    const Topology& g = *run.topo;
    // relaxed: the task reached us from the thread whose acq_rel decrement of pending[n] made it ready
    // (this thread, or through the ring's release push / acquire pop), which ordered every flag write.
    // A single-predecessor node's bits come in the task itself (finish() skips its counter).
    const std::uint8_t f = static_cast<std::uint8_t>(run.node[n].flags.load(std::memory_order_relaxed) |
                                                     (t.kind >> kFlagsShift));
    // relaxed: cancellation is a hint; a late observation runs at most the tasks already taken.
    if (run.root->cancel.load(std::memory_order_relaxed)) return finish(w, run, n, Outcome::Cancelled, 0);
    if ((f & kPoison) != 0) return finish(w, run, n, Outcome::SkippedFailed, 0);
    if (g.pred_count[n] != 0 && (f & kActive) == 0) return finish(w, run, n, Outcome::SkippedNotTaken, 0);
    const std::uint64_t start = run.timed ? now_ns() : 0;
    switch (g.kinds[n]) {
      case NodeKind::ForEach:
        return finish(w, run, n, (f & kItemFailed) != 0 ? Outcome::Failed : Outcome::Ran, 0);
      case NodeKind::Condition: {
        Context ctx = ContextAccess::make(&run, n, w.id, this);
        std::size_t chosen = 0;
        Outcome o = Outcome::Ran;
        try {
          chosen = g.condition_fns[n](ctx);
          const std::size_t branches = g.succ_begin[n + 1] - g.succ_begin[n];
          if (chosen >= branches) {
            throw GraphError("condition '" + g.names[n] + "' returned branch " + std::to_string(chosen) + " but has " +
                             std::to_string(branches) + " successors");
          }
        } catch (...) {
          record_error(run, n, std::current_exception());
          o = Outcome::Failed;
        }
        if (run.timed) note_time(w, run, n, start, false);
        return finish(w, run, n, o, chosen);
      }
      case NodeKind::Task:
      case NodeKind::Stream: {
        Context ctx = ContextAccess::make(&run, n, w.id, this);
        Outcome o = Outcome::Ran;
        try {
          g.task_fns[n](ctx);
        } catch (...) {
          record_error(run, n, std::current_exception());
          o = Outcome::Failed;
        }
        if (run.timed) note_time(w, run, n, start, false);
        if (ContextAccess::spawned(ctx)) {
          // relaxed: published by the acq_rel decrement below.
          if (o == Outcome::Failed) run.node[n].flags.fetch_or(kBodyFailed, std::memory_order_relaxed);
          // acq_rel: pairs with the subgraph runs' decrements in complete(); the last one resolves n.
          if (run.node[n].pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
          // relaxed: ordered by the acquire above.
          o = (run.node[n].flags.load(std::memory_order_relaxed) & kBodyFailed) != 0 ? Outcome::Failed : Outcome::Ran;
        }
        return finish(w, run, n, o, 0);
      }
    }
  }

  void run_item(Worker& w, RunState& run, std::uint32_t f, Item item) {
    // relaxed (both): hints; a late observation runs one more item.
    if (!run.root->cancel.load(std::memory_order_relaxed) &&
        (run.node[f].flags.load(std::memory_order_relaxed) & kItemFailed) == 0) {  // relaxed: a hint, as above
      const std::uint64_t start = run.timed ? now_ns() : 0;
      Context ctx = ContextAccess::make(&run, f, w.id, this);
      try {
        run.topo->item_fns[f](ctx, item);
      } catch (...) {
        record_error(run, f, std::current_exception());
        // relaxed: published by the acq_rel decrement below.
        run.node[f].flags.fetch_or(kItemFailed, std::memory_order_relaxed);
      }
      if (run.timed) note_time(w, run, f, start, true);
      run.items[f].fetch_add(1, std::memory_order_relaxed);  // relaxed: read after completion
    }
    // acq_rel: release publishes this item's work; the last decrement (all items and the stream's edge)
    // acquires them all before the for_each node resolves.
    if (run.node[f].pending.fetch_sub(1, std::memory_order_acq_rel) == 1) schedule(w, Task{&run, f, kNodeTask, 0});
  }

  // Resolves node n: records its outcome, passes taken / not taken / poison to its successors, and
  // schedules those it made ready.
  void finish(Worker& w, RunState& run, std::uint32_t n, Outcome o, std::size_t chosen) {
    run.node[n].outcome = o;
    if (run.results) (void)run.results->try_push(NodeResult{n, o, w.id});  // sized to the graph: never full
    const Topology& g = *run.topo;
    const bool ran = o == Outcome::Ran;
    const bool poison = o == Outcome::Failed || o == Outcome::SkippedFailed || o == Outcome::Cancelled;
    const bool condition = g.kinds[n] == NodeKind::Condition;
    const std::uint32_t b = g.succ_begin[n];
    // Last to first: the local batch is LIFO, so the first successor (precede() order) that becomes ready
    // runs next (wavefront: along the row, in memory order).
    for (std::uint32_t k = g.succ_begin[n + 1]; k-- != b;) {
      const std::uint32_t s = g.succs[k];
      const std::uint8_t bits = poison ? kPoison : (ran && (!condition || k - b == chosen)) ? kActive : 0;
      if (g.pred_count[s] == 1 && g.kinds[s] != NodeKind::ForEach) {
        // n is s's only predecessor: s is ready now; no counter, no shared write (chains, trees). Its
        // bits travel in the task; n's effects reach s in this thread or through the ring (release/acquire).
        schedule(w, Task{&run, s, kNodeTask | (static_cast<std::uint32_t>(bits) << kFlagsShift), 0});
        continue;
      }
      // relaxed: published by the acq_rel decrement below.
      if (bits != 0) run.node[s].flags.fetch_or(bits, std::memory_order_relaxed);
      // acq_rel: the release publishes n's effects and the bits above; the last predecessor's decrement
      // acquires every earlier one (a release sequence on pending[s]) before s runs.
      if (run.node[s].pending.fetch_sub(1, std::memory_order_acq_rel) == 1) schedule(w, Task{&run, s, kNodeTask, 0});
    }
    if (w.flush_run != &run) flush(w);
    w.flush_run = &run;
    ++w.unflushed;
  }

  // Subtracts this worker's resolved nodes from their run; the worker that takes the count to zero
  // completes the run (which may resolve a parent node, i.e. more to flush).
  void flush(Worker& w) {
    while (w.flush_run != nullptr) {
      RunState* r = w.flush_run;
      const std::uint64_t k = w.unflushed;
      w.flush_run = nullptr;
      w.unflushed = 0;
      // acq_rel: release publishes this worker's resolutions; the final decrement acquires all of them.
      if (r->unresolved.fetch_sub(k, std::memory_order_acq_rel) == k) complete(&w, *r);
    }
  }

  void complete(Worker* w, RunState& r) {
    const Topology& g = *r.topo;
    std::uint64_t counts[6] = {};
    std::uint64_t items = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      ++counts[static_cast<std::size_t>(r.node[i].outcome)];
      items += r.items[i].load(std::memory_order_relaxed);  // relaxed: ordered by the countdown's acquire
    }
    RunState& root = *r.root;
    if (r.parent != nullptr) {
      for (std::size_t i = 0; i < 6; ++i) {
        // relaxed: read by the root's completion, which this subrun's completion happens-before.
        root.sub_counts[i].fetch_add(counts[i], std::memory_order_relaxed);
      }
      root.sub_items.fetch_add(items, std::memory_order_relaxed);  // relaxed: as above
      const bool failed = counts[static_cast<std::size_t>(Outcome::Failed)] != 0;
      RunState& p = *r.parent;
      const std::uint32_t pn = r.parent_node;
      std::shared_ptr<RunState> self = std::move(r.self);  // frees this subrun at the end of the scope
      // relaxed: published by the acq_rel decrement below.
      if (failed) p.node[pn].flags.fetch_or(kBodyFailed, std::memory_order_relaxed);
      // acq_rel: pairs with the parent body's decrement in execute() and the other subruns'.
      if (p.node[pn].pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // relaxed: ordered by the acquire above.
        const bool bad = (p.node[pn].flags.load(std::memory_order_relaxed) & kBodyFailed) != 0;
        finish(*w, p, pn, bad ? Outcome::Failed : Outcome::Ran, 0);
      }
      return;
    }
    RunReport& rep = r.report;
    auto sub = [&](Outcome o) {
      // relaxed: every subgraph run's completion happens-before this one (the countdown chain).
      return static_cast<std::size_t>(r.sub_counts[static_cast<std::size_t>(o)].load(std::memory_order_relaxed));
    };
    auto total = [&](Outcome o) { return static_cast<std::size_t>(counts[static_cast<std::size_t>(o)]) + sub(o); };
    rep.ran = total(Outcome::Ran);
    rep.failed = total(Outcome::Failed);
    rep.skipped_not_taken = total(Outcome::SkippedNotTaken);
    rep.skipped_failed = total(Outcome::SkippedFailed);
    rep.cancelled = total(Outcome::Cancelled);
    rep.subgraph_nodes = sub(Outcome::Ran) + sub(Outcome::Failed) + sub(Outcome::SkippedNotTaken) +
                         sub(Outcome::SkippedFailed) + sub(Outcome::Cancelled);
    rep.items = items + r.sub_items.load(std::memory_order_relaxed);  // relaxed: ordered by the countdown
    // relaxed: the winner's write is ordered before us by the countdown chain.
    if (r.has_error.load(std::memory_order_relaxed)) {
      rep.error = r.error;
      rep.failed_node = r.error_node;
      rep.status = RunStatus::Failed;
    } else if (rep.cancelled != 0) {
      rep.status = RunStatus::Cancelled;
    }
    if (r.options.profile) {
      rep.nodes.reserve(g.size());
      for (std::size_t i = 0; i < g.size(); ++i) {
        // relaxed: ordered by the countdown's acquire.
        rep.nodes.push_back(NodeStats{g.names[i], r.node[i].outcome, r.items[i].load(std::memory_order_relaxed),
                                      r.ns[i].load(std::memory_order_relaxed)});  // relaxed: as above
      }
    }
    if (r.options.trace) {
      for (auto& v : r.trace) rep.trace.insert(rep.trace.end(), v.begin(), v.end());
      std::sort(rep.trace.begin(), rep.trace.end(),
                [](const TraceEvent& a, const TraceEvent& b) { return a.start_ns < b.start_ns; });
      {
        std::lock_guard lock(r.keep_mutex);
        auto names = std::make_shared<std::vector<std::shared_ptr<const Topology>>>(r.keep);
        names->push_back(r.topo);
        rep.keep_alive = std::move(names);
      }
    }
    if (r.results) r.results->close();
    std::shared_ptr<RunState> self = std::move(r.self);  // frees the run at the end of the scope if unheld
    r.done.store(1, std::memory_order_release);  // release: pairs with the acquire in RunHandle::wait()
    r.done.notify_all();
    // release: pairs with the acquire in ~Pool(): this is the run's last touch of the pool.
    if (active_runs_.fetch_sub(1, std::memory_order_release) == 1) active_runs_.notify_all();
    (void)w;
  }

  Q ring_;
  const bool local_batches_;
  const std::size_t pop_batch_;
  std::vector<std::unique_ptr<Worker>> workers_;
  alignas(64) std::atomic<std::uint32_t> idle_{0};
  alignas(64) std::atomic<std::uint64_t> active_runs_{0};
};

}  // namespace
}  // namespace detail

// ---- Context -------------------------------------------------------------------------------------------
const std::string& Context::node_name() const noexcept { return run_->topo->names[node_]; }
bool Context::cancelled() const noexcept {
  return run_->root->cancel.load(std::memory_order_relaxed);  // relaxed: a hint
}
void Context::emit(Item item) { pool_->emit(*this, item); }
void Context::spawn(const Graph& sub) { pool_->spawn(*this, sub); }

// ---- RunHandle ------------------------------------------------------------------------------------------
bool RunHandle::done() const noexcept {
  return run_ && run_->done.load(std::memory_order_acquire) != 0;  // acquire: pairs with complete()'s release
}

RunReport RunHandle::wait() {
  if (!run_) throw std::logic_error("RunHandle::wait: no run");
  // acquire (both): pairs with the release store in complete(); the report is then complete.
  while (run_->done.load(std::memory_order_acquire) == 0) run_->done.wait(0, std::memory_order_acquire);
  return run_->report;
}

void RunHandle::cancel() noexcept {
  if (run_) run_->root->cancel.store(true, std::memory_order_relaxed);  // relaxed: a hint read by workers
}

std::size_t RunHandle::next_results(std::span<NodeResult> out) {
  if (!run_) throw std::logic_error("RunHandle::next_results: no run");
  if (!run_->results) throw std::logic_error("RunHandle::next_results: the run was started without stream_results");
  if (out.empty()) return 0;
  auto& q = *run_->results;
  std::size_t n = q.pop_batch(out);
  if (n != 0) return n;
  if (!q.pop(out[0])) return 0;  // blocks; false once the run finished and every result was taken
  return 1 + q.pop_batch(out.subspan(1));
}

// ---- Executor -------------------------------------------------------------------------------------------
Executor::Executor(ExecutorOptions options) : options_(options) {
  if (options_.ring_capacity == 0 || !std::has_single_bit(options_.ring_capacity)) {
    throw std::invalid_argument("dag::Executor: ring_capacity " + std::to_string(options_.ring_capacity) +
                                " is not a power of two");
  }
  const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
  const unsigned workers = options_.workers != 0 ? options_.workers : hw;
  const bool parking = options_.idle_wait == IdleWait::Parking || (options_.idle_wait == IdleWait::Auto && workers > hw);
  if (options_.queue == QueueKind::Channel) {
    pool_ = std::make_unique<detail::Pool<ChannelQueue<detail::Task>>>(options_);
  } else if (parking) {
    pool_ = std::make_unique<detail::Pool<MpmcQueue<detail::Task, Parking>>>(options_);
  } else {
    pool_ = std::make_unique<detail::Pool<MpmcQueue<detail::Task, Blocking>>>(options_);
  }
}

Executor::~Executor() = default;

RunHandle Executor::run_async(const Graph& graph, RunOptions options) {
  return RunHandle(pool_->start(graph.compile(), options));
}

unsigned Executor::workers() const noexcept { return pool_->workers(); }
ExecutorStats Executor::stats() const noexcept { return pool_->stats(); }

}  // namespace ringkit::dag
