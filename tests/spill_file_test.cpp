// SPDX-License-Identifier: MIT
// The spill file format (docs/spill-format.md) and its reader's error cases (RELIABILITY row 11):
// CRC-32C vectors, round trip, truncated tail, bit flips in payload and length, bad/unsupported headers,
// unwritable directories, and a full disk (RLIMIT_FSIZE) leaving the file whole.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ringkit/crc32c.hpp"
#include "ringkit/spill_file.hpp"
#include "spill_test_support.hpp"

namespace ringkit::test {
namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

std::vector<std::byte> record(std::size_t i) {
  std::vector<std::byte> v(i % 300);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<std::byte>((i * 31 + k) & 0xFF);
  return v;
}

std::unique_ptr<SpillFile> make(const ScratchDir& dir) {
  std::error_code ec;
  auto f = SpillFile::create(dir.path(), 1u << 20, ec);
  EXPECT_FALSE(ec) << ec.message();
  return f;
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);
  std::vector<std::byte> zeros(32, std::byte{0}), ones(32, std::byte{0xFF});
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  // Extending in pieces equals one pass.
  const auto all = bytes_of("The quick brown fox jumps over the lazy dog");
  const std::span<const std::byte> s(all);
  EXPECT_EQ(crc32c_extend(crc32c(s.first(10)), s.subspan(10)), crc32c(s));
}

TEST(SpillFile, RoundTripAndRemove) {
  ScratchDir dir;
  auto f = make(dir);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->write_offset(), SpillFile::kHeaderSize);
  for (std::size_t i = 0; i < 2000; ++i) ASSERT_FALSE(f->append(record(i)));
  std::vector<std::byte> got;
  std::error_code ec;
  for (std::size_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(f->read(got, ec), SpillFile::Read::Record) << i << " " << f->error_detail();
    ASSERT_EQ(got, record(i)) << i;
  }
  EXPECT_EQ(f->read(got, ec), SpillFile::Read::End);
  EXPECT_TRUE(f->drained());
  const auto path = f->path();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(f->remove());
  EXPECT_FALSE(std::filesystem::exists(path));
  // A second reader sees the same records through open().
  auto g = make(dir);
  ASSERT_FALSE(g->append(record(7)));
  ASSERT_FALSE(g->append(record(8)));
  auto r = SpillFile::open(g->path(), ec);
  ASSERT_TRUE(r) << ec.message();
  ASSERT_EQ(r->read(got, ec), SpillFile::Read::Record);
  EXPECT_EQ(got, record(7));
  ASSERT_EQ(r->read(got, ec), SpillFile::Read::Record);
  EXPECT_EQ(got, record(8));
  EXPECT_EQ(r->read(got, ec), SpillFile::Read::End);
}

TEST(SpillFile, TruncatedTailIsReportedWithOffset) {
  ScratchDir dir;
  auto f = make(dir);
  for (std::size_t i = 1; i <= 3; ++i) ASSERT_FALSE(f->append(record(i * 10)));
  const std::uint64_t third = SpillFile::kHeaderSize + 2 * SpillFile::kFrameSize + 10 + 20;
  std::filesystem::resize_file(f->path(), f->write_offset() - 5);
  std::vector<std::byte> got;
  std::error_code ec;
  ASSERT_EQ(f->read(got, ec), SpillFile::Read::Record);
  ASSERT_EQ(f->read(got, ec), SpillFile::Read::Record);
  EXPECT_EQ(got, record(20));
  ASSERT_EQ(f->read(got, ec), SpillFile::Read::Error);
  EXPECT_EQ(ec, spill_errc::truncated_record);
  EXPECT_NE(f->error_detail().find("offset " + std::to_string(third)), std::string::npos) << f->error_detail();
  EXPECT_NE(f->error_detail().find(f->path().string()), std::string::npos);
  ec.clear();
  EXPECT_EQ(f->read(got, ec), SpillFile::Read::Error);  // stuck at the bad record, never skips past it
  EXPECT_EQ(f->read_offset(), third);
}

TEST(SpillFile, FlippedPayloadBitIsChecksumMismatch) {
  ScratchDir dir;
  auto f = make(dir);
  for (std::size_t i = 1; i <= 3; ++i) ASSERT_FALSE(f->append(record(i * 10)));
  const std::uint64_t second = SpillFile::kHeaderSize + SpillFile::kFrameSize + 10;
  flip_byte(f->path(), second + SpillFile::kFrameSize + 3, 0x10);
  std::vector<std::byte> got;
  std::error_code ec;
  ASSERT_EQ(f->read(got, ec), SpillFile::Read::Record);
  EXPECT_EQ(got, record(10));
  ASSERT_EQ(f->read(got, ec), SpillFile::Read::Error);
  EXPECT_EQ(ec, spill_errc::checksum_mismatch);
  EXPECT_NE(f->error_detail().find("offset " + std::to_string(second)), std::string::npos) << f->error_detail();
  EXPECT_EQ(got, record(10));  // nothing of the bad record was handed out
}

