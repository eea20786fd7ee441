// SPDX-License-Identifier: MIT
#include "service/server.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "rewardpool.grpc.pb.h"
#include "rewardpool_admin.grpc.pb.h"

namespace rewardpool::net {

namespace pb = ::rewardpool;  // the generated messages (package rewardpool)
namespace admin = ::ringkit::rewardpool::admin;

namespace {

void raise_max(std::atomic<std::uint64_t>& m, std::uint64_t v) {
  std::uint64_t cur = m.load(std::memory_order_relaxed);  // relaxed: a statistic, no data hangs on it
  while (v > cur && !m.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {  // relaxed: as above
  }
}

std::int32_t clamp_i32(std::int64_t v) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, std::numeric_limits<std::int32_t>::min(),
                                                             std::numeric_limits<std::int32_t>::max()));
}

}  // namespace

class DrawStream;
class Worker;

struct DrawServer::Impl {
  Impl(Service& s, ServerOptions o);

  Service& svc;
  const ServerOptions opt;
  const Catalog& ids;  // the catalog at start (recovered quantities), immutable
  Counters counters;
  std::unique_ptr<std::atomic<std::int64_t>[]> drawn;  // per item: draws answered Ok since start
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<std::uint64_t> next_stream{0};
  std::atomic<bool> draining{false};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex streams_mu;
  std::condition_variable streams_cv;
  std::unordered_map<DrawStream*, std::weak_ptr<DrawStream>> streams;  // guarded by streams_mu
  std::unique_ptr<grpc::Service> pool_api, admin_api;  // registered with the gRPC server

  std::int64_t remaining(std::size_t i) const {
    const std::int64_t initial = ids.items[i].quantity;
    if (initial == kUnlimited) return kUnlimited;
    return initial - drawn[i].load(std::memory_order_relaxed);  // relaxed: a statistic
  }
};

// ---- a Draw stream -----------------------------------------------------------------------------------
class DrawStream final : public grpc::ServerBidiReactor<pb::DrawRequest, pb::DrawResponse> {
 public:
  DrawStream(DrawServer::Impl& s, Worker& w) : s_(s), worker_(w) {}

  void begin(const std::shared_ptr<DrawStream>& self);
  // Worker: the responses of one job (or part of one), in order. Takes them.
  void deliver(std::vector<pb::DrawResponse>& batch);
  // Server: stop reading; finish once every draw in flight was answered.
  void drain() {
    std::unique_lock l(mu_);
    draining_ = true;
    run(step(), l);
  }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override {
    std::unique_lock l(mu_);
    cancelled_ = true;
    run(step(), l);
  }
  void OnDone() override;

 private:
  // What to do after a state change; decided under mu_, done without it (gRPC may run a reaction
  // inline, on this thread, which takes mu_ again).
  struct Actions {
    std::uint32_t submit = 0;
    std::shared_ptr<DrawStream> self;  // the job's reference, taken under mu_
    const pb::DrawResponse* write = nullptr;
    bool read = false;
    bool finish = false;
    grpc::Status status;
  };
  Actions step();  // under mu_
  void run(Actions a, std::unique_lock<std::mutex>& l);
  void answer_error(std::string text) {  // under mu_
    pb::DrawResponse r;
    r.set_error(std::move(text));
    out_.push_back(std::move(r));
    reserve(1);
    s_.counters.queued.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }
  void reserve(std::uint64_t n) {  // under mu_
    reserved_ += n;
    raise_max(s_.counters.max_stream_reserved, reserved_);
  }

  DrawServer::Impl& s_;
  Worker& worker_;
  std::shared_ptr<DrawStream> self_;  // keeps the reactor alive until OnDone (jobs may keep it longer)
  std::mutex mu_;
  std::deque<pb::DrawResponse> out_;  // responses not yet written; front() is being written if writing_
  std::uint64_t reserved_ = 0;        // draws submitted + responses queued, not yet written
  std::uint32_t held_ = 0;            // a request read but not submitted (no room yet); 0: none
  bool reading_ = false, writing_ = false, half_closed_ = false, cancelled_ = false, draining_ = false,
       finished_ = false;
  pb::DrawRequest req_;
};

// ---- a dispatcher worker: owns one pool client handle ----------------------------------------------
struct Job {
  std::shared_ptr<DrawStream> stream;
  std::uint32_t count = 0;  // draws left to answer
};

