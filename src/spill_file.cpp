// SPDX-License-Identifier: MIT
// SpillFile: see include/ringkit/spill_file.hpp and docs/spill-format.md.
#include "ringkit/spill_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "ringkit/crc32c.hpp"

namespace ringkit {
namespace {

class SpillCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ringkit.spill"; }
  std::string message(int ev) const override {
    switch (static_cast<spill_errc>(ev)) {
      case spill_errc::bad_header: return "spill file header is missing or corrupt";
      case spill_errc::unsupported_version: return "spill file has an unsupported format version";
      case spill_errc::bad_length: return "spill record length is invalid";
      case spill_errc::truncated_record: return "spill file ends inside a record";
      case spill_errc::checksum_mismatch: return "spill record checksum mismatch";
      case spill_errc::record_too_large: return "item is larger than the spill record limit";
      case spill_errc::codec_rejected: return "spill codec could not decode a record";
      case spill_errc::codec_threw: return "spill codec threw while decoding a record";
    }
    return "unknown spill error";
  }
};

void put_u32(std::byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}
std::uint32_t get_u32(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

// CRC of a record: over its 4 length bytes, then its payload (so a flipped length is caught too).
std::uint32_t record_crc(const std::byte* length_bytes, std::span<const std::byte> payload) noexcept {
  return crc32c_extend(crc32c({length_bytes, 4}), payload);
}

std::error_code write_all(int fd, const std::byte* data, std::size_t len, std::uint64_t offset) noexcept {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return {errno, std::system_category()};
    }
    if (n == 0) return std::make_error_code(std::errc::no_space_on_device);
    data += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

constexpr std::size_t kReadAhead = 64 * 1024;

}  // namespace

const std::error_category& spill_category() noexcept {
  static const SpillCategory category;
  return category;
}

std::error_code make_error_code(spill_errc e) noexcept { return {static_cast<int>(e), spill_category()}; }

SpillFile::SpillFile(int fd, std::filesystem::path path, std::uint32_t record_max, std::uint64_t end)
    : fd_(fd), path_(std::move(path)), record_max_(record_max), write_offset_(end) {}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<SpillFile> SpillFile::create(const std::filesystem::path& directory, std::uint32_t record_max,
                                             std::error_code& ec, std::string* error_detail) {
  static std::atomic<std::uint64_t> counter{0};
  if (record_max == 0 || record_max > kMaxRecordLimit) {
    ec = make_error_code(spill_errc::record_too_large);
    if (error_detail) *error_detail = "spill: record_max " + std::to_string(record_max) + " is not in [1, 2^30]";
    return nullptr;
  }
  std::filesystem::path path;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    // relaxed: only uniqueness within the process matters; O_EXCL settles clashes with other processes.
    const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    path = directory / ("ringkit-spill-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".rks");
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    ec = {errno, std::system_category()};
    if (error_detail) *error_detail = "spill: cannot create " + path.string() + ": " + ec.message();
    return nullptr;
  }
  std::byte header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_u32(header + 8, kVersion);
  put_u32(header + 12, static_cast<std::uint32_t>(kHeaderSize));
  put_u32(header + 16, record_max);
  put_u32(header + 20, 0);  // reserved
  put_u32(header + 24, 0);  // reserved
  put_u32(header + 28, crc32c({header, 28}));
  ec = write_all(fd, header, kHeaderSize, 0);
  if (ec) {
    if (error_detail) *error_detail = "spill: cannot write the header of " + path.string() + ": " + ec.message();
    ::close(fd);
    ::unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<SpillFile>(new SpillFile(fd, std::move(path), record_max, kHeaderSize));
}

std::unique_ptr<SpillFile> SpillFile::open(const std::filesystem::path& file, std::error_code& ec,
                                           std::string* error_detail) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  auto fail_with = [&](std::error_code e, const std::string& what) -> std::unique_ptr<SpillFile> {
    ec = e;
    if (error_detail) *error_detail = "spill: " + file.string() + ": " + what;
    if (fd >= 0) ::close(fd);
    return nullptr;
  };
  if (fd < 0) return fail_with({errno, std::system_category()}, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail_with({errno, std::system_category()}, "cannot stat");
  std::byte header[kHeaderSize] = {};
  ssize_t got = 0;
  do {
    got = ::pread(fd, header, kHeaderSize, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return fail_with({errno, std::system_category()}, "cannot read the header");
  if (static_cast<std::size_t>(got) < kHeaderSize) {
    return fail_with(make_error_code(spill_errc::bad_header),
                     "header truncated: " + std::to_string(got) + " of " + std::to_string(kHeaderSize) + " bytes");
  }
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return fail_with(make_error_code(spill_errc::bad_header), "bad magic at offset 0");
  }
  if (get_u32(header + 28) != crc32c({header, 28})) {
    return fail_with(make_error_code(spill_errc::bad_header), "header checksum mismatch at offset 28");
  }
  const std::uint32_t version = get_u32(header + 8);
  if (version != kVersion) {
    return fail_with(make_error_code(spill_errc::unsupported_version),
                     "format version " + std::to_string(version) + " (this build reads " +
                         std::to_string(kVersion) + ")");
  }
  const std::uint32_t header_size = get_u32(header + 12);
  const std::uint32_t record_max = get_u32(header + 16);
  if (header_size != kHeaderSize || record_max == 0 || record_max > kMaxRecordLimit) {
    return fail_with(make_error_code(spill_errc::bad_header),
                     "header_size " + std::to_string(header_size) + " / record_max " + std::to_string(record_max));
  }
  return std::unique_ptr<SpillFile>(new SpillFile(fd, file, record_max, static_cast<std::uint64_t>(st.st_size)));
}

std::error_code SpillFile::fail(std::error_code ec, std::uint64_t offset, const char* what) {
  error_detail_ = "spill: " + path_.string() + " at offset " + std::to_string(offset) + ": " + what + " (" +
                  ec.message() + ")";
  return ec;
}

std::error_code SpillFile::append(std::span<const std::byte> payload) {
  if (fd_ < 0) return fail(std::make_error_code(std::errc::bad_file_descriptor), write_offset_, "file is closed");
  if (payload.size() > record_max_) {
    return fail(make_error_code(spill_errc::record_too_large), write_offset_, "record larger than record_max");
  }
  frame_.resize(kFrameSize + payload.size());
  put_u32(frame_.data(), static_cast<std::uint32_t>(payload.size()));
  put_u32(frame_.data() + 4, record_crc(frame_.data(), payload));
  if (!payload.empty()) std::memcpy(frame_.data() + kFrameSize, payload.data(), payload.size());
  const std::error_code ec = write_all(fd_, frame_.data(), frame_.size(), write_offset_);
  if (ec) {
    // Cut off whatever part of the record reached the file, so the file stays whole records.
    while (::ftruncate(fd_, static_cast<off_t>(write_offset_)) != 0 && errno == EINTR) {
    }
    return fail(ec, write_offset_, "append failed");
  }
  write_offset_ += frame_.size();
  return {};
}

std::size_t SpillFile::fill(std::uint64_t offset, std::size_t len, std::error_code& ec) {
  const std::uint64_t buf_end = read_buf_start_ + read_buf_len_;
  if (offset >= read_buf_start_ && offset + len <= buf_end) return len;
  const std::size_t want = std::max(len, kReadAhead);
  if (read_buf_.size() < want) read_buf_.resize(want);
  const std::size_t limit =
      static_cast<std::size_t>(std::min<std::uint64_t>(want, write_offset_ > offset ? write_offset_ - offset : 0));
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::pread(fd_, read_buf_.data() + got, limit - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = {errno, std::system_category()};
      read_buf_len_ = 0;
      return 0;
    }
    if (n == 0) break;  // the file is shorter than what we appended: truncated behind our back
    got += static_cast<std::size_t>(n);
  }
  read_buf_start_ = offset;
  read_buf_len_ = got;
  return std::min(got, len);
}

SpillFile::Read SpillFile::read(std::vector<std::byte>& payload, std::error_code& ec) {
  if (read_offset_ >= write_offset_) return Read::End;
  const std::uint64_t at = read_offset_;
  if (fill(at, kFrameSize, ec) < kFrameSize) {
    if (!ec) ec = make_error_code(spill_errc::truncated_record);
    fail(ec, at, "record frame cut short");
    return Read::Error;
  }
  const std::byte* frame = read_buf_.data() + (at - read_buf_start_);
  const std::uint32_t length = get_u32(frame);
  const std::uint32_t stored_crc = get_u32(frame + 4);
  if (length > record_max_ || at + kFrameSize + length > write_offset_) {
    ec = make_error_code(spill_errc::bad_length);
    fail(ec, at, ("length " + std::to_string(length) + " is past record_max or the end of the data").c_str());
    return Read::Error;
  }
  std::byte length_bytes[4];
  std::memcpy(length_bytes, frame, 4);
  if (fill(at, kFrameSize + length, ec) < kFrameSize + length) {
    if (!ec) ec = make_error_code(spill_errc::truncated_record);
    fail(ec, at, "record payload cut short");
    return Read::Error;
  }
  const std::span<const std::byte> body(read_buf_.data() + (at - read_buf_start_) + kFrameSize, length);
  if (record_crc(length_bytes, body) != stored_crc) {
    ec = make_error_code(spill_errc::checksum_mismatch);
    fail(ec, at, "checksum mismatch");
    return Read::Error;
  }
  payload.assign(body.begin(), body.end());
  read_offset_ = at + kFrameSize + length;
  return Read::Record;
}

std::error_code SpillFile::remove() {
  std::error_code ec;
  if (fd_ >= 0) {
    if (::close(fd_) != 0) ec = {errno, std::system_category()};
    fd_ = -1;
    if (::unlink(path_.c_str()) != 0 && !ec) ec = {errno, std::system_category()};
  }
  return ec;
}

}  // namespace ringkit
