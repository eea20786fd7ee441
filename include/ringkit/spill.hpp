// SPDX-License-Identifier: MIT
#pragma once
// Overflow::SpillToDisk support: SpillOptions (where), the Codec<T> concept (how an item becomes bytes),
// TrivialCodec<T> (the default, for trivially copyable T), and the type-erased channel a queue talks to.
//
// A queue gets its directory and codec through a constructor argument:
//   ringkit::MpscQueue<Event> q(1024, ringkit::SpillOptions{.directory = "/var/tmp/app"});   // TrivialCodec
//   ringkit::MpscQueue<std::string> s(1024, ringkit::SpillOptions{.directory = dir}, StringCodec{});
// Constructing a spilling queue instantiates ringkit_spill code: link the `ringkit_spill` target.
// The queue's hot paths only call the channel through a virtual interface, so queues that never spill
// need nothing but the header-only `ringkit::ringkit`.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "ringkit/spill_file.hpp"

namespace ringkit {

struct SpillOptions {
  // Where spill files are created (one file at a time per queue, removed when drained). Must be an
  // existing directory: the constructor throws std::invalid_argument naming it otherwise. If it later
  // becomes unusable, push() returns PushResult::Error and last_error() says why.
  std::filesystem::path directory;
  // Largest encoded item accepted; a larger one is refused with PushResult::Error (record_too_large).
  std::uint32_t max_record_bytes = 1u << 20;
};

// encode() appends the bytes of `value` to `out`; decode() rebuilds an item from exactly those bytes, or
// returns std::nullopt if it cannot (reported as spill_errc::codec_rejected, never delivered). If
// decode() throws, that one record is discarded (counted in spill_discarded_records(), reported as
// spill_errc::codec_threw with the exception's message) and the records after it are still delivered;
// the exception does not reach the consumer. An exception from encode() leaves the queue unchanged and
// propagates out of push().
template <class C, class T>
concept Codec = requires(const C& codec, const T& value, std::vector<std::byte>& out,
                         std::span<const std::byte> in) {
  codec.encode(value, out);
  { codec.decode(in) } -> std::same_as<std::optional<T>>;
};

template <class T>
  requires std::is_trivially_copyable_v<T>
struct TrivialCodec {
  void encode(const T& value, std::vector<std::byte>& out) const {
    const std::size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, std::addressof(value), sizeof(T));
  }
  std::optional<T> decode(std::span<const std::byte> in) const {
    if (in.size() != sizeof(T)) return std::nullopt;
    std::array<std::byte, sizeof(T)> bytes;
    std::memcpy(bytes.data(), in.data(), sizeof(T));
    return std::bit_cast<T>(bytes);
  }
};

// The codec a spilling queue uses when none is given: TrivialCodec<T> for trivially copyable T; for other
// T there is none (NoDefaultCodec is not a Codec), so the user must pass one.
struct NoDefaultCodec {};
template <class T>
struct default_codec {
  using type = NoDefaultCodec;
};
template <class T>
  requires std::is_trivially_copyable_v<T>
struct default_codec<T> {
  using type = TrivialCodec<T>;
};
template <class T>
using default_codec_t = typename default_codec<T>::type;

namespace detail {

// What a queue needs from its spill: append an item, read the oldest one back. Every call is made under
// the queue's spill mutex.
template <class T>
class SpillChannel {
 public:
  virtual ~SpillChannel() = default;
  // Appends `value` (leaves it untouched). On error nothing was appended.
  virtual std::error_code append(const T& value) = 0;
  enum class Read { Item, Empty, Error };
  // Item: `out` holds the oldest spilled item; the file is removed as soon as its last record is read.
  // Empty: nothing spilled. Error: a corrupt/unreadable record; `ec` + detail() say what and where; the
  // rest of that file is discarded (and the file removed) so the queue can go on; or (codec_threw) the
  // codec threw on one record, which alone is discarded. Throws only if reading the file does
  // (std::bad_alloc); then nothing was consumed: the record is still the next one.
  virtual Read read(std::optional<T>& out, std::error_code& ec) = 0;
  [[nodiscard]] virtual bool empty() const noexcept = 0;
  [[nodiscard]] virtual std::string detail() const = 0;
  [[nodiscard]] virtual std::filesystem::path current_path() const = 0;  // empty when no file is open
  [[nodiscard]] virtual std::uint64_t discarded_bytes() const noexcept = 0;
  // Records (not bytes) discarded after a corrupt one: appended to a file but never delivered.
  [[nodiscard]] virtual std::uint64_t discarded_records() const noexcept = 0;
};

template <class T, class C>
class SpillChannelImpl final : public SpillChannel<T> {
 public:
  SpillChannelImpl(SpillOptions options, C codec) : options_(std::move(options)), codec_(std::move(codec)) {}
  ~SpillChannelImpl() override {
    if (file_) (void)file_->remove();  // items still in it die with the queue, like the ring's
  }

