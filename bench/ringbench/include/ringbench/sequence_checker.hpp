// SPDX-License-Identifier: MIT
#pragma once
// SequenceChecker: proves a benchmark run delivered every item exactly once (and in order where the
// queue promises it), so a run that loses, duplicates or reorders items never reports a number.
//
// Items carry (producer, index): producer p pushes indices 0 .. per_producer-1 in order.
// Each consumer thread owns one checker (observe() is not thread-safe and allocation-free); verify()
// then looks at all consumers' checkers together.
//   Contiguous  one consumer, per-producer FIFO promised: every item must be exactly the next index of
//               its producer. Exactly-once and order follow from contiguity plus the final counts.
//   Increasing  several consumers, per-producer FIFO promised: each consumer sees each producer's
//               indices strictly increasing; a bitmap per (consumer, producer) proves exactly-once.
//   Unordered   no order promised: bitmaps only.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ringbench {

class SequenceChecker {
 public:
  enum class Mode { Contiguous, Increasing, Unordered };

  SequenceChecker(std::size_t producers, std::uint64_t per_producer, Mode mode)
      : per_producer_(per_producer), mode_(mode), per_(producers) {
    if (mode != Mode::Contiguous) {
      for (auto& p : per_) p.bits.assign(static_cast<std::size_t>((per_producer + 63) / 64), 0);
    }
  }

  // Records one received item; returns false (and keeps the first error) when it breaks the contract.
  bool observe(std::uint64_t producer, std::uint64_t index) noexcept {
    if (producer >= per_.size()) return fail_once(Kind::BadProducer, producer, index, 0);
    if (index >= per_producer_) return fail_once(Kind::BadIndex, producer, index, 0);
    PerProducer& p = per_[static_cast<std::size_t>(producer)];
    switch (mode_) {
      case Mode::Contiguous:
        if (index != p.next) {
          return fail_once(index < p.next ? Kind::Duplicate : Kind::Gap, producer, index, p.next);
        }
        p.next = index + 1;
        break;
      case Mode::Increasing:
        if (p.count != 0 && index < p.next) return fail_once(Kind::OutOfOrder, producer, index, p.next - 1);
        p.next = index + 1;
        [[fallthrough]];
      case Mode::Unordered: {
        std::uint64_t& word = p.bits[static_cast<std::size_t>(index / 64)];
        const std::uint64_t bit = std::uint64_t{1} << (index % 64);
        if (word & bit) return fail_once(Kind::Duplicate, producer, index, 0);
        word |= bit;
        break;
      }
    }
    ++p.count;
    return true;
  }

  [[nodiscard]] bool ok() const noexcept { return kind_ == Kind::None; }
  [[nodiscard]] std::uint64_t received() const noexcept {
    std::uint64_t n = 0;
    for (const auto& p : per_) n += p.count;
    return n;
  }
  [[nodiscard]] std::optional<std::string> error() const {
    if (ok()) return std::nullopt;
    const std::string at = "producer " + std::to_string(e_producer_) + " index " + std::to_string(e_index_);
    switch (kind_) {
      case Kind::BadProducer: return "item from unknown " + at;
      case Kind::BadIndex: return "index out of range: " + at + " (each producer pushes " + std::to_string(per_producer_) + ")";
      case Kind::Duplicate: return "duplicate item: " + at;
      case Kind::Gap: return "lost or out-of-order item: got " + at + ", expected index " + std::to_string(e_other_);
      case Kind::OutOfOrder: return "out-of-order item: " + at + " after index " + std::to_string(e_other_);
      case Kind::None: break;
    }
    return "unknown error";
  }

  // The whole run's verdict: nullopt when every item of every producer arrived exactly once (and in
  // order per the mode), else a message naming the first problem found.
  [[nodiscard]] static std::optional<std::string> verify(std::span<const SequenceChecker> consumers) {
    if (consumers.empty()) return "no consumer checkers";
    for (std::size_t c = 0; c < consumers.size(); ++c) {
      if (auto e = consumers[c].error()) return "consumer " + std::to_string(c) + ": " + *e;
    }
    const SequenceChecker& first = consumers.front();
    const std::size_t producers = first.per_.size();
    const std::uint64_t per = first.per_producer_;
    if (first.mode_ == Mode::Contiguous) {
      if (consumers.size() != 1) return "Contiguous mode needs exactly one consumer";
      for (std::size_t p = 0; p < producers; ++p) {
        if (first.per_[p].next != per) {
          return "lost items: producer " + std::to_string(p) + " delivered " + std::to_string(first.per_[p].next) + " of " + std::to_string(per);
        }
      }
      return std::nullopt;
    }
    for (std::size_t p = 0; p < producers; ++p) {
      for (std::size_t w = 0; w < first.per_[p].bits.size(); ++w) {
        std::uint64_t seen = 0;
        for (const auto& c : consumers) {
          if (c.per_.size() != producers || c.per_[p].bits.size() != first.per_[p].bits.size()) {
            return "checkers disagree on the producer count or mode";
          }
          const std::uint64_t word = c.per_[p].bits[w];
          if (seen & word) {
            const auto bit = static_cast<unsigned>(__builtin_ctzll(seen & word));
            return "duplicate item: producer " + std::to_string(p) + " index " + std::to_string(w * 64 + bit) + " (two consumers)";
          }
          seen |= word;
        }
        const std::uint64_t lo = static_cast<std::uint64_t>(w) * 64;
        const std::uint64_t valid = per - lo >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (per - lo)) - 1;
        if (seen != valid) {
          const auto bit = static_cast<unsigned>(__builtin_ctzll(~seen & valid));
          return "lost item: producer " + std::to_string(p) + " index " + std::to_string(lo + bit) + " never arrived";
        }
      }
    }
    return std::nullopt;
  }

 private:
  enum class Kind { None, BadProducer, BadIndex, Duplicate, Gap, OutOfOrder };

  bool fail_once(Kind kind, std::uint64_t producer, std::uint64_t index, std::uint64_t other) noexcept {
    if (kind_ == Kind::None) {
      kind_ = kind;
      e_producer_ = producer;
      e_index_ = index;
      e_other_ = other;
    }
    return false;
  }

  std::uint64_t per_producer_;
  Mode mode_;
  struct PerProducer {
    std::uint64_t next = 0;   // Contiguous: next expected index; Increasing: last seen + 1
    std::uint64_t count = 0;  // items accepted
    std::vector<std::uint64_t> bits;  // Increasing / Unordered: one bit per index seen
  };
  std::vector<PerProducer> per_;
  Kind kind_ = Kind::None;
  std::uint64_t e_producer_ = 0, e_index_ = 0, e_other_ = 0;
};

}  // namespace ringbench
