#include "rewardpool/wal.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <system_error>

#include "rewardpool/crc32c.hpp"

namespace rewardpool::wal {

// ---- configuration ---------------------------------------------------------------------------------
std::optional<Backend> parse_backend(std::string_view s) noexcept {
  if (s == "file") return Backend::File;
  if (s == "mmap") return Backend::Mmap;
  if (s == "none" || s == "null") return Backend::Null;
  return std::nullopt;
}

std::string_view to_string(Backend b) noexcept {
  switch (b) {
    case Backend::File: return "file";
    case Backend::Mmap: return "mmap";
    case Backend::Null: return "null";
  }
  return "?";
}

std::optional<SyncPolicy> parse_sync_policy(std::string_view s) noexcept {
  if (s == "always") return SyncPolicy{SyncPolicy::Kind::Always, {}};
  if (s == "none") return SyncPolicy{SyncPolicy::Kind::None, {}};
  constexpr std::string_view prefix = "interval:";
  if (s.substr(0, prefix.size()) == prefix) {
    const std::string_view num = s.substr(prefix.size());
    unsigned long ms = 0;
    const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), ms);
    if (ec != std::errc{} || end != num.data() + num.size() || num.empty() || ms == 0 || ms > 3'600'000) {
      return std::nullopt;
    }
    return SyncPolicy{SyncPolicy::Kind::Interval, std::chrono::milliseconds(ms)};
  }
  return std::nullopt;
}

std::string to_string(const SyncPolicy& p) {
  switch (p.kind) {
    case SyncPolicy::Kind::Always: return "always";
    case SyncPolicy::Kind::None: return "none";
    case SyncPolicy::Kind::Interval: return "interval:" + std::to_string(p.interval.count());
  }
  return "?";
}

// ---- file layer ------------------------------------------------------------------------------------
int FileIo::open(const char* path, int flags, unsigned mode) { return ::open(path, flags, mode); }
long FileIo::write(int fd, const void* data, std::size_t n) { return ::write(fd, data, n); }
int FileIo::fdatasync(int fd) { return ::fdatasync(fd); }
int FileIo::fsync(int fd) { return ::fsync(fd); }
int FileIo::msync(void* addr, std::size_t n) { return ::msync(addr, n, MS_SYNC); }
int FileIo::close(int fd) { return ::close(fd); }
int FileIo::ftruncate(int fd, std::int64_t size) { return ::ftruncate(fd, static_cast<off_t>(size)); }
int FileIo::rename(const char* from, const char* to) { return ::rename(from, to); }
int FileIo::unlink(const char* path) { return ::unlink(path); }

FileIo& posix_io() {
  static FileIo io;
  return io;
}

long FaultyFileIo::write(int fd, const void* data, std::size_t n) {
  const long k = writes.fetch_add(1) + 1;
  if (k == fail_write_at.load()) {
    errno = error.load();
    return -1;
  }
  return FileIo::write(fd, data, n);
}
bool FaultyFileIo::fail_sync() {
  const long k = syncs.fetch_add(1) + 1;
  if (k == fail_sync_at.load()) {
    errno = error.load();
    return true;
  }
  return false;
}
int FaultyFileIo::fdatasync(int fd) { return fail_sync() ? -1 : FileIo::fdatasync(fd); }
int FaultyFileIo::fsync(int fd) { return fail_sync() ? -1 : FileIo::fsync(fd); }
int FaultyFileIo::msync(void* addr, std::size_t n) { return fail_sync() ? -1 : FileIo::msync(addr, n); }
int FaultyFileIo::close(int fd) {
  const long k = closes.fetch_add(1) + 1;
  const int rc = FileIo::close(fd);  // the descriptor is released either way, as close(2) does
  if (k == fail_close_at.load()) {
    errno = error.load();
    return -1;
  }
  return rc;
}