class Worker {
 public:
  explicit Worker(DrawServer::Impl& s) : s_(s) { thread_ = std::thread([this] { loop(); }); }
  ~Worker() { stop(); }
  void enqueue(Job j) {
    bool wake;
    {
      std::lock_guard l(mu_);
      inbox_.push_back(std::move(j));
      wake = sleeping_;
    }
    if (wake) cv_.notify_one();
  }
  // Returns once every job queued so far was answered.
  void stop() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop();
  void answer(Job& head, const Completion& c, std::vector<pb::DrawResponse>& batch, bool not_replicated = false);

  DrawServer::Impl& s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> inbox_;  // guarded by mu_
  bool sleeping_ = false;   // guarded by mu_
  bool stop_ = false;       // guarded by mu_
  std::thread thread_;
};

DrawServer::Impl::Impl(Service& s, ServerOptions o)
    : svc(s), opt(o), ids(s.initial_catalog()),
      drawn(std::make_unique<std::atomic<std::int64_t>[]>(s.initial_catalog().items.size())) {
  for (std::uint32_t i = 0; i < opt.workers; ++i) workers.push_back(std::make_unique<Worker>(*this));
}

void DrawStream::begin(const std::shared_ptr<DrawStream>& self) {
  self_ = self;
  {
    std::lock_guard l(s_.streams_mu);
    s_.streams.emplace(this, self);
  }
  s_.counters.streams.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  std::unique_lock l(mu_);
  // acquire: pairs with drain()'s store; a stream that starts after it sees draining and finishes.
  if (s_.draining.load(std::memory_order_acquire)) draining_ = true;
  run(step(), l);
}

DrawStream::Actions DrawStream::step() {
  Actions a;
  if (finished_) return a;
  const std::uint64_t buffer = s_.opt.stream_buffer;
  if (held_ != 0) {
    if (cancelled_) {
      held_ = 0;
    } else if (draining_) {
      held_ = 0;
      answer_error(kErrShuttingDown);
      s_.counters.failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    } else if (reserved_ + held_ <= buffer) {
      reserve(held_);
      a.submit = std::exchange(held_, 0);
      a.self = self_;
    }
  }
  if (!writing_ && !out_.empty() && !cancelled_) {
    writing_ = true;
    // stays put: a deque's push_back keeps references, and the pop waits for the write. No buffer_hint:
    // a hinted write may complete only with the next write, which we start only after it completes.
    a.write = &out_.front();
  }
  if (!reading_ && !half_closed_ && !draining_ && !cancelled_ && held_ == 0 && reserved_ < buffer) {
    reading_ = true;
    a.read = true;
  }
  const bool quiet = !writing_ && held_ == 0 && a.submit == 0 && (reserved_ == 0 || cancelled_);
  if (quiet && (half_closed_ || draining_ || cancelled_)) {
    finished_ = true;
    a.finish = true;
    if (cancelled_) a.status = grpc::Status::CANCELLED;
    else if (half_closed_) a.status = grpc::Status::OK;
    else a.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, kErrShuttingDown);
  }
  return a;
}

void DrawStream::run(Actions a, std::unique_lock<std::mutex>& l) {
  l.unlock();
  if (a.submit) worker_.enqueue(Job{std::move(a.self), a.submit});
  if (a.write) StartWrite(a.write);
  if (a.read) StartRead(&req_);
  if (a.finish) Finish(a.status);
}

void DrawStream::OnReadDone(bool ok) {
  std::unique_lock l(mu_);
  reading_ = false;
  if (!ok) {
    half_closed_ = true;
  } else {
    std::int64_t count = req_.count();
    if (count == 0) count = 1;
    if (count < 0 || count > s_.opt.max_count) {
      answer_error("invalid count " + std::to_string(req_.count()) + ": it must be 0 (means 1) to " +
                   std::to_string(s_.opt.max_count));
      s_.counters.rejected.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    } else if (draining_ || cancelled_) {
      if (!cancelled_) answer_error(kErrShuttingDown);
    } else {
      held_ = static_cast<std::uint32_t>(count);
    }
  }
  run(step(), l);
}

