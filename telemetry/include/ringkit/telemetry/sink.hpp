// SPDX-License-Identifier: MIT
#pragma once
// What a sink receives: one decoded event, valid for the duration of write(). Sinks run on the logger's
// backend thread only (one thread; no locking needed inside a sink used by one logger).
#include <cstdint>
#include <span>
#include <string_view>

#include "ringkit/telemetry/record.hpp"

namespace ringkit::telemetry {

struct Field {
  std::string_view key;
  std::string_view value;
  bool numeric = false;  // value is a number (JSON writes it unquoted)
};

struct Event {
  std::uint64_t ts_ns = 0;  // Unix time, nanoseconds
  Level level = Level::info;
  std::uint32_t tid = 0;
  std::string_view file;
  std::uint32_t line = 0;
  std::string_view message;
  std::span<const Field> fields;
};

struct SinkStats {
  std::uint64_t events = 0;         // events accepted
  std::uint64_t bytes = 0;          // bytes written
  std::uint64_t errors = 0;         // failed writes (ENOSPC, EIO, ...)
  std::uint64_t bytes_dropped = 0;  // bytes lost to failed writes
  std::uint64_t events_dropped = 0; // events whose bytes were (partly) lost
  std::uint64_t rotations = 0;      // file sinks: rotations done
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Event& e) = 0;
  virtual void flush() {}
  // Any thread may call stats(): implementations keep their counters in atomics.
  [[nodiscard]] virtual SinkStats stats() const { return {}; }
};

}  // namespace ringkit::telemetry