namespace {
std::string errno_text(int err) { return std::generic_category().message(err); }

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

void write_all(FileIo& io, int fd, const std::byte* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const long w = io.write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw WalError("write(" + path + ") failed: " + errno_text(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::vector<std::byte> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw WalError("cannot open " + path + ": " + errno_text(errno));
  std::vector<std::byte> out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  std::byte buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw WalError("read(" + path + ") failed: " + errno_text(err));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

// Parses "<prefix><digits><suffix>"; nullopt if `name` is not of that form.
std::optional<std::uint64_t> parse_number_name(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

struct DirListing {
  std::map<std::uint64_t, std::string> segments;   // seq -> name
  std::map<std::uint64_t, std::string> snapshots;  // lsn -> name
};

DirListing list_dir(const std::string& dir) {
  DirListing out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw WalError("cannot open data directory " + dir + ": " + errno_text(errno));
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (auto seq = parse_number_name(name, "wal-", ".log")) out.segments.emplace(*seq, std::string(name));
    if (auto lsn = parse_number_name(name, "snapshot-", ".snap")) out.snapshots.emplace(*lsn, std::string(name));
  }
  ::closedir(d);
  return out;
}

void check_close(FileIo& io, int fd, const std::string& path) {
  if (io.close(fd) != 0) throw WalError("close(" + path + ") failed: " + errno_text(errno));
}
}  // namespace

void sync_directory(FileIo& io, const std::string& dir) {
  const int fd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw WalError("cannot open directory " + dir + " to fsync it: " + errno_text(errno));
  if (io.fsync(fd) != 0) {
    const int err = errno;
    io.close(fd);
    throw WalError("fsync(" + dir + ") failed: " + errno_text(err));
  }
  check_close(io, fd, dir);
}

std::string segment_name(std::uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "wal-%016llu.log", static_cast<unsigned long long>(seq));
  return buf;
}

std::string snapshot_name(std::uint64_t lsn) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "snapshot-%020llu.snap", static_cast<unsigned long long>(lsn));
  return buf;
}

// ---- snapshots -------------------------------------------------------------------------------------
std::vector<std::byte> encode_snapshot(const Snapshot& s) {
  std::size_t size = 8 + 2 + 2 + 4 + 8 + 8 + 4;
  for (const Item& it : s.catalog.items) size += 2 + it.id.size() + 16;
  std::vector<std::byte> out(size);
  std::byte* p = out.data();
  std::memcpy(p, kSnapshotMagic.data(), 8);
  put_u16(p + 8, kFormatVersion);
  put_u16(p + 10, 0);
  put_u32(p + 12, static_cast<std::uint32_t>(s.catalog.items.size()));
  put_u64(p + 16, s.lsn);
  put_u64(p + 24, s.draws);
  p += 32;
  for (const Item& it : s.catalog.items) {
    put_u16(p, static_cast<std::uint16_t>(it.id.size()));
    std::memcpy(p + 2, it.id.data(), it.id.size());
    p += 2 + it.id.size();
    put_u64(p, static_cast<std::uint64_t>(it.quantity));
    put_u64(p + 8, std::bit_cast<std::uint64_t>(it.weight));
    p += 16;
  }
  put_u32(p, crc32c(out.data(), size - 4));
  return out;
}

Snapshot decode_snapshot(std::span<const std::byte> b, const std::string& path) {
  if (b.size() < 36) throw WalError(path + ": snapshot truncated (" + std::to_string(b.size()) + " bytes)");
  if (std::memcmp(b.data(), kSnapshotMagic.data(), 8) != 0) throw WalError(path + ": not a snapshot (bad magic)");
  const std::uint32_t stored = get_u32(b.data() + b.size() - 4);
  if (stored != crc32c(b.data(), b.size() - 4)) throw WalError(path + ": snapshot checksum mismatch");
  if (get_u16(b.data() + 8) != kFormatVersion) {
    throw WalError(path + ": snapshot format version " + std::to_string(get_u16(b.data() + 8)) + " is not supported");
  }
  Snapshot s;
  const std::uint32_t count = get_u32(b.data() + 12);
  s.lsn = get_u64(b.data() + 16);
  s.draws = get_u64(b.data() + 24);
  std::size_t off = 32;
  const std::size_t end = b.size() - 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (off + 2 > end) throw WalError(path + ": snapshot item " + std::to_string(i) + " runs past the end");
    const std::uint16_t len = get_u16(b.data() + off);
    if (off + 2 + len + 16 > end) throw WalError(path + ": snapshot item " + std::to_string(i) + " runs past the end");
    Item it;
    it.id.assign(reinterpret_cast<const char*>(b.data() + off + 2), len);
    off += 2 + len;
    it.quantity = static_cast<std::int64_t>(get_u64(b.data() + off));
    it.weight = std::bit_cast<double>(get_u64(b.data() + off + 8));
    off += 16;
    s.catalog.items.push_back(std::move(it));
  }
  if (off != end) throw WalError(path + ": " + std::to_string(end - off) + " unexpected bytes after the snapshot items");
  try {
    validate_catalog(s.catalog, path);
  } catch (const CatalogError& e) {
    throw WalError(std::string("invalid snapshot contents: ") + e.what());
  }
  return s;
}

