// SPDX-License-Identifier: MIT
// libFuzzer: ringkit::SpillFile's reader (SpillFile::open + SpillFile::read, src/spill_file.cpp) on arbitrary
// file contents, and its writer/reader round trip. Input: one mode byte, then the rest.
//   mode bit 2 clear: the rest is the file. bit 0 puts a valid header in front (record_max from bits 4-7,
//     so small limits are reached), so the record parser is reached; bit 1 fixes up the CRC of every
//     well-framed record from the start, as a writer would have written it, so what lies behind the CRC
//     check is reached too.
//     Checked: open() either succeeds or returns nullptr with an error code and a message; read() never
//     crashes and terminates; a Record's payload is exactly the file's bytes at its frame, no longer than
//     record_max, and its CRC matches; offsets only move forward; End only when every byte was consumed;
//     after Error the reader stays stuck (same error, same offset) with a message naming the offset.
//   mode bit 2 set: the rest is a list of payloads (u8 length, bytes); they are appended to a new spill
//     file and must be read back one by one, identical, then End.
// The parsed file lives in a memfd (no disk I/O per input), opened through /proc/self/fd/N; round trips
// write to /dev/shm (a tmpfs) when it exists.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ringkit/crc32c.hpp"
#include "ringkit/spill_file.hpp"

namespace {

using ringkit::SpillFile;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_spill_file: property violated: %s\n", what);
    std::abort();
  }
}

void put_u32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}
std::uint32_t get_u32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
std::uint32_t record_crc(const std::byte* frame, std::size_t length) {
  return ringkit::crc32c_extend(ringkit::crc32c({frame, 4}), {frame + SpillFile::kFrameSize, length});
}

int memfd() {
  static const int fd = ::memfd_create("fuzz_spill_file", MFD_CLOEXEC);
  check(fd >= 0, "memfd_create");
  return fd;
}

void write_file(const std::vector<std::byte>& bytes) {
  const int fd = memfd();
  check(::ftruncate(fd, 0) == 0, "ftruncate");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    check(n > 0, "pwrite");
    done += static_cast<std::size_t>(n);
  }
}

std::filesystem::path memfd_path() { return "/proc/self/fd/" + std::to_string(memfd()); }

void parse(const std::uint8_t mode, const std::byte* data, std::size_t size) {
  std::vector<std::byte> bytes;
  std::uint32_t record_max = 0;
  if (mode & 1) {
    bytes.resize(SpillFile::kHeaderSize);
    // record_max: 1, 2, 4, ... 2^15 from bits 4-7, so a length just past the limit is easy to reach.
    record_max = 1u << (mode >> 4);
    std::memcpy(bytes.data(), SpillFile::kMagic, sizeof SpillFile::kMagic);
    put_u32(bytes.data() + 8, SpillFile::kVersion);
    put_u32(bytes.data() + 12, static_cast<std::uint32_t>(SpillFile::kHeaderSize));
    put_u32(bytes.data() + 16, record_max);
    put_u32(bytes.data() + 28, ringkit::crc32c({bytes.data(), 28}));
  }
  bytes.insert(bytes.end(), data, data + size);
  if ((mode & 3) == 3) {
    std::size_t off = SpillFile::kHeaderSize;
    while (bytes.size() - off >= SpillFile::kFrameSize) {
      const std::uint32_t len = get_u32(bytes.data() + off);
      if (len > record_max || bytes.size() - off - SpillFile::kFrameSize < len) break;
      put_u32(bytes.data() + off + 4, record_crc(bytes.data() + off, len));
      off += SpillFile::kFrameSize + len;
    }
  }
  write_file(bytes);
  std::error_code ec;
  std::string detail;
  auto file = SpillFile::open(memfd_path(), ec, &detail);
  if (!file) {
    check(static_cast<bool>(ec), "open failed without an error code");
    check(!detail.empty(), "open failed without a message");
    return;
  }
  check(!ec, "open succeeded but set an error code");
  check(bytes.size() >= SpillFile::kHeaderSize, "open accepted a file shorter than the header");
  record_max = get_u32(bytes.data() + 16);
  std::vector<std::byte> payload;
  std::uint64_t last = file->read_offset();
  check(last == SpillFile::kHeaderSize, "reading does not start after the header");
  const std::size_t max_records = bytes.size() / SpillFile::kFrameSize + 1;
  for (std::size_t n = 0;; ++n) {
    check(n <= max_records, "more records than the file can hold");
    const std::uint64_t at = file->read_offset();
    ec.clear();
    const SpillFile::Read r = file->read(payload, ec);
    if (r == SpillFile::Read::End) {
      check(!ec, "End with an error code");
      check(at == bytes.size() && file->drained(), "End before the last byte");
      break;
    }
    if (r == SpillFile::Read::Error) {
      check(static_cast<bool>(ec), "Error without an error code");
      check(file->read_offset() == at, "Error moved the read offset");
      check(file->error_detail().find("offset " + std::to_string(at)) != std::string::npos,
            "the error message does not name the offset");
      std::error_code again;
      std::vector<std::byte> p2;
      check(file->read(p2, again) == SpillFile::Read::Error && again == ec && file->read_offset() == at,
            "the reader did not stay stuck at the error");
      break;
    }
    check(!ec, "Record with an error code");
    check(payload.size() <= record_max, "a record longer than record_max");
    const std::uint64_t next = file->read_offset();
    check(next == at + SpillFile::kFrameSize + payload.size() && next > last && next <= bytes.size(),
          "the read offset did not move exactly past the record");
    const std::byte* frame = bytes.data() + at;
    check(get_u32(frame) == payload.size(), "the payload length differs from the frame's length");
    check(payload.empty() || std::memcmp(payload.data(), frame + SpillFile::kFrameSize, payload.size()) == 0,
          "the payload differs from the file's bytes");
    check(record_crc(frame, payload.size()) == get_u32(frame + 4), "a record whose CRC does not match was returned");
    last = next;
  }
}

void round_trip(const std::byte* data, std::size_t size) {
  std::vector<std::vector<std::byte>> payloads;
  for (std::size_t i = 0; i < size;) {
    const std::size_t len = std::min<std::size_t>(std::to_integer<std::size_t>(data[i]), size - i - 1);
    payloads.emplace_back(data + i + 1, data + i + 1 + len);
    i += 1 + len;
  }
  // The directory is removed at exit (every file in it is removed by its round already).
  struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir scratch{[] {
    // /dev/shm when there is one (a tmpfs: no disk I/O per input), else the temp directory.
    std::error_code shm_ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", shm_ec) ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    auto d = base / ("fuzz_spill_file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }()};
  const std::filesystem::path& dir = scratch.path;
  std::error_code ec;
  std::string detail;
  auto file = SpillFile::create(dir, 255, ec, &detail);
  check(file != nullptr, "create failed");
  for (const auto& p : payloads) check(!file->append(p), "append failed");
  std::vector<std::byte> got;
  for (const auto& p : payloads) {
    check(file->read(got, ec) == SpillFile::Read::Record && got == p, "a round-tripped record differs");
  }
  check(file->read(got, ec) == SpillFile::Read::End && file->drained(), "no End after the last record");
  check(!file->remove(), "remove failed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto* rest = reinterpret_cast<const std::byte*>(data + 1);
  if (data[0] & 4) {
    round_trip(rest, size - 1);
  } else {
    parse(data[0], rest, size - 1);
  }
  return 0;
}