void DrawStream::OnWriteDone(bool ok) {
  std::unique_lock l(mu_);
  writing_ = false;
  out_.pop_front();
  --reserved_;
  s_.counters.queued.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  if (!ok) cancelled_ = true;  // the stream is broken (client gone): nothing more can be written
  if (cancelled_) {
    s_.counters.queued.fetch_sub(out_.size(), std::memory_order_relaxed);  // relaxed: a statistic
    reserved_ -= out_.size();
    out_.clear();
  }
  run(step(), l);
}

void DrawStream::deliver(std::vector<pb::DrawResponse>& batch) {
  std::unique_lock l(mu_);
  if (cancelled_ || finished_) {
    reserved_ -= batch.size();  // the client is gone: these draws were applied but never acknowledged
    batch.clear();
    run(step(), l);
    return;
  }
  for (auto& r : batch) out_.push_back(std::move(r));
  s_.counters.queued.fetch_add(batch.size(), std::memory_order_relaxed);  // relaxed: a statistic
  batch.clear();
  run(step(), l);
}

void DrawStream::OnDone() {
  std::shared_ptr<DrawStream> keep;
  {
    std::lock_guard l(mu_);
    keep = std::move(self_);
    s_.counters.queued.fetch_sub(out_.size(), std::memory_order_relaxed);  // relaxed: a statistic
    out_.clear();
  }
  {
    std::lock_guard l(s_.streams_mu);
    s_.streams.erase(this);
  }
  s_.counters.streams.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  s_.streams_cv.notify_all();
  // `keep` may be the last reference: this object dies here, after its last use.
}

// ---- the worker loop --------------------------------------------------------------------------------
void Worker::answer(Job& head, const Completion& c, std::vector<pb::DrawResponse>& batch, bool not_replicated) {
  pb::DrawResponse& r = batch.emplace_back();
  r.set_request_id(c.request_id);
  if (not_replicated) {  // shutting down with replication behind: recorded here, never acknowledged
    r.set_error("the draw was recorded but not replicated in time (replication down?): not acknowledged");
    s_.counters.failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    --head.count;
    return;
  }
  switch (c.status) {
    case Status::Ok:
      r.set_item_id(s_.ids.items[c.item].id);
      s_.drawn[c.item].fetch_add(1, std::memory_order_relaxed);    // relaxed: a statistic
      s_.counters.ok.fetch_add(1, std::memory_order_relaxed);      // relaxed: a statistic
      break;
    case Status::Empty:
      r.set_error(kErrPoolEmpty);
      s_.counters.empty.fetch_add(1, std::memory_order_relaxed);   // relaxed: a statistic
      break;
    case Status::WalError:
      r.set_error("the write-ahead log failed: the draw was not recorded");
      s_.counters.failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      break;
    default:
      r.set_error(c.status == Status::Closed ? std::string(kErrShuttingDown) : std::string(to_string(c.status)));
      s_.counters.failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      break;
  }
  --head.count;
}

