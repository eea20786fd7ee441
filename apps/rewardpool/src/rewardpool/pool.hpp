#pragma once
// The reward pool: a catalog of items (id, remaining quantity, weight) and weighted random draws.
//
// draw() picks an item with probability weight / (sum of weights of items with quantity left) and
// decrements it. Weights are held as fixed-point integers (weight * kWeightScale, rounded), so the
// selectors' sums are exact: an item whose quantity reaches 0 has exactly zero weight and can never be
// picked again (no floating-point drift in the Fenwick tree). Catalog weights are therefore limited to
// (0, kMaxWeight] with a resolution of 1 / kWeightScale.
//
// Not thread-safe: one thread (the actor) owns a Pool.
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
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

// {"items": [{"id": "gold", "quantity": 100, "weight": 2.5}, ...]}; throws CatalogError.
Catalog parse_catalog(std::string_view json_text, const std::string& source_name);
Catalog load_catalog(const std::string& path);
// Checks ids (non-empty, unique), quantities and weights; throws CatalogError naming `source_name`.
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
  DrawResult draw();
  // Decrements a given item (log replay). InvalidArgument if it has nothing left or is out of range.
  Status apply_draw(std::uint32_t index);
  // Sets an item's remaining quantity and weight.
  Status update(std::uint32_t index, std::int64_t quantity, double weight);

  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view id) const;
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] const Item& item(std::uint32_t index) const { return items_.at(index); }
  [[nodiscard]] const std::vector<Item>& items() const noexcept { return items_; }
  [[nodiscard]] Catalog catalog() const { return Catalog{items_}; }
  [[nodiscard]] const Selector& selector() const noexcept { return *selector_; }

 private:
  std::uint64_t effective_weight(std::size_t i) const noexcept {
    return items_[i].quantity > 0 ? fixed_[i] : 0;
  }

  std::vector<Item> items_;
  std::vector<std::uint64_t> fixed_;  // fixed-point weights, whether or not quantity is left
  std::unique_ptr<Selector> selector_;
  std::unordered_map<std::string, std::uint32_t> index_;
  std::mt19937_64 rng_;
};

}  // namespace rewardpool