void write_snapshot_file(FileIo& io, const std::string& dir, const Snapshot& s) {
  const std::string final_path = join(dir, snapshot_name(s.lsn));
  const std::string tmp = final_path + ".tmp";
  const std::vector<std::byte> bytes = encode_snapshot(s);
  const int fd = io.open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw WalError("cannot create " + tmp + ": " + errno_text(errno));
  try {
    write_all(io, fd, bytes.data(), bytes.size(), tmp);
    if (io.fdatasync(fd) != 0) throw WalError("fdatasync(" + tmp + ") failed: " + errno_text(errno));
  } catch (...) {
    io.close(fd);
    throw;
  }
  check_close(io, fd, tmp);
  if (io.rename(tmp.c_str(), final_path.c_str()) != 0) {
    throw WalError("rename(" + tmp + ", " + final_path + ") failed: " + errno_text(errno));
  }
  sync_directory(io, dir);
}

bool has_data(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  const DirListing l = list_dir(dir);
  return !l.segments.empty() || !l.snapshots.empty();
}

void initialize_data_dir(const std::string& dir, const Catalog& catalog) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw WalError("cannot create data directory " + dir + ": " + errno_text(errno));
  }
  if (has_data(dir)) throw WalError(dir + " already holds a rewardpool log");
  write_snapshot_file(posix_io(), dir, Snapshot{catalog, 0, 0});
}

// ---- reading ---------------------------------------------------------------------------------------
SegmentReader::SegmentReader(std::vector<std::byte> bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name)) {
  header_.kind = ReadResult::Kind::End;
  if (bytes_.size() < kSegmentHeaderSize) {
    header_ = damaged(0, "truncated segment header (" + std::to_string(bytes_.size()) + " of 32 bytes)", true);
    return;
  }
  const std::byte* p = bytes_.data();
  std::byte copy[kSegmentHeaderSize];
  std::memcpy(copy, p, kSegmentHeaderSize);
  put_u32(copy + 12, 0);
  if (std::memcmp(p, kSegmentMagic.data(), 8) != 0) {
    header_ = damaged(0, "bad segment magic", zeros_from(0));
  } else if (get_u16(p + 8) != kFormatVersion) {
    header_ = damaged(0, "unsupported segment format version " + std::to_string(get_u16(p + 8)), false);
  } else if (get_u16(p + 10) != kSegmentHeaderSize || get_u32(p + 12) != crc32c(copy, kSegmentHeaderSize)) {
    header_ = damaged(0, "segment header checksum mismatch", false);
  } else {
    seq_ = get_u64(p + 16);
    base_lsn_ = get_u64(p + 24);
  }
}

SegmentReader SegmentReader::open(const std::string& path) { return SegmentReader(read_file(path), path); }

bool SegmentReader::zeros_from(std::size_t offset) const noexcept {
  return std::all_of(bytes_.begin() + static_cast<std::ptrdiff_t>(std::min(offset, bytes_.size())), bytes_.end(),
                     [](std::byte b) { return b == std::byte{0}; });
}

ReadResult SegmentReader::damaged(std::uint64_t offset, std::string reason, bool at_tail) {
  ReadResult r;
  r.kind = ReadResult::Kind::Damaged;
  r.offset = offset;
  r.reason = std::move(reason);
  r.at_tail = at_tail;
  stuck_ = r;
  return r;
}

