// SPDX-License-Identifier: MIT
#pragma once
// The reward pool: a catalog of items (id, remaining quantity, weight) and weighted random draws.
//
// draw() picks an item with probability weight / (sum of weights of items with quantity left) and
// decrements it. Quantity kUnlimited (-1) is never decremented and never runs out. Weights are held as fixed-point integers (weight * kWeightScale, rounded), so the
// selectors' sums are exact: an item whose quantity reaches 0 has exactly zero weight and can never be
// picked again (no floating-point drift in the Fenwick tree). Catalog weights are therefore limited to
// (0, kMaxWeight] with a resolution of 1 / kWeightScale.
//
// Not thread-safe: one thread (the actor) owns a Pool.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rewardpool {

enum class Status : std::uint8_t {
  Ok,
  Empty,            // no item has quantity left
  UnknownItem,      // update() named an id that is not in the catalog
  InvalidArgument,  // update() with a negative quantity or a weight out of range
  WalError,         // the write-ahead log failed (write/sync); nothing was acknowledged
  Closed,           // the service is shutting down
};
std::string_view to_string(Status s) noexcept;

inline constexpr std::uint64_t kWeightScale = 1'000'000;
inline constexpr double kMaxWeight = 1'000'000.0;
inline constexpr std::int64_t kMaxQuantity = std::int64_t{1} << 53;  // exact in a JSON number (double)
inline constexpr std::size_t kMaxItems = 1'000'000;                   // keeps sum(weights) < 2^64
inline constexpr std::int64_t kUnlimited = -1;                        // a quantity that never runs out

struct Item {
  std::string id;
  std::int64_t quantity = 0;  // remaining
  double weight = 0;
  friend bool operator==(const Item&, const Item&) = default;
};

struct Catalog {
  std::vector<Item> items;
  friend bool operator==(const Catalog&, const Catalog&) = default;
};

// A catalog file or value that cannot be used. what() names the file, the item and the field.
class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Either of two layouts; throws CatalogError naming the file, the item and the field:
//   {"items": [{"id": "gold", "quantity": 100, "weight": 2.5}, ...]}
//   {"catalog": [{"item_id": "mud", "quantity": -1, "probability": 70}, ...]}   (the Go original's:
//   integer probabilities, used as weights; quantity -1 = unlimited)
// An empty catalog is refused.
Catalog parse_catalog(std::string_view json_text, const std::string& source_name);
Catalog load_catalog(const std::string& path);
// Checks there is at least one item, ids (non-empty, unique), quantities (-1 or [0, 2^53]) and weights;
// throws CatalogError naming `source_name`.
void validate_catalog(const Catalog& catalog, const std::string& source_name);

// Fixed-point weight; std::nullopt when `weight` is not in (0, kMaxWeight] or rounds to 0.
std::optional<std::uint64_t> weight_to_fixed(double weight) noexcept;

// ---- selectors -------------------------------------------------------------------------------------
// A selector holds one non-negative integer weight per item and finds the item a uniform random number
// in [0, total()) falls on: the i with prefix(i) <= r < prefix(i + 1). Items of weight 0 are never found.
class Selector {
 public:
  virtual ~Selector() = default;
  virtual void reset(std::span<const std::uint64_t> weights) = 0;
  virtual void set(std::size_t index, std::uint64_t weight) = 0;
  [[nodiscard]] virtual std::uint64_t total() const noexcept = 0;
  // Precondition: r < total().
  [[nodiscard]] virtual std::size_t find(std::uint64_t r) const noexcept = 0;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

// Prefix sums: find() is a binary search, O(log n); set() rewrites the sums after the item, O(n).
class PrefixSumSelector final : public Selector {
 public:
  void reset(std::span<const std::uint64_t> weights) override;
  void set(std::size_t index, std::uint64_t weight) override;
  [[nodiscard]] std::uint64_t total() const noexcept override;
  [[nodiscard]] std::size_t find(std::uint64_t r) const noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "prefix-sum"; }