void Worker::loop() {
  Service::Client client = s_.svc.client(s_.opt.window);
  const bool gated = static_cast<bool>(s_.opt.replicated_lsn);  // ack level `replicated`
  std::vector<Job> incoming;
  std::deque<Job> pending;    // accepted from streams, not yet submitted (window full)
  std::deque<Job> submitted;  // in the pool, in submission order (= completion order)
  struct Held {
    Completion c;
    std::uint64_t gate;  // answered once the replicated LSN reaches it
  };
  std::deque<Held> held;  // completed, waiting for replication (gated only), in order
  std::array<Completion, 512> done;
  std::vector<pb::DrawResponse> batch;
  const auto route = [&](const Completion& c, bool not_replicated) {
    Job& head = submitted.front();
    answer(head, c, batch, not_replicated);
    if (head.count == 0) {
      head.stream->deliver(batch);
      submitted.pop_front();
    }
  };
  const auto release = [&](bool force) {
    if (held.empty()) return false;
    const std::uint64_t replicated = s_.opt.replicated_lsn();
    bool any = false;
    while (!held.empty() && (force || held.front().gate <= replicated)) {
      route(held.front().c, force && held.front().gate > replicated);
      held.pop_front();
      any = true;
    }
    if (!batch.empty()) submitted.front().stream->deliver(batch);
    return any;
  };
  std::optional<std::chrono::steady_clock::time_point> stop_deadline;
  for (;;) {
    {
      std::unique_lock l(mu_);
      const bool idle = inbox_.empty() && pending.empty() && client.in_flight() == 0;
      if (idle && held.empty()) {
        if (stop_) break;
        sleeping_ = true;
        cv_.wait(l, [&] { return !inbox_.empty() || stop_; });
        sleeping_ = false;
      } else if (idle) {
        // Only replication to wait for: poll its LSN every millisecond (the shipper does not notify).
        if (stop_ && !stop_deadline) stop_deadline = std::chrono::steady_clock::now() + s_.opt.replication_wait;
        if (stop_deadline && std::chrono::steady_clock::now() >= *stop_deadline) {
          l.unlock();
          release(true);
          continue;
        }
        cv_.wait_for(l, std::chrono::milliseconds(1), [&] { return !inbox_.empty(); });
      }
      incoming.swap(inbox_);
    }
    for (Job& j : incoming) pending.push_back(std::move(j));
    incoming.clear();
    while (!pending.empty()) {
      Job& j = pending.front();
      const Submit st = client.submit_draw_n(j.count, 0, gated ? Ack::Written : s_.opt.ack);
      if (st == Submit::Accepted) {
        s_.counters.in_flight.fetch_add(j.count, std::memory_order_relaxed);  // relaxed: a statistic
        submitted.push_back(std::move(j));
        pending.pop_front();
        continue;
      }
      if (st == Submit::WindowFull || st == Submit::Busy) break;  // collect completions first
      // Closed (the pool is stopping) or Invalid (cannot happen: count <= max_count <= window).
      Completion c;
      c.status = Status::Closed;
      while (j.count > 0) answer(j, c, batch);
      j.stream->deliver(batch);
      pending.pop_front();
    }
    (void)client.flush();
    if (client.in_flight() == 0) {
      release(false);
      continue;
    }
    // Gated and holding completions: do not block in wait(), the replicated LSN must be polled too.
    const std::size_t n = gated && !held.empty() ? client.poll(done) : client.wait(done);
    s_.counters.in_flight.fetch_sub(n, std::memory_order_relaxed);  // relaxed: a statistic
    if (!gated) {
      for (std::size_t i = 0; i < n; ++i) route(done[i], false);
      if (!batch.empty()) submitted.front().stream->deliver(batch);  // part of a job: send what we have
      continue;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Completion& c = done[i];
      // A draw waits for its record; one without a record (pool empty, errors) for everything applied
      // before it was answered, so a stream's responses stay in order.
      const std::uint64_t gate = c.status != Status::Ok && c.status != Status::Empty ? 0
                                 : c.lsn != 0                                       ? c.lsn
                                                                                    : s_.svc.published_lsn(Ack::Applied);
      held.push_back(Held{c, gate});
    }
    if (!release(false) && n == 0) {
      std::unique_lock l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(1), [&] { return !inbox_.empty() || stop_; });
    }
  }
}

