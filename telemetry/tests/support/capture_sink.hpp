// SPDX-License-Identifier: MIT
#pragma once
// Telemetry test support: a sink that records every event as text (and can hold the backend at a gate
// so a test fills the queue deterministically).
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/sinks.hpp"

namespace ringkit::telemetry::test {

struct Captured {
  Level level;
  std::uint32_t tid;
  std::uint64_t ts_ns;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<bool> numeric;
};

class CaptureSink : public Sink {
 public:
  void write(const Event& e) override {
    if (gate_closed_.load()) {
      entered_.store(true);
      while (gate_closed_.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    Captured c{e.level, e.tid, e.ts_ns, std::string(e.message), {}, {}};
    for (const Field& f : e.fields) {
      c.fields.emplace_back(std::string(f.key), std::string(f.value));
      c.numeric.push_back(f.numeric);
    }
    std::lock_guard lock(mu_);
    events_.push_back(std::move(c));
  }
  void flush() override { flushes_.fetch_add(1); }
  std::vector<Captured> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.message);
    return out;
  }
  // The backend stops in write() until open_gate(); entered() says it got there.
  void close_gate() { gate_closed_.store(true); }
  void open_gate() { gate_closed_.store(false); }
  void wait_entered() const {
    while (!entered_.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  long flushes() const { return flushes_.load(); }

 private:
  mutable std::mutex mu_;
  std::vector<Captured> events_;
  std::atomic<bool> gate_closed_{false}, entered_{false};
  std::atomic<long> flushes_{0};
};

}  // namespace ringkit::telemetry::test
