// SPDX-License-Identifier: MIT
#pragma once
// Internal: the process-wide list of live loggers (for the crash handler) and the async-signal-safe
// flight-recorder dump writer.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "ringkit/telemetry/logger.hpp"
#include "ringkit/telemetry/ttlog.hpp"

namespace ringkit::telemetry {

namespace registry {
inline constexpr std::size_t kMaxLoggers = 64;
extern std::atomic<Logger*> loggers[kMaxLoggers];
extern std::mutex mu;
void add(Logger* lg);
void remove(Logger* lg);
}  // namespace registry

namespace flight {
// Writes ttlog blocks to an fd from a caller-owned buffer: no allocation, only write(2).
class DumpWriter {
 public:
  DumpWriter(int fd, std::byte* buf, std::size_t cap) noexcept;
  bool header() noexcept;
  void note(std::uint64_t ts_ns, std::string_view text) noexcept;
  void raw(std::uint64_t ts_ns, Level level, std::uint32_t tid, const Metadata& m, const std::byte* payload,
           std::size_t len, std::uint8_t flags) noexcept;
  bool flush() noexcept;
  [[nodiscard]] long events() const noexcept { return events_; }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  int fd_;
  ttlog::BlockBuilder builder_;
  long events_ = 0;
  bool ok_ = true;
};
}  // namespace flight

}  // namespace ringkit::telemetry
