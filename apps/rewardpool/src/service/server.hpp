// SPDX-License-Identifier: MIT
#pragma once
// The reward pool over gRPC: RewardPoolService (the Go original's API, proto/rewardpool.proto) and
// RewardPoolAdmin (ours, proto/rewardpool_admin.proto), on the asynchronous pool API.
//
//   gRPC threads (callback API)                dispatcher workers            the pool (service.hpp)
//   DrawStream::OnReadDone --Job{stream,count}--> inbox --submit_draw_n--> Client --> actor / I/O thread
//   DrawStream::StartWrite <--responses (batch)-- route completions <--wait()--  completions
//
// Each Draw stream is pinned to one worker, whose Service::Client delivers completions in submission
// order, so a stream's responses come in the order of its requests. Back-pressure: a stream reserves
// one slot per draw it submits (or error it answers) and frees it when the response has been written;
// it reads its next request only while it holds fewer than `stream_buffer` slots, and holds a request
// that does not fit until it does. A client that stops reading therefore stops being read (HTTP/2 flow
// control pushes back on it) and holds at most `stream_buffer` responses in memory; the workers never
// wait for a stream, so other streams go on.
//
// Drain (SIGTERM): streams stop reading (a request already read is answered "shutting down"), every
// draw in flight completes and its response is written, then each stream finishes with UNAVAILABLE;
// then the gRPC server shuts down, the workers stop and the pool is stopped (log drained, synced and
// closed). A draw is acknowledged when its response was written; none is lost by the drain.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rewardpool/service.hpp"

namespace grpc {
class Server;
}

namespace rewardpool::net {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one (see port())
  Ack ack = Ack::Durable;              // the level draws are answered at
  std::uint32_t max_count = 10'000;    // a DrawRequest's count above this is answered with an error
  std::uint32_t stream_buffer = 16'384;  // per stream: draws submitted + responses not yet written
  std::uint32_t workers = 1;           // dispatcher threads (each owns one pool client handle)
  std::size_t window = 65'536;         // each worker's in-flight window (draws)
  // Drain: after the last stream finished, how long connections stay open before the server closes
  // them. Closing at once can reset (RST) a connection whose client is still sending, and a reset
  // discards the last responses the client had not read yet: they were drawn but never received.
  std::chrono::milliseconds drain_grace{500};
  // Ack level `replicated`: when set, draws are asked of the pool at `written` and each response waits
  // until this returns an LSN at or past its record's (the shipper's acknowledged LSN).
  std::function<std::uint64_t()> replicated_lsn;
  // At shutdown, how long responses wait for replication before they are answered with an error.
  std::chrono::milliseconds replication_wait{10'000};
  // When replicating (at any ack level): the replicated LSN, for Stats and `top`.
  std::function<std::uint64_t()> replication_stats;
};

// Counters shared by the server's parts (exported through RewardPoolAdmin.Stats).
struct Counters {
  std::atomic<std::uint64_t> ok{0}, empty{0}, failed{0}, rejected{0};
  std::atomic<std::uint64_t> streams{0}, queued{0}, max_stream_reserved{0};
  std::atomic<std::uint64_t> in_flight{0};
};

class DrawServer {
 public:
  // Starts listening at once; throws std::runtime_error if the address cannot be bound. The pool
  // (`service`) must outlive the server; the server never stops it (the caller does, after drain()).
  DrawServer(Service& service, ServerOptions options);
  ~DrawServer();
  DrawServer(const DrawServer&) = delete;
  DrawServer& operator=(const DrawServer&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::string address() const;  // host:port as bound
  // Finishes every stream after its draws in flight were answered (waiting up to `timeout` for clients
  // that do not read; their streams are then cancelled), shuts the gRPC server down and stops the
  // workers. Idempotent. After it, stop the pool.
  void drain(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Blocks until drain() has completed (called from another thread, e.g. the signal watcher).
  void wait();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex drain_mu_;
  bool drained_ = false;
};

// Error texts answered in DrawResponse.error.
inline constexpr const char* kErrPoolEmpty = "pool is empty";
inline constexpr const char* kErrShuttingDown = "server is shutting down";

}  // namespace rewardpool::net