ReadResult SegmentReader::next() {
  if (stuck_) return *stuck_;
  const std::size_t off = offset_;
  const std::size_t size = bytes_.size();
  ReadResult end;
  end.kind = ReadResult::Kind::End;
  end.offset = off;
  if (off == size) return end;
  const std::size_t left = size - off;
  if (left < kRecordHeaderSize) {
    if (zeros_from(off)) return end;
    return damaged(off, "truncated record header (" + std::to_string(left) + " bytes left)", true);
  }
  const std::byte* h = bytes_.data() + off;
  const std::uint32_t crc = get_u32(h);
  const std::uint32_t len = get_u32(h + 4);
  const auto type_byte = std::to_integer<unsigned>(h[8]);
  if (zeros_from(off)) return end;  // zero padding of a pre-sized segment
  if (std::all_of(h, h + kRecordHeaderSize, [](std::byte b) { return b == std::byte{0}; })) {
    return damaged(off, "zero record header followed by data", false);
  }
  const bool rest_zero = zeros_from(off + kRecordHeaderSize);
  if (type_byte < 1 || type_byte > 3) {
    return damaged(off, "bad record type " + std::to_string(type_byte), rest_zero);
  }
  const auto type = static_cast<RecordType>(type_byte);
  if (len != payload_size(type)) {
    return damaged(off, "bad record length " + std::to_string(len) + " for a " + std::string(to_string(type)) +
                            " record (expected " + std::to_string(payload_size(type)) + ")",
                   rest_zero);
  }
  if (left < kRecordHeaderSize + len) {
    return damaged(off, "truncated record (needs " + std::to_string(kRecordHeaderSize + len) + " bytes, " +
                            std::to_string(left) + " left)",
                   true);
  }
  if (crc != crc32c(h + 4, kRecordHeaderSize - 4 + len)) {
    return damaged(off, "checksum mismatch", zeros_from(off + kRecordHeaderSize + len));
  }
  if (h[9] != std::byte{0} || h[10] != std::byte{0} || h[11] != std::byte{0}) {
    return damaged(off, "non-zero reserved bytes", false);
  }
  ReadResult r;
  r.kind = ReadResult::Kind::Record;
  r.offset = off;
  r.record.type = type;
  r.record.lsn = get_u64(h + 12);
  const std::byte* p = h + kRecordHeaderSize;
  switch (type) {
    case RecordType::Draw: r.record.item = get_u32(p); break;
    case RecordType::Update:
      r.record.item = get_u32(p);
      r.record.quantity = static_cast<std::int64_t>(get_u64(p + 4));
      r.record.weight = std::bit_cast<double>(get_u64(p + 12));
      break;
    case RecordType::SnapshotMarker: r.record.snapshot_lsn = get_u64(p); break;
    case RecordType::Zero: break;
  }
  offset_ = off + kRecordHeaderSize + len;
  return r;
}

// ---- writing ---------------------------------------------------------------------------------------
WalWriter::WalWriter(WalOptions options, std::uint64_t segment_seq, std::uint64_t next_lsn)
    : options_(std::move(options)),
      io_(options_.io ? options_.io : &posix_io()),
      next_lsn_(next_lsn),
      last_sync_(std::chrono::steady_clock::now()) {
  if (options_.segment_bytes < kSegmentHeaderSize + kMaxRecordSize) {
    throw WalError("segment size " + std::to_string(options_.segment_bytes) + " is too small (minimum " +
                   std::to_string(kSegmentHeaderSize + kMaxRecordSize) + ")");
  }
  staged_.reserve(64 * 1024);
  if (!open_segment(segment_seq)) throw WalError(error_);
}

WalWriter::~WalWriter() { (void)close(); }

std::string WalWriter::segment_path(std::uint64_t seq) const { return join(options_.dir, segment_name(seq)); }

bool WalWriter::fail(const std::string& what, int err) {
  if (error_.empty()) error_ = what + (err ? ": " + errno_text(err) : std::string());
  return false;
}

