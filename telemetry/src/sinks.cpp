// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/sinks.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "ringkit/telemetry/text_format.hpp"
#include "ringkit/telemetry/ttlog.hpp"

namespace ringkit::telemetry {

SinkStats CountingSink::stats() const {
  SinkStats s;
  // relaxed (all): statistics.
  s.events = events_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);  // relaxed: a statistics counter, orders nothing
  s.errors = errors_.load(std::memory_order_relaxed);  // relaxed: a statistics counter, orders nothing
  s.bytes_dropped = bytes_dropped_.load(std::memory_order_relaxed);  // relaxed: a statistics counter, orders nothing
  s.events_dropped = events_dropped_.load(std::memory_order_relaxed);  // relaxed: a statistics counter, orders nothing
  s.rotations = rotations_.load(std::memory_order_relaxed);  // relaxed: a statistics counter, orders nothing
  return s;
}

// ---- console ----
ConsoleSink::ConsoleSink(int fd, ColorMode color)
    : fd_(fd), color_(color == ColorMode::Always || (color == ColorMode::Auto && ::isatty(fd) == 1)) {}

void ConsoleSink::write(const Event& e) {
  append_text(buf_, e, color_);
  add(events_, 1);
  if (buf_.size() >= 32 * 1024) flush();
}

void ConsoleSink::flush() {
  const char* p = buf_.data();
  std::size_t n = buf_.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      add(errors_, 1);
      add(bytes_dropped_, n);
      break;
    }
    add(bytes_, static_cast<std::uint64_t>(w));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  buf_.clear();
}

// ---- file ----
class BlockBuilderHolder {
 public:
  BlockBuilderHolder(std::byte* buf, std::size_t cap) : b(buf, cap) {}
  ttlog::BlockBuilder b;
};

namespace {
constexpr std::size_t kBlockBytes = 64 * 1024;

// The rotation index of `name` if it is "<base>.<digits>", else 0.
std::uint64_t rotated_index(const std::string& name, const std::string& base) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 || name[base.size()] != '.') return 0;
  std::uint64_t v = 0;
  for (std::size_t i = base.size() + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return v;
}

std::vector<std::pair<std::uint64_t, std::filesystem::path>> rotated_files(const std::filesystem::path& path) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> out;
  std::error_code ec;
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string base = path.filename().string();
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::uint64_t i = rotated_index(e.path().filename().string(), base);
    if (i) out.emplace_back(i, e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

FileSink::FileSink(FileSinkOptions options) : opts_(std::move(options)) {
  if (opts_.path.empty()) throw std::invalid_argument("telemetry: FileSink needs a path");
  if (!opts_.write_fn) opts_.write_fn = [](int fd, const void* p, std::size_t n) { return ::write(fd, p, n); };
  const auto existing = rotated_files(opts_.path);
  if (!existing.empty()) next_index_ = existing.back().first + 1;
  if (opts_.format == FileFormat::Binary) {
    block_.resize(kBlockBytes);
    builder_ = std::make_unique<BlockBuilderHolder>(block_.data(), block_.size());
  }
  open_file();
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "telemetry: cannot open log file " + opts_.path.string());
  }
}

FileSink::~FileSink() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::open_file() {
  fd_ = ::open(opts_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  opened_at_ = std::chrono::steady_clock::now();
  file_bytes_ = 0;
  if (fd_ < 0) return;
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  file_bytes_ = end > 0 ? static_cast<std::uint64_t>(end) : 0;
  if (opts_.format == FileFormat::Binary && file_bytes_ == 0) {
    std::byte h[ttlog::kFileHeaderSize];
    ttlog::write_file_header(h);
    buf_.append(reinterpret_cast<const char*>(h), reinterpret_cast<const char*>(h) + sizeof h);
  }
}

void FileSink::rotate() {
  write_out();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::rename(opts_.path, opts_.path.string() + "." + std::to_string(next_index_), ec);
  if (!ec) ++next_index_;
  add(rotations_, 1);
  apply_retention();
  open_file();
  if (fd_ < 0) {
    add(errors_, 1);
    if (opts_.on_error) opts_.on_error(SinkError{opts_.path.string(), errno, 0, 0});
  }
}

void FileSink::apply_retention() {
  if (opts_.max_files == 0) return;
  auto files = rotated_files(opts_.path);
  std::error_code ec;
  while (files.size() > opts_.max_files) {
    std::filesystem::remove(files.front().second, ec);
    files.erase(files.begin());
  }
}

void FileSink::binary_add(const Event& e) {
  auto& b = builder_->b;
  if (b.add_event(e)) return;
  if (!b.empty()) {
    const auto bytes = b.finish();
    buf_.append(reinterpret_cast<const char*>(bytes.data()), reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    b.reset();
    if (b.add_event(e)) return;
  }
  // Larger than a whole block: counted, not written.
  add(events_dropped_, 1);
  add(errors_, 1);
  if (opts_.on_error) opts_.on_error(SinkError{opts_.path.string(), EMSGSIZE, 0, 1});
}

void FileSink::write(const Event& e) {
  const bool by_time = opts_.rotate_every.count() > 0 && std::chrono::steady_clock::now() - opened_at_ >= opts_.rotate_every;
  const std::size_t pending = buf_.size();
  if (by_time || (opts_.max_bytes > 0 && file_bytes_ + pending >= opts_.max_bytes && file_bytes_ + pending > 0)) {
    // Size rotation happens between events: a file ends at or just past max_bytes by < one buffer.
    if (by_time || file_bytes_ + pending >= opts_.max_bytes) rotate();
  }
  switch (opts_.format) {
    case FileFormat::Text: append_text(buf_, e, false); break;
    case FileFormat::Json: append_json(buf_, e); break;
    case FileFormat::Binary: binary_add(e); break;
  }
  ++buf_events_;
  add(events_, 1);
  if (buf_.size() >= opts_.buffer_bytes) write_out();
}

void FileSink::write_out() {
  if (buf_.size() == 0) return;
  const char* p = buf_.data();
  std::size_t n = buf_.size();
  while (n > 0) {
    const ssize_t w = fd_ >= 0 ? opts_.write_fn(fd_, p, n) : -1;
    if (w < 0) {
      const int err = fd_ >= 0 ? errno : EBADF;
      if (err == EINTR) continue;
      // Never retried: the bytes are counted lost and reported; producers are not held up.
      add(errors_, 1);
      add(bytes_dropped_, n);
      add(events_dropped_, buf_events_);
      if (opts_.on_error) opts_.on_error(SinkError{opts_.path.string(), err, n, buf_events_});
      break;
    }
    add(bytes_, static_cast<std::uint64_t>(w));
    file_bytes_ += static_cast<std::uint64_t>(w);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  buf_.clear();
  buf_events_ = 0;
}

void FileSink::flush() {
  if (builder_ && !builder_->b.empty()) {
    const auto bytes = builder_->b.finish();
    buf_.append(reinterpret_cast<const char*>(bytes.data()), reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    builder_->b.reset();
  }
  write_out();
}

}  // namespace ringkit::telemetry
