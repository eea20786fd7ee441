// SPDX-License-Identifier: MIT
#pragma once
// Adapters over Service::Client for callers that do not want to poll:
//   CallbackClient  calls one function per completion, on the handle's thread, from dispatch()
//   co_await async_draw(client)  a C++20 awaitable: the coroutine resumes, on the thread that calls
//                   resume_completed(client), with its Completion.
// Neither allocates per draw: the callback is stored once; an awaiter lives in its coroutine's frame and
// travels as the request's tag.
#include <array>
#include <coroutine>
#include <cstdint>
#include <span>
#include <utility>

#include "rewardpool/service.hpp"

namespace rewardpool {

template <class F>
  requires std::invocable<F&, const Completion&>
class CallbackClient {
 public:
  CallbackClient(Service::Client client, F on_complete) : client_(std::move(client)), on_complete_(std::move(on_complete)) {}

  Submit submit_draw(std::uint64_t tag = 0) { return client_.submit_draw(tag); }
  Submit submit_draw_n(std::uint32_t count, std::uint64_t tag = 0) { return client_.submit_draw_n(count, tag); }
  // Calls the function for every completion delivered now; returns how many. Never blocks.
  std::size_t dispatch() { return deliver(client_.poll(buffer_)); }
  // As dispatch(), but waits for at least one (0 only when nothing is in flight).
  std::size_t dispatch_wait() { return deliver(client_.wait(buffer_)); }
  [[nodiscard]] std::size_t in_flight() const noexcept { return client_.in_flight(); }
  Service::Client& client() noexcept { return client_; }

 private:
  std::size_t deliver(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) on_complete_(buffer_[i]);
    return n;
  }
  Service::Client client_;
  F on_complete_;
  std::array<Completion, 256> buffer_{};
};

// `Completion c = co_await async_draw(client);` The draw is submitted when the coroutine suspends; a
// submission that is refused (window full, busy, closed) resumes at once with status Closed (closed) or
// InvalidArgument (window/busy: the caller should collect completions first). Every tag of a client used
// this way must come from an awaiter: resume_completed() treats each tag as one.
class DrawAwaiter {
 public:
  explicit DrawAwaiter(Service::Client& client) noexcept : client_(&client) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    const Submit s = client_->submit_draw(reinterpret_cast<std::uint64_t>(this));
    if (s == Submit::Accepted) return true;
    result_.status = s == Submit::Closed ? Status::Closed : Status::InvalidArgument;
    return false;  // resume now with the refusal
  }
  Completion await_resume() const noexcept { return result_; }

 private:
  friend std::size_t resume_completed(Service::Client&, bool);
  Service::Client* client_;
  std::coroutine_handle<> handle_{};
  Completion result_{};
};

inline DrawAwaiter async_draw(Service::Client& client) noexcept { return DrawAwaiter(client); }

// Resumes the coroutines whose draws completed (waiting for one first if `block`); returns how many.
inline std::size_t resume_completed(Service::Client& client, bool block = false) {
  std::array<Completion, 64> done;
  const std::size_t n = block ? client.wait(done) : client.poll(done);
  for (std::size_t i = 0; i < n; ++i) {
    auto* awaiter = reinterpret_cast<DrawAwaiter*>(done[i].tag);
    awaiter->result_ = done[i];
    awaiter->handle_.resume();
  }
  return n;
}

}  // namespace rewardpool