bool WalWriter::open_segment(std::uint64_t seq) {
  seq_ = seq;
  used_ = kSegmentHeaderSize;
  synced_to_ = 0;
  ++stats_.segments;
  if (options_.backend == Backend::Null) return true;
  const std::string path = segment_path(seq);
  const bool mm = options_.backend == Backend::Mmap;
  fd_ = io_->open(path.c_str(), (mm ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail("cannot create WAL segment " + path, errno);
  std::byte header[kSegmentHeaderSize];
  encode_segment_header(seq, next_lsn_, header);
  if (mm) {
    if (io_->ftruncate(fd_, static_cast<std::int64_t>(options_.segment_bytes)) != 0) {
      return fail("ftruncate(" + path + ") to the segment size failed", errno);
    }
    void* m = ::mmap(nullptr, options_.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) return fail("mmap(" + path + ") failed", errno);
    map_ = static_cast<std::byte*>(m);
    std::memcpy(map_, header, kSegmentHeaderSize);
    if (io_->msync(map_, kSegmentHeaderSize) != 0) return fail("msync(" + path + ") failed", errno);
    if (io_->fdatasync(fd_) != 0) return fail("fdatasync(" + path + ") failed", errno);  // the file size
    synced_to_ = kSegmentHeaderSize;
  } else {
    try {
      write_all(*io_, fd_, header, kSegmentHeaderSize, path);
    } catch (const WalError& e) {
      return fail(e.what(), 0);
    }
    if (io_->fdatasync(fd_) != 0) return fail("fdatasync(" + path + ") failed", errno);
  }
  ++stats_.syncs;
  try {
    sync_directory(*io_, options_.dir);
  } catch (const WalError& e) {
    return fail(e.what(), 0);
  }
  return true;
}

bool WalWriter::close_segment() {
  if (options_.backend == Backend::Null || fd_ < 0) return true;
  const std::string path = segment_path(seq_);
  bool ok = true;
  if (map_) {
    if (::munmap(map_, options_.segment_bytes) != 0 && ok) ok = fail("munmap(" + path + ") failed", errno);
    map_ = nullptr;
    // Give back the unused pre-sized tail (zeros read as end-of-data anyway, so a crash here is harmless).
    if (ok && !poisoned() && io_->ftruncate(fd_, static_cast<std::int64_t>(used_)) != 0) {
      ok = fail("ftruncate(" + path + ") failed", errno);
    }
  }
  if (io_->close(fd_) != 0 && ok) ok = fail("close(" + path + ") failed", errno);
  fd_ = -1;
  return ok && !poisoned();
}

bool WalWriter::append(const Record& r) {
  if (poisoned()) return false;
  if (r.lsn != next_lsn_) {
    return fail("WAL append out of order: record lsn " + std::to_string(r.lsn) + ", expected " + std::to_string(next_lsn_), 0);
  }
  const std::size_t size = kRecordHeaderSize + payload_size(r.type);
  if (used_ + staged_.size() + size > options_.segment_bytes) {
    // Rotate. The old segment is synced first under every policy, so a crash can never leave a later
    // segment durable behind a gap in an earlier one.
    if (!write_staged() || !sync_now() || !close_segment() || !open_segment(seq_ + 1)) return false;
  }
  ++next_lsn_;
  ++stats_.records;
  stats_.bytes += size;
  if (map_) {
    encode_record(r, map_ + used_);
    used_ += size;
  } else {
    const std::size_t at = staged_.size();
    staged_.resize(at + size);  // capacity is kept across commits: no allocation in steady state
    encode_record(r, staged_.data() + at);
  }
  unsynced_ = options_.backend != Backend::Null;
  return true;
}

bool WalWriter::write_staged() {
  if (poisoned()) return false;
  if (options_.backend == Backend::File && !staged_.empty()) {
    const std::byte* p = staged_.data();
    std::size_t n = staged_.size();
    while (n > 0) {
      const long w = io_->write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail("write(" + segment_path(seq_) + ") at offset " + std::to_string(used_) + " failed", errno);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      used_ += static_cast<std::uint64_t>(w);
    }
  } else if (options_.backend == Backend::Null) {
    used_ += staged_.size();
  }
  if (!staged_.empty()) ++stats_.batches;
  staged_.clear();
  return true;
}

bool WalWriter::sync_now() {
  if (poisoned()) return false;
  if (options_.backend == Backend::Null || !unsynced_) {
    unsynced_ = false;
    return true;
  }
  if (map_) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t from = synced_to_ / page * page;
    if (io_->msync(map_ + from, used_ - from) != 0) return fail("msync(" + segment_path(seq_) + ") failed", errno);
    synced_to_ = used_;
  } else if (io_->fdatasync(fd_) != 0) {
    return fail("fdatasync(" + segment_path(seq_) + ") failed", errno);
  }
  ++stats_.syncs;
  unsynced_ = false;
  last_sync_ = std::chrono::steady_clock::now();
  return true;
}

bool WalWriter::commit(bool force) {
  if (!write_staged()) return false;
  if (force || options_.sync.kind == SyncPolicy::Kind::Always) return sync_now();
  if (options_.sync.kind == SyncPolicy::Kind::Interval) return sync_if_due();
  return true;
}

bool WalWriter::sync_if_due() {
  if (poisoned()) return false;
  if (!unsynced_) return true;
  if (std::chrono::steady_clock::now() - last_sync_ < options_.sync.interval) return true;
  return sync_now();
}

bool WalWriter::snapshot(const Snapshot& s) {
  if (!commit(true)) return false;
  if (s.lsn + 1 != next_lsn_) {
    return fail("snapshot at lsn " + std::to_string(s.lsn) + " but the log is at " + std::to_string(next_lsn_ - 1), 0);
  }
  const bool files = options_.backend != Backend::Null;
  if (files) {
    try {
      write_snapshot_file(*io_, options_.dir, s);
    } catch (const WalError& e) {
      return fail(e.what(), 0);
    }
    if (!close_segment() || !open_segment(seq_ + 1)) return false;
  }
  ++stats_.snapshots;
  Record marker{};
  marker.type = RecordType::SnapshotMarker;
  marker.lsn = next_lsn_;
  marker.snapshot_lsn = s.lsn;
  if (!append(marker) || !commit(true)) return false;
  if (!files) return true;
  // Everything up to s.lsn is in the snapshot: older segments and snapshots can go.
  try {
    const DirListing l = list_dir(options_.dir);
    for (const auto& [seq, name] : l.segments) {
      if (seq < seq_ && io_->unlink(join(options_.dir, name).c_str()) != 0) {
        return fail("unlink(" + name + ") failed", errno);
      }
    }
    for (const auto& [lsn, name] : l.snapshots) {
      if (lsn < s.lsn && io_->unlink(join(options_.dir, name).c_str()) != 0) {
        return fail("unlink(" + name + ") failed", errno);
      }
    }
    sync_directory(*io_, options_.dir);
  } catch (const WalError& e) {
    return fail(e.what(), 0);
  }
  return true;
}

bool WalWriter::close() {
  if (closed_) return !poisoned();
  closed_ = true;
  bool ok = !poisoned() && commit(true);
  if (!close_segment()) ok = false;
  return ok && !poisoned();
}

// ---- recovery --------------------------------------------------------------------------------------
namespace {
void truncate_file(const std::string& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw RecoveryError("cannot open " + path + " to truncate it: " + errno_text(errno));
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw RecoveryError("cannot truncate " + path + " to " + std::to_string(size) + " bytes: " + errno_text(err));
  }
  if (::close(fd) != 0) throw RecoveryError("close(" + path + ") failed: " + errno_text(errno));
}
}  // namespace

