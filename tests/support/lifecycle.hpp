// SPDX-License-Identifier: MIT
#pragma once
// Element types that count their lives: every construction and destruction is tallied so a test can
// assert that a queue destroyed exactly what it constructed (RELIABILITY.md row 1).
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace ringkit::test {

struct LifeCounts {
  std::atomic<long> constructed{0};  // every constructor, including copies and moves
  std::atomic<long> destroyed{0};
  std::atomic<long> copies{0};
  std::atomic<long> moves{0};
  long alive() const { return constructed.load() - destroyed.load(); }
  void reset() { constructed = 0; destroyed = 0; copies = 0; moves = 0; }
};

inline LifeCounts& life_counts() {
  static LifeCounts counts;
  return counts;
}

// A value with a live-object counter and a heap-free payload; moved-from objects keep value -1.
class Tracked {
 public:
  Tracked() : Tracked(0) {}
  explicit Tracked(long v) : value_(v) { life_counts().constructed++; }
  Tracked(const Tracked& o) : value_(o.value_) { life_counts().constructed++; life_counts().copies++; }
  Tracked(Tracked&& o) noexcept : value_(std::exchange(o.value_, -1)) {
    life_counts().constructed++;
    life_counts().moves++;
  }
  Tracked& operator=(const Tracked& o) { value_ = o.value_; life_counts().copies++; return *this; }
  Tracked& operator=(Tracked&& o) noexcept {
    value_ = std::exchange(o.value_, -1);
    life_counts().moves++;
    return *this;
  }
  ~Tracked() { life_counts().destroyed++; }
  long value() const { return value_; }
  friend bool operator==(const Tracked& a, const Tracked& b) { return a.value_ == b.value_; }

 private:
  long value_;
};

// Throws from its constructor (value or copy) when the global countdown reaches zero.
struct ThrowCountdown {
  static inline std::atomic<long> remaining{-1};  // <0: never throw
  static void arm(long n) { remaining = n; }
  static void disarm() { remaining = -1; }
  static void tick() {
    if (remaining.load() >= 0 && remaining.fetch_sub(1) == 0) throw std::runtime_error("ThrowCountdown");
  }
};

class ThrowingOnCopy {
 public:
  explicit ThrowingOnCopy(long v) : value_(v) { ThrowCountdown::tick(); life_counts().constructed++; }
  ThrowingOnCopy(const ThrowingOnCopy& o) : value_(o.value_) { ThrowCountdown::tick(); life_counts().constructed++; }
  ThrowingOnCopy& operator=(const ThrowingOnCopy& o) { ThrowCountdown::tick(); value_ = o.value_; return *this; }
  ~ThrowingOnCopy() { life_counts().destroyed++; }
  long value() const { return value_; }

 private:
  long value_;
};

// A payload with correlated fields: a torn read (fields from two different writes) breaks the relation.
struct Correlated {
  std::uint64_t producer = 0;
  std::uint64_t seq = 0;
  std::uint64_t plus13 = 13;
  std::uint64_t minus7 = static_cast<std::uint64_t>(-7);
  static Correlated make(std::uint64_t producer, std::uint64_t seq) { return {producer, seq, seq + 13, seq - 7}; }
  bool consistent() const { return plus13 == seq + 13 && minus7 == seq - 7; }
};

}  // namespace ringkit::test
