// SPDX-License-Identifier: MIT
#pragma once
// The sinks: ConsoleSink (colour on a TTY), FileSink (text, JSON lines or binary ttlog; size- and
// time-based rotation with retention; write errors such as a full disk are counted and reported, never
// retried in a loop, so producers are never held up by a sink), CallbackSink.
// Sinks are called on the logger's backend thread only.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <fmt/format.h>

#include "ringkit/telemetry/sink.hpp"

namespace ringkit::telemetry {

class CountingSink : public Sink {
 public:
  [[nodiscard]] SinkStats stats() const override;

 protected:
  void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // relaxed: single-writer counter
  }
  std::atomic<std::uint64_t> events_{0}, bytes_{0}, errors_{0}, bytes_dropped_{0}, events_dropped_{0}, rotations_{0};
};

struct SinkError {
  std::string path;
  int error = 0;                 // errno
  std::uint64_t bytes_lost = 0;  // bytes of this write that were not written
  std::uint64_t events_lost = 0;
};

enum class ColorMode : std::uint8_t { Auto, Always, Never };

class ConsoleSink : public CountingSink {
 public:
  explicit ConsoleSink(int fd = 2, ColorMode color = ColorMode::Auto);
  void write(const Event& e) override;
  void flush() override;

 private:
  int fd_;
  bool color_;
  fmt::memory_buffer buf_;
};

enum class FileFormat : std::uint8_t { Text, Json, Binary };

struct FileSinkOptions {
  std::filesystem::path path;
  FileFormat format = FileFormat::Text;
  std::uint64_t max_bytes = 0;            // rotate before a file would exceed this (0: no size rotation)
  std::chrono::seconds rotate_every{0};   // rotate when the file is this old (0: no time rotation)
  std::size_t max_files = 0;              // rotated files kept (oldest deleted first; 0: keep all)
  std::size_t buffer_bytes = 64 * 1024;   // written out when full and on flush()
  std::function<void(const SinkError&)> on_error;
  // Test hook: replaces ::write (e.g. to inject ENOSPC).
  std::function<ssize_t(int, const void*, std::size_t)> write_fn;
};

// Rotated files are named <path>.1, <path>.2, ... (higher is newer); the live file is <path>.
class FileSink : public CountingSink {
 public:
  explicit FileSink(FileSinkOptions options);  // throws std::system_error naming the path if it cannot open
  ~FileSink() override;
  void write(const Event& e) override;
  void flush() override;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return opts_.path; }

 private:
  void open_file();
  void rotate();
  void write_out();
  void apply_retention();
  void binary_add(const Event& e);

  FileSinkOptions opts_;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  std::uint64_t next_index_ = 1;
  fmt::memory_buffer buf_;       // text/JSON bytes, or finished binary blocks
  std::uint64_t buf_events_ = 0;
  std::vector<std::byte> block_;  // binary: the block being built
  std::unique_ptr<class BlockBuilderHolder> builder_;
};

class CallbackSink : public CountingSink {
 public:
  explicit CallbackSink(std::function<void(const Event&)> fn) : fn_(std::move(fn)) {}
  void write(const Event& e) override {
    fn_(e);
    add(events_, 1);
  }

 private:
  std::function<void(const Event&)> fn_;
};

}  // namespace ringkit::telemetry