RecoveryResult recover(const std::string& dir, const RecoveryOptions& options) {
  RecoveryResult out;
  DirListing listing;
  try {
    listing = list_dir(dir);
  } catch (const WalError& e) {
    throw RecoveryError(e.what());
  }
  if (listing.snapshots.empty()) {
    throw RecoveryError("no snapshot in " + dir + " (not a rewardpool data directory, or it was never initialized)");
  }
  const auto& [snap_lsn, snap_name] = *listing.snapshots.rbegin();
  Snapshot snap;
  try {
    const std::string path = join(dir, snap_name);
    snap = decode_snapshot(read_file(path), path);
  } catch (const WalError& e) {
    throw RecoveryError(std::string("cannot load the latest snapshot: ") + e.what());
  }
  if (snap.lsn != snap_lsn) {
    throw RecoveryError(join(dir, snap_name) + ": holds lsn " + std::to_string(snap.lsn) + ", its name says " +
                        std::to_string(snap_lsn));
  }
  out.snapshot_lsn = snap.lsn;
  out.snapshot_file = snap_name;
  out.draws = snap.draws;
  out.lsn = snap.lsn;
  Pool pool(snap.catalog, SelectorKind::PrefixSum, 0);

  std::optional<std::uint64_t> last_lsn;  // of the previous record read, any segment
  const auto last_seq = listing.segments.empty() ? 0 : listing.segments.rbegin()->first;
  out.next_segment_seq = last_seq + 1;
  bool stop = false;  // after a repair: later segments are deleted
  for (const auto& [seq, name] : listing.segments) {
    const std::string path = join(dir, name);
    if (stop) {
      if (!options.read_only && ::unlink(path.c_str()) != 0) {
        throw RecoveryError("cannot delete " + path + ": " + errno_text(errno));
      }
      out.warnings.push_back("repair: deleted " + path + " (after the truncation point)");
      continue;
    }
    SegmentReader reader = [&] {
      try {
        return SegmentReader::open(path);
      } catch (const WalError& e) {
        throw RecoveryError(e.what());
      }
    }();
    SegmentSummary summary;
    summary.name = name;
    summary.seq = seq;
    summary.file_size = reader.file_size();
    const bool is_last = seq == last_seq;
    auto corruption = [&](std::uint64_t offset, const std::string& reason, bool at_tail) {
      const std::string where = "segment " + path + " offset " + std::to_string(offset) + ": " + reason;
      summary.damage = where;
      out.damaged = true;
      if (is_last && at_tail) {
        out.warnings.push_back("torn record at " + where + "; truncated (" +
                               std::to_string(reader.file_size() - offset) + " bytes dropped)");
      } else if (options.repair) {
        out.warnings.push_back("repair: corruption at " + where + "; truncated there");
        stop = true;
      } else {
        throw RecoveryError("corrupt WAL: " + where + " (run with --repair to truncate the log there)");
      }
      if (!options.read_only) {
        if (offset < kSegmentHeaderSize) {
          if (::unlink(path.c_str()) != 0) throw RecoveryError("cannot delete " + path + ": " + errno_text(errno));
        } else {
          truncate_file(path, offset);
        }
      }
    };
    const ReadResult& h = reader.header_status();
    if (h.kind == ReadResult::Kind::Damaged) {
      corruption(0, h.reason, h.at_tail);
      out.segments.push_back(summary);
      continue;
    }
    if (reader.segment_seq() != seq) {
      corruption(0, "header says segment " + std::to_string(reader.segment_seq()), false);
      out.segments.push_back(summary);
      continue;
    }
    summary.valid_bytes = kSegmentHeaderSize;
    bool first = true;
    for (;;) {
      const ReadResult r = reader.next();
      if (r.kind == ReadResult::Kind::End) break;
      if (r.kind == ReadResult::Kind::Damaged) {
        corruption(r.offset, r.reason, r.at_tail);
        break;
      }
      const Record& rec = r.record;
      if (first && rec.lsn != reader.base_lsn()) {
        corruption(r.offset, "first record has lsn " + std::to_string(rec.lsn) + ", the segment header says " +
                                 std::to_string(reader.base_lsn()),
                   false);
        break;
      }
      if (last_lsn && rec.lsn <= *last_lsn) {
        corruption(r.offset, "lsn goes backwards: " + std::to_string(rec.lsn) + " after " + std::to_string(*last_lsn),
                   false);
        break;
      }
      // Records at or below the snapshot's LSN are already in it: a hole among them is harmless (a crash
      // between writing a snapshot and deleting the segments it covers, then a --repair there). Above
      // it, every LSN must be present.
      if (rec.lsn > snap.lsn) {
        const std::uint64_t expect = std::max(last_lsn.value_or(0), snap.lsn) + 1;
        if (rec.lsn != expect) {
          corruption(r.offset, "lsn gap: expected " + std::to_string(expect) + ", found " + std::to_string(rec.lsn) +
                                   " (records " + std::to_string(expect) + ".." + std::to_string(rec.lsn - 1) +
                                   " are missing)",
                     false);
          break;
        }
      }
      if (rec.lsn > snap.lsn) {
        Status st = Status::Ok;
        if (rec.type == RecordType::Draw) {
          st = pool.apply_draw(rec.item);
          if (st == Status::Ok) ++out.draws;
        } else if (rec.type == RecordType::Update) {
          st = pool.update(rec.item, rec.quantity, rec.weight);
        } else if (rec.snapshot_lsn >= rec.lsn) {
          st = Status::InvalidArgument;
        }
        if (st != Status::Ok) {
          corruption(r.offset, std::string(to_string(rec.type)) + " record lsn " + std::to_string(rec.lsn) +
                                   " cannot be applied (item " + std::to_string(rec.item) + ": " +
                                   std::string(to_string(st)) + ")",
                     false);
          break;
        }
        out.lsn = rec.lsn;
        if (options.collect_records) out.records.push_back(rec);
      }
      last_lsn = rec.lsn;
      first = false;
      if (!summary.records++) summary.first_lsn = rec.lsn;
      summary.last_lsn = rec.lsn;
      summary.valid_bytes = r.offset + kRecordHeaderSize + payload_size(rec.type);
    }
    out.segments.push_back(summary);
  }
  out.catalog = pool.catalog();
  return out;
}

}  // namespace rewardpool::wal
