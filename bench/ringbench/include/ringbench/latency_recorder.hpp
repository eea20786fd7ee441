// SPDX-License-Identifier: MIT
#pragma once
// LatencyRecorder: an HdrHistogram-style log-bucketed histogram of non-negative integer values (ns).
//
// Values below 2^(kSubBits+1) get one exact bucket each. Above that, every power-of-two range
// [2^e, 2^(e+1)) is split into 2^kSubBits equal sub-buckets, so a bucket is at most 2^-kSubBits
// (0.78%) of its value wide. percentile() returns the highest value that falls into the bucket
// holding the nearest-rank sample (HdrHistogram's "highest equivalent value"), clipped to the
// largest value recorded; so for the exact nearest-rank value v it returns r with
//   v <= r <= v + v / 2^kSubBits.
// Values >= 2^kMaxBits are counted in the top bucket (and in overflow()).
//
// record() is O(1), allocation-free and not thread-safe (one recorder per thread; merge() after).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ringbench {

class LatencyRecorder {
 public:
  static constexpr unsigned kSubBits = 7;         // 128 sub-buckets per octave
  static constexpr unsigned kMaxBits = 40;        // ~18 minutes in ns
  static constexpr std::uint64_t kExactLimit = std::uint64_t{1} << (kSubBits + 1);  // 256
  static constexpr std::size_t kBuckets =
      static_cast<std::size_t>(kExactLimit) + (kMaxBits - kSubBits - 1) * (std::size_t{1} << kSubBits);

  LatencyRecorder() : counts_(kBuckets, 0) {}

  void record(std::uint64_t value) noexcept {
    if (value >= (std::uint64_t{1} << kMaxBits)) {
      ++overflow_;
      value = (std::uint64_t{1} << kMaxBits) - 1;
    }
    ++counts_[index_of(value)];
    ++count_;
    sum_ += static_cast<double>(value);
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }

  void merge(const LatencyRecorder& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    overflow_ += other.overflow_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  void reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = overflow_ = 0;
    sum_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

  // p in [0, 100]: the value at the nearest rank ceil(p/100 * count) (at least rank 1), to within one
  // bucket (see the header comment). 0 when nothing was recorded; std::invalid_argument for p outside.
  [[nodiscard]] std::uint64_t percentile(double p) const {
    if (!(p >= 0.0 && p <= 100.0)) throw std::invalid_argument("LatencyRecorder::percentile: p must be in [0, 100], got " + std::to_string(p));
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(highest_in_bucket(i), max_);
    }
    return max_;
  }

  // The bucket a value falls in, and the bucket's value range; public for tests.
  static std::size_t index_of(std::uint64_t value) noexcept {
    if (value < kExactLimit) return static_cast<std::size_t>(value);
    const unsigned e = static_cast<unsigned>(std::bit_width(value)) - 1;  // 2^e <= value < 2^(e+1), e > kSubBits
    const unsigned shift = e - kSubBits;
    const std::uint64_t sub = (value >> shift) - (std::uint64_t{1} << kSubBits);  // 0 .. 2^kSubBits - 1
    return static_cast<std::size_t>(kExactLimit) + (e - kSubBits - 1) * (std::size_t{1} << kSubBits) +
           static_cast<std::size_t>(sub);
  }
  static std::uint64_t lowest_in_bucket(std::size_t index) noexcept {
    if (index < kExactLimit) return index;
    const std::size_t rel = index - static_cast<std::size_t>(kExactLimit);
    const unsigned e = static_cast<unsigned>(rel >> kSubBits) + kSubBits + 1;
    const std::uint64_t sub = rel & ((std::size_t{1} << kSubBits) - 1);
    return ((std::uint64_t{1} << kSubBits) + sub) << (e - kSubBits);
  }
  static std::uint64_t highest_in_bucket(std::size_t index) noexcept {
    if (index < kExactLimit) return index;
    const std::size_t rel = index - static_cast<std::size_t>(kExactLimit);
    const unsigned e = static_cast<unsigned>(rel >> kSubBits) + kSubBits + 1;
    return lowest_in_bucket(index) + (std::uint64_t{1} << (e - kSubBits)) - 1;
  }

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t overflow_ = 0;
  double sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace ringbench