  std::error_code append(const T& value) override {
    // Encode (and reject an oversized record) before creating a file, so a refused first item leaves
    // no empty spill file behind.
    scratch_.clear();
    codec_.encode(value, scratch_);
    if (scratch_.size() > options_.max_record_bytes) {
      detail_ = "spill: encoded item of " + std::to_string(scratch_.size()) + " bytes exceeds max_record_bytes " +
                std::to_string(options_.max_record_bytes);
      return make_error_code(spill_errc::record_too_large);
    }
    if (!file_) {
      std::error_code ec;
      file_ = SpillFile::create(options_.directory, options_.max_record_bytes, ec, &detail_);
      if (!file_) return ec;
    }
    const std::error_code ec = file_->append(scratch_);
    if (ec) {
      detail_ = file_->error_detail();
    } else {
      ++file_records_;
    }
    return ec;
  }

  typename SpillChannel<T>::Read read(std::optional<T>& out, std::error_code& ec) override {
    using R = typename SpillChannel<T>::Read;
    if (!file_) return R::Empty;
    if (file_->drained()) {
      close_file();
      return R::Empty;
    }
    switch (file_->read(scratch_, ec)) {
      case SpillFile::Read::Record:
        ++file_reads_;
        try {
          out = codec_.decode(scratch_);
        } catch (...) {
          // The record was read whole (its checksum held), so the file is fine: discard this record
          // alone, count it, report it, and let the next pop read the next one.
          out.reset();
          ec = make_error_code(spill_errc::codec_threw);
          ++discarded_records_;
          discarded_ += SpillFile::kFrameSize + scratch_.size();
          detail_ = "spill: codec threw (" + current_exception_message() + ") decoding the record ending at offset " +
                    std::to_string(file_->read_offset()) + " of " + file_->path().string() +
                    "; that record is discarded";
          if (file_->drained()) close_file();
          return R::Error;
        }
        if (!out) {
          ec = make_error_code(spill_errc::codec_rejected);
          detail_ = "spill: codec rejected the record ending at offset " + std::to_string(file_->read_offset()) +
                    " of " + file_->path().string();
          discard_rest(true);
          return R::Error;
        }
        if (file_->drained()) close_file();
        return R::Item;
      case SpillFile::Read::End:
        close_file();
        return R::Empty;
      case SpillFile::Read::Error:
        detail_ = file_->error_detail();
        discard_rest(false);
        return R::Error;
    }
    return R::Empty;
  }

  [[nodiscard]] bool empty() const noexcept override { return !file_ || file_->drained(); }
  [[nodiscard]] std::string detail() const override { return detail_; }
  [[nodiscard]] std::filesystem::path current_path() const override {
    return file_ ? file_->path() : std::filesystem::path{};
  }
  [[nodiscard]] std::uint64_t discarded_bytes() const noexcept override { return discarded_; }
  [[nodiscard]] std::uint64_t discarded_records() const noexcept override { return discarded_records_; }

 private:
  void close_file() {
    const std::error_code ec = file_->remove();
    if (ec) detail_ = "spill: could not remove drained " + file_->path().string() + ": " + ec.message();
    file_.reset();
    file_records_ = 0;
    file_reads_ = 0;
  }
  static std::string current_exception_message() {
    try {
      throw;
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "an exception not derived from std::exception";
    }
  }

  // After a corrupt record: the rest of the file is dropped (its records counted, never delivered).
  // A record the codec rejected was read, so it counts as discarded too.
  void discard_rest(bool last_read_undelivered) {
    discarded_ += file_->write_offset() - file_->read_offset();
    discarded_records_ += file_records_ - file_reads_ + (last_read_undelivered ? 1 : 0);
    close_file();
  }

  SpillOptions options_;
  C codec_;
  std::unique_ptr<SpillFile> file_;
  std::vector<std::byte> scratch_;
  std::string detail_;
  std::uint64_t discarded_ = 0;
  std::uint64_t discarded_records_ = 0;
  std::uint64_t file_records_ = 0;  // appended to the current file
  std::uint64_t file_reads_ = 0;    // read back from it
};

}  // namespace detail
}  // namespace ringkit