// ---- the services -----------------------------------------------------------------------------------
namespace {

class PoolApi final : public pb::RewardPoolService::CallbackService {
 public:
  explicit PoolApi(DrawServer::Impl& s) : s_(s) {}

  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* ctx, const pb::GetStateRequest*,
                                     pb::GetStateResponse* out) override {
    for (std::size_t i = 0; i < s_.ids.items.size(); ++i) {
      pb::RewardItem* it = out->add_items();
      it->set_item_id(s_.ids.items[i].id);
      it->set_quantity(clamp_i32(s_.remaining(i)));
      it->set_probability(std::llround(s_.ids.items[i].weight));
    }
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerBidiReactor<pb::DrawRequest, pb::DrawResponse>* Draw(grpc::CallbackServerContext*) override {
    const std::uint64_t id = s_.next_stream.fetch_add(1, std::memory_order_relaxed);  // relaxed: just a counter
    auto stream = std::make_shared<DrawStream>(s_, *s_.workers[id % s_.workers.size()]);
    stream->begin(stream);
    return stream.get();
  }

 private:
  DrawServer::Impl& s_;
};

class AdminApi final : public admin::RewardPoolAdmin::CallbackService {
 public:
  explicit AdminApi(DrawServer::Impl& s) : s_(s) {}

  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx, const admin::StatsRequest*,
                                  admin::StatsResponse* out) override {
    const Counters& c = s_.counters;
    constexpr auto r = std::memory_order_relaxed;  // relaxed (all): statistics, read one by one
    out->set_draws_ok(c.ok.load(r));
    out->set_draws_empty(c.empty.load(r));
    out->set_draws_failed(c.failed.load(r));
    out->set_requests_rejected(c.rejected.load(r));
    out->set_in_flight(c.in_flight.load(r));
    out->set_streams(c.streams.load(r));
    out->set_queued_responses(c.queued.load(r));
    out->set_max_stream_queued(c.max_stream_reserved.load(r));
    out->set_stream_buffer(s_.opt.stream_buffer);
    out->set_applied_lsn(s_.svc.published_lsn(Ack::Applied));
    // No log: written/durable are published as "everything" (~0); report the applied LSN instead.
    const auto level = [&](Ack a) { return std::min(s_.svc.published_lsn(a), s_.svc.published_lsn(Ack::Applied)); };
    out->set_written_lsn(level(Ack::Written));
    out->set_durable_lsn(level(Ack::Durable));
    out->set_ack(s_.opt.replicated_lsn ? std::string("replicated") : std::string(to_string(s_.opt.ack)));
    if (s_.opt.replication_stats) {
      out->set_replicating(true);
      out->set_replicated_lsn(s_.opt.replication_stats());
    }
    out->set_draining(s_.draining.load(std::memory_order_acquire));  // acquire: pairs with drain()
    out->set_uptime_ms(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - s_.started).count()));
    for (std::size_t i = 0; i < s_.ids.items.size(); ++i) {
      admin::ItemStats* it = out->add_items();
      it->set_item_id(s_.ids.items[i].id);
      it->set_remaining(s_.remaining(i));
      it->set_initial(s_.ids.items[i].quantity);
      it->set_probability(std::llround(s_.ids.items[i].weight));
    }
    auto* re = ctx->DefaultReactor();
    re->Finish(grpc::Status::OK);
    return re;
  }

 private:
  DrawServer::Impl& s_;
};

}  // namespace

// ---- DrawServer -------------------------------------------------------------------------------------
DrawServer::DrawServer(Service& service, ServerOptions options) {
  if (options.workers == 0) throw std::invalid_argument("the server needs at least one worker");
  if (options.max_count == 0 || options.max_count > options.window || options.max_count > options.stream_buffer) {
    throw std::invalid_argument("max_count must be in [1, min(window, stream_buffer)]");
  }
  impl_ = std::make_unique<Impl>(service, options);
  impl_->pool_api = std::make_unique<PoolApi>(*impl_);
  impl_->admin_api = std::make_unique<AdminApi>(*impl_);
  grpc::ServerBuilder b;
  b.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(impl_->pool_api.get());
  b.RegisterService(impl_->admin_api.get());
  server_ = b.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    for (auto& w : impl_->workers) w->stop();
    throw std::runtime_error("cannot listen on " + options.listen + " (address in use or invalid?)");
  }
}

DrawServer::~DrawServer() {
  drain(std::chrono::milliseconds(0));
}

std::string DrawServer::address() const {
  const std::string& l = impl_->opt.listen;
  const auto colon = l.rfind(':');
  return (colon == std::string::npos ? l : l.substr(0, colon)) + ":" + std::to_string(port_);
}

void DrawServer::drain(std::chrono::milliseconds timeout) {
  std::lock_guard dl(drain_mu_);
  if (drained_) return;
  impl_->draining.store(true, std::memory_order_release);  // release: pairs with begin()'s acquire
  std::vector<std::shared_ptr<DrawStream>> live;
  {
    std::lock_guard l(impl_->streams_mu);
    for (auto& [p, w] : impl_->streams) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->drain();
  live.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool all_finished;
  {
    std::unique_lock l(impl_->streams_mu);
    all_finished = impl_->streams_cv.wait_until(l, deadline, [&] { return impl_->streams.empty(); });
  }
  // Every stream has sent its status; let the clients read it (and stop writing) before the
  // connections close: see ServerOptions::drain_grace.
  if (all_finished && timeout.count() > 0) std::this_thread::sleep_for(impl_->opt.drain_grace);
  // Streams still open belong to clients that do not read: Shutdown cancels them now.
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  for (auto& w : impl_->workers) w->stop();
  drained_ = true;
}

void DrawServer::wait() { server_->Wait(); }

}  // namespace rewardpool::net