 private:
  std::vector<std::uint64_t> weights_;
  std::vector<std::uint64_t> prefix_;  // prefix_[i] = weights_[0] + ... + weights_[i]
};

// Fenwick (binary indexed) tree: find() and set() are both O(log n).
class FenwickSelector final : public Selector {
 public:
  void reset(std::span<const std::uint64_t> weights) override;
  void set(std::size_t index, std::uint64_t weight) override;
  [[nodiscard]] std::uint64_t total() const noexcept override { return total_; }
  [[nodiscard]] std::size_t find(std::uint64_t r) const noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "fenwick"; }

 private:
  std::vector<std::uint64_t> weights_;
  std::vector<std::uint64_t> tree_;  // 1-based; tree_[i] = sum of weights_ in (i - lowbit(i), i]
  std::uint64_t total_ = 0;
  std::size_t top_bit_ = 0;  // highest power of two <= size
};

enum class SelectorKind : std::uint8_t { PrefixSum, Fenwick };
std::unique_ptr<Selector> make_selector(SelectorKind kind);
std::optional<SelectorKind> parse_selector_kind(std::string_view name) noexcept;

// A small, fast generator (xoshiro256**, Blackman & Vigna) and an unbiased bounded draw (Lemire's
// multiply-and-reject): no division on the hot path, unlike std::uniform_int_distribution + mt19937_64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, bound); bound > 0.
  std::uint64_t below(std::uint64_t bound) noexcept {
    __extension__ using u128 = unsigned __int128;
    u128 m = static_cast<u128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<u128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// ---- the pool --------------------------------------------------------------------------------------
struct DrawResult {
  Status status = Status::Ok;
  std::uint32_t index = 0;  // the item drawn (Ok only)
  std::uint64_t lsn = 0;    // the log sequence number of its record (set by the actor)
};

class Pool {
 public:
  // Throws CatalogError if the catalog is invalid.
  Pool(Catalog catalog, SelectorKind kind = SelectorKind::Fenwick, std::uint64_t seed = 1);

  // Picks an item with quantity left, weighted, and decrements it. Status::Empty when none is left.
  // No allocation, no virtual call.
  DrawResult draw() noexcept;
  // Decrements a given item (log replay). InvalidArgument if it has nothing left or is out of range.
  Status apply_draw(std::uint32_t index);
  // Sets an item's remaining quantity and weight.
  Status update(std::uint32_t index, std::int64_t quantity, double weight);

  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view id) const;
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] const Item& item(std::uint32_t index) const { return items_.at(index); }
  [[nodiscard]] const std::vector<Item>& items() const noexcept { return items_; }
  [[nodiscard]] Catalog catalog() const { return Catalog{items_}; }
  [[nodiscard]] const Selector& selector() const noexcept {
    return kind_ == SelectorKind::Fenwick ? static_cast<const Selector&>(fenwick_) : prefix_;
  }
  // Remaining quantity of every item, in catalog order, into `out` (out.size() == size()): the
  // snapshot copy the actor makes (no allocation).
  void copy_quantities(std::span<std::int64_t> out) const noexcept;

 private:
  std::uint64_t effective_weight(std::size_t i) const noexcept {
    return items_[i].quantity != 0 ? fixed_[i] : 0;  // kUnlimited (-1) stays drawable
  }
  void set_weight(std::size_t i, std::uint64_t w) noexcept {
    if (kind_ == SelectorKind::Fenwick) fenwick_.set(i, w);
    else prefix_.set(i, w);
  }

  std::vector<Item> items_;
  std::vector<std::uint64_t> fixed_;  // fixed-point weights, whether or not quantity is left
  SelectorKind kind_;
  FenwickSelector fenwick_;  // the one kind_ names is used; the other stays empty
  PrefixSumSelector prefix_;
  std::unordered_map<std::string, std::uint32_t> index_;
  Rng rng_;
};

}  // namespace rewardpool
