// SPDX-License-Identifier: MIT
#pragma once
// SpillingMpscQueue<T, Wait>, SpillingMpmcQueue<T, Wait>: MpscQueue / MpmcQueue plus Overflow::SpillToDisk.
// Items that do not fit in the ring go to a spill file in a directory you choose and come back in order
// (per producer; docs/mpmc-design.md "Spill", file format docs/spill-format.md).
//
//   ringkit::SpillingMpscQueue<Event> q(1024, ringkit::SpillOptions{.directory = "/var/tmp/app"});  // TrivialCodec
//   ringkit::SpillingMpscQueue<std::string> s(1024, ringkit::SpillOptions{.directory = dir}, StringCodec{});
//   ringkit::SpillingMpmcQueue<Job> r(1024, ringkit::Overflow::Block);  // spill-capable, not spilling
//
// Everything else (verbs, thread roles, memory contract) is MpscQueue's / MpmcQueue's: the spill is a
// layer on the same ring (detail/slot_queue.hpp, "Overflow layers"; detail/spill_layer.hpp). A spilling
// queue may also be built with any other policy (it then never spills), which lets one type serve a
// policy chosen at run time. Link the `ringkit::spill` target.
//
// The plain queues (mpsc_queue.hpp, mpmc_queue.hpp) include none of this: no <filesystem>, no <mutex>,
// no spill branches on their hot paths.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "ringkit/detail/slot_queue.hpp"
#include "ringkit/detail/spill_layer.hpp"
#include "ringkit/spill.hpp"

namespace ringkit {
namespace detail {

// The spilling constructors and observers, shared by both spilling queues.
template <class T, WaitStrategy Wait, bool kMultiConsumer>
class SpillingSlotQueue : public SlotQueue<T, Wait, kMultiConsumer, SpillLayer<T>> {
  using Base = SlotQueue<T, Wait, kMultiConsumer, SpillLayer<T>>;
  static constexpr const char* kName = kMultiConsumer ? "SpillingMpmcQueue" : "SpillingMpscQueue";

 public:
  // (capacity, overflow[, start]): any policy; Overflow::SpillToDisk throws std::invalid_argument (it
  // needs the SpillOptions constructor below).
  using Base::Base;

  // A SpillToDisk queue: items that do not fit go to a spill file in options.directory, encoded by
  // `codec` (TrivialCodec<T> by default, which needs trivially copyable T). std::invalid_argument if the
  // directory does not exist or max_record_bytes is not in [1, 2^30].
  template <class C = default_codec_t<T>>
    requires Codec<C, T>
  SpillingSlotQueue(std::size_t capacity, SpillOptions options, C codec = C{}, StartSequence start = {})
      : Base(capacity, Overflow::SpillToDisk, start, SpillLayer<T>::make(kName, std::move(options), std::move(codec))) {}

  // ---- spill state (any thread) -----------------------------------------------------------------
  // The last spill error: set by a push that returned PushResult::Error (I/O error, disk full,
  // record_too_large) or by a pop that met a corrupt record (checksum_mismatch, bad_length,
  // truncated_record, codec_rejected: that record and the rest of its file are discarded and counted in
  // spill_discarded_bytes(), never delivered) or a codec whose decode() threw (codec_threw: that record
  // alone is discarded). Cleared by nothing; compare with a previous value.
  [[nodiscard]] std::error_code last_error() const { return this->layer().last_error(); }
  // last_error() with where it happened (file, byte offset).
  [[nodiscard]] std::string last_error_message() const { return this->layer().last_error_message(); }
  // The spill file being written/read; empty when none is open.
  [[nodiscard]] std::filesystem::path spill_path() const { return this->layer().path(); }
  [[nodiscard]] std::uint64_t spill_discarded_bytes() const { return this->layer().discarded_bytes(); }
  // Spilled records discarded after a corrupt one (never delivered; see last_error()).
  [[nodiscard]] std::uint64_t spill_discarded_records() const { return this->layer().discarded_records(); }
  // Items written to the spill file and not yet read back or discarded (a snapshot).
  [[nodiscard]] std::uint64_t spill_pending() const { return this->layer().pending(); }
};

}  // namespace detail

template <NothrowQueueElement T, WaitStrategy Wait = Yielding>
class SpillingMpscQueue : public detail::SpillingSlotQueue<T, Wait, false> {
  using Base = detail::SpillingSlotQueue<T, Wait, false>;

 public:
  using Base::Base;
};

template <NothrowQueueElement T, WaitStrategy Wait = Yielding>
class SpillingMpmcQueue : public detail::SpillingSlotQueue<T, Wait, true> {
  using Base = detail::SpillingSlotQueue<T, Wait, true>;

 public:
  using Base::Base;
};

}  // namespace ringkit