TEST(SpillFile, FlippedLengthIsCaught) {
  ScratchDir dir;
  auto f = make(dir);
  ASSERT_FALSE(f->append(record(40)));
  ASSERT_FALSE(f->append(record(41)));
  std::vector<std::byte> got;
  std::error_code ec;
  {  // small flip: the length still fits, the CRC (which covers the length) catches it
    flip_byte(f->path(), SpillFile::kHeaderSize, 0x01);
    auto r = SpillFile::open(f->path(), ec);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->read(got, ec), SpillFile::Read::Error);
    EXPECT_EQ(ec, spill_errc::checksum_mismatch);
    flip_byte(f->path(), SpillFile::kHeaderSize, 0x01);  // undo
  }
  {  // high bit: the length runs past the data
    flip_byte(f->path(), SpillFile::kHeaderSize + 3, 0x40);
    auto r = SpillFile::open(f->path(), ec);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->read(got, ec), SpillFile::Read::Error);
    EXPECT_EQ(ec, spill_errc::bad_length);
    EXPECT_NE(r->error_detail().find("offset 32"), std::string::npos) << r->error_detail();
  }
}

TEST(SpillFile, BadHeaders) {
  ScratchDir dir;
  std::error_code ec;
  std::string detail;
  auto f = make(dir);
  ASSERT_FALSE(f->append(record(5)));
  const auto path = f->path();
  flip_byte(path, 2, 0x20);  // magic
  EXPECT_FALSE(SpillFile::open(path, ec, &detail));
  EXPECT_EQ(ec, spill_errc::bad_header);
  EXPECT_NE(detail.find(path.string()), std::string::npos) << detail;
  flip_byte(path, 2, 0x20);
  flip_byte(path, 20, 0x01);  // reserved field: the header CRC catches it
  EXPECT_FALSE(SpillFile::open(path, ec, &detail));
  EXPECT_EQ(ec, spill_errc::bad_header);
  flip_byte(path, 20, 0x01);
  ASSERT_TRUE(SpillFile::open(path, ec));
  {  // a future version, with a correct header CRC
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> h(SpillFile::kHeaderSize);
    io.read(h.data(), static_cast<std::streamsize>(h.size()));
    h[8] = 2;
    const auto crc = crc32c({reinterpret_cast<const std::byte*>(h.data()), 28});
    for (int i = 0; i < 4; ++i) h[static_cast<std::size_t>(28 + i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    io.seekp(0);
    io.write(h.data(), static_cast<std::streamsize>(h.size()));
  }
  EXPECT_FALSE(SpillFile::open(path, ec, &detail));
  EXPECT_EQ(ec, spill_errc::unsupported_version);
  EXPECT_NE(detail.find("version 2"), std::string::npos) << detail;
  std::filesystem::resize_file(path, 10);
  EXPECT_FALSE(SpillFile::open(path, ec, &detail));
  EXPECT_EQ(ec, spill_errc::bad_header);
  EXPECT_FALSE(SpillFile::open(dir.path() / "missing.rks", ec));
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}

TEST(SpillFile, UnwritableDirectory) {
  ScratchDir dir;
  std::error_code ec;
  std::string detail;
  EXPECT_FALSE(SpillFile::create(dir.path() / "no" / "such" / "dir", 1024, ec, &detail));
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_NE(detail.find("no/such/dir"), std::string::npos) << detail;
  const auto file = dir.path() / "plain-file";
  { std::ofstream(file) << "x"; }
  EXPECT_FALSE(SpillFile::create(file, 1024, ec, &detail));  // a file, not a directory
  EXPECT_EQ(ec, std::errc::not_a_directory);
}

TEST(SpillFile, FullDiskLeavesWholeRecords) {
  ScratchDir dir;
  auto f = make(dir);
  std::size_t ok = 0;
  std::error_code err;
  {
    FileSizeLimit limit(4096);
    for (std::size_t i = 0; i < 1000 && !err; ++i) {
      err = f->append(record(100 + i));
      if (!err) ++ok;
    }
  }
  ASSERT_TRUE(err) << "the size limit never hit";
  EXPECT_EQ(err, std::errc::file_too_large);
  EXPECT_NE(f->error_detail().find("append failed"), std::string::npos) << f->error_detail();
  EXPECT_LE(f->write_offset(), 4096u);
  EXPECT_EQ(std::filesystem::file_size(f->path()), f->write_offset());  // the partial record was cut off
  std::vector<std::byte> got;
  std::error_code ec;
  for (std::size_t i = 0; i < ok; ++i) {
    ASSERT_EQ(f->read(got, ec), SpillFile::Read::Record);
    EXPECT_EQ(got, record(100 + i));
  }
  EXPECT_EQ(f->read(got, ec), SpillFile::Read::End);
  ASSERT_FALSE(f->append(record(5)));  // usable again once there is room
}

TEST(SpillFile, RecordLargerThanLimitRefused) {
  ScratchDir dir;
  std::error_code ec;
  auto f = SpillFile::create(dir.path(), 16, ec);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->append(std::vector<std::byte>(17)), spill_errc::record_too_large);
  EXPECT_FALSE(f->append(std::vector<std::byte>(16)));
  EXPECT_EQ(spill_category().name(), std::string("ringkit.spill"));
  EXPECT_FALSE(make_error_code(spill_errc::checksum_mismatch).message().empty());
}

}  // namespace
}  // namespace ringkit::test
