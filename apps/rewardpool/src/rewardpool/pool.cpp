// SPDX-License-Identifier: MIT
#include "rewardpool/pool.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace rewardpool {

std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::Empty: return "empty";
    case Status::UnknownItem: return "unknown item";
    case Status::InvalidArgument: return "invalid argument";
    case Status::WalError: return "wal error";
    case Status::Closed: return "closed";
  }
  return "?";
}

std::optional<std::uint64_t> weight_to_fixed(double weight) noexcept {
  if (!(weight > 0.0) || !(weight <= kMaxWeight)) return std::nullopt;  // also rejects NaN
  const double scaled = std::round(weight * static_cast<double>(kWeightScale));
  if (scaled < 1.0) return std::nullopt;
  return static_cast<std::uint64_t>(scaled);
}

// ---- catalog ---------------------------------------------------------------------------------------
namespace {
std::string describe_item(const std::string& source, std::size_t i, const std::string& id) {
  std::string s = source + ": items[" + std::to_string(i) + "]";
  if (!id.empty()) s += " (id \"" + id + "\")";
  return s;
}
}  // namespace

void validate_catalog(const Catalog& catalog, const std::string& source_name) {
  if (catalog.items.empty()) {
    throw CatalogError(source_name + ": the catalog has no items; a pool needs at least one item to draw from");
  }
  if (catalog.items.size() > kMaxItems) {
    throw CatalogError(source_name + ": " + std::to_string(catalog.items.size()) + " items; at most " +
                       std::to_string(kMaxItems) + " are supported");
  }
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < catalog.items.size(); ++i) {
    const Item& it = catalog.items[i];
    if (it.id.empty()) throw CatalogError(describe_item(source_name, i, it.id) + ": field \"id\" is empty");
    if (!seen.insert(it.id).second) {
      throw CatalogError(describe_item(source_name, i, it.id) + ": duplicate id \"" + it.id + "\"");
    }
    if (it.quantity < kUnlimited || it.quantity > kMaxQuantity) {
      throw CatalogError(describe_item(source_name, i, it.id) + ": field \"quantity\" must be -1 (unlimited) or in [0, 2^53], got " +
                         std::to_string(it.quantity));
    }
    if (!weight_to_fixed(it.weight)) {
      std::ostringstream w;
      w << it.weight;
      throw CatalogError(describe_item(source_name, i, it.id) + ": field \"weight\" must be a number in [1e-6, 1e6], got " +
                         w.str());
    }
  }
}

namespace {
// One catalog layout: its list's key, its field names, and whether weights are integers.
struct Layout {
  const char* list;
  const char* id;
  const char* weight;
  bool integer_weights;
};
constexpr Layout kNative{"items", "id", "weight", false};
constexpr Layout kGo{"catalog", "item_id", "probability", true};
}  // namespace

Catalog parse_catalog(std::string_view json_text, const std::string& source_name) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw CatalogError(source_name + ": not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
    throw CatalogError(source_name + ": not usable JSON: " + e.what());
  }
  if (!doc.is_object()) {
    throw CatalogError(source_name + ": the top level must be an object {\"items\": [...]} or {\"catalog\": [...]}");
  }
  const bool native = doc.contains("items"), go = doc.contains("catalog");
  if (native && go) throw CatalogError(source_name + ": give \"items\" or \"catalog\", not both");
  if (!native && !go) throw CatalogError(source_name + ": missing field \"items\" (or the Go layout's \"catalog\")");
  const Layout& L = native ? kNative : kGo;
  for (const auto& [key, value] : doc.items()) {
    (void)value;
    if (key != L.list) throw CatalogError(source_name + ": unknown top-level field \"" + key + "\"");
  }
  const auto& items = doc.at(L.list);
  if (!items.is_array()) throw CatalogError(source_name + ": field \"" + std::string(L.list) + "\" must be an array");
  Catalog catalog;
  catalog.items.reserve(items.size());
  std::size_t i = 0;
  for (const auto& j : items) {
    Item it;
    if (!j.is_object()) throw CatalogError(describe_item(source_name, i, "") + ": must be an object");
    const auto id = j.find(L.id);
    if (id == j.end()) throw CatalogError(describe_item(source_name, i, "") + ": missing field \"" + L.id + "\"");
    if (!id->is_string()) throw CatalogError(describe_item(source_name, i, "") + ": field \"" + L.id + "\" must be a string");
    it.id = id->get<std::string>();
    const auto q = j.find("quantity");
    if (q == j.end()) throw CatalogError(describe_item(source_name, i, it.id) + ": missing field \"quantity\"");
    if (q->is_number_unsigned()) {
      const auto v = q->get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(kMaxQuantity)) {
        throw CatalogError(describe_item(source_name, i, it.id) +
                           ": field \"quantity\" must be -1 (unlimited) or in [0, 2^53], got " + std::to_string(v));
      }
      it.quantity = static_cast<std::int64_t>(v);
    } else if (q->is_number_integer()) {
      it.quantity = q->get<std::int64_t>();  // negative: validate_catalog accepts -1 only, naming the value
    } else {
      throw CatalogError(describe_item(source_name, i, it.id) +
                         ": field \"quantity\" must be an integer (-1 = unlimited), got " + q->dump());
    }
    const auto w = j.find(L.weight);
    if (w == j.end()) throw CatalogError(describe_item(source_name, i, it.id) + ": missing field \"" + L.weight + "\"");
    if (L.integer_weights ? !w->is_number_integer() : !w->is_number()) {
      throw CatalogError(describe_item(source_name, i, it.id) + ": field \"" + L.weight + "\" must be " +
                         (L.integer_weights ? "an integer" : "a number") + ", got " + w->dump());
    }
    it.weight = w->get<double>();
    for (const auto& [key, value] : j.items()) {
      (void)value;
      if (key != L.id && key != "quantity" && key != L.weight) {
        throw CatalogError(describe_item(source_name, i, it.id) + ": unknown field \"" + key + "\"");
      }
    }
    catalog.items.push_back(std::move(it));
    ++i;
  }
  validate_catalog(catalog, source_name);
  return catalog;
}

Catalog load_catalog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CatalogError(path + ": cannot open the catalog file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw CatalogError(path + ": read error");
  return parse_catalog(text.str(), path);
}

// ---- selectors -------------------------------------------------------------------------------------
void PrefixSumSelector::reset(std::span<const std::uint64_t> weights) {
  weights_.assign(weights.begin(), weights.end());
  prefix_.resize(weights_.size());
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i) prefix_[i] = sum += weights_[i];
}

void PrefixSumSelector::set(std::size_t index, std::uint64_t weight) {
  const std::uint64_t delta = weight - weights_[index];  // modular: the sums stay exact
  weights_[index] = weight;
  for (std::size_t i = index; i < prefix_.size(); ++i) prefix_[i] += delta;
}

std::uint64_t PrefixSumSelector::total() const noexcept { return prefix_.empty() ? 0 : prefix_.back(); }

std::size_t PrefixSumSelector::find(std::uint64_t r) const noexcept {
  // The first i with prefix_[i] > r; zero-weight items have prefix_[i] == prefix_[i-1] and are skipped.
  return static_cast<std::size_t>(std::upper_bound(prefix_.begin(), prefix_.end(), r) - prefix_.begin());
}

void FenwickSelector::reset(std::span<const std::uint64_t> weights) {
  weights_.assign(weights.begin(), weights.end());
  const std::size_t n = weights_.size();
  tree_.assign(n + 1, 0);
  total_ = 0;
  for (std::size_t i = 1; i <= n; ++i) {  // O(n) build
    tree_[i] += weights_[i - 1];
    total_ += weights_[i - 1];
    const std::size_t parent = i + (i & (~i + 1));
    if (parent <= n) tree_[parent] += tree_[i];
  }
  top_bit_ = n ? std::bit_floor(n) : 0;
}

void FenwickSelector::set(std::size_t index, std::uint64_t weight) {
  const std::uint64_t delta = weight - weights_[index];  // modular arithmetic: every node stays exact
  weights_[index] = weight;
  total_ += delta;
  for (std::size_t i = index + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
}

std::size_t FenwickSelector::find(std::uint64_t r) const noexcept {
  // Descend: the largest pos with prefix(pos) <= r; item `pos` (0-based) is the one r falls on.
  std::size_t pos = 0;
  for (std::size_t step = top_bit_; step != 0; step >>= 1) {
    if (pos + step < tree_.size() && tree_[pos + step] <= r) {
      pos += step;
      r -= tree_[pos];
    }
  }
  return pos;
}

std::unique_ptr<Selector> make_selector(SelectorKind kind) {
  if (kind == SelectorKind::PrefixSum) return std::make_unique<PrefixSumSelector>();
  return std::make_unique<FenwickSelector>();
}

std::optional<SelectorKind> parse_selector_kind(std::string_view name) noexcept {
  if (name == "prefix-sum" || name == "prefix") return SelectorKind::PrefixSum;
  if (name == "fenwick") return SelectorKind::Fenwick;
  return std::nullopt;
}

// ---- rng -------------------------------------------------------------------------------------------
Rng::Rng(std::uint64_t seed) noexcept {
  // splitmix64 spreads any seed (0 included) over the four words; xoshiro's state must not be all zero.
  for (auto& word : s_) {
    seed += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    word = z ^ (z >> 31);
  }
}

// ---- pool ------------------------------------------------------------------------------------------
Pool::Pool(Catalog catalog, SelectorKind kind, std::uint64_t seed)
    : items_(std::move(catalog.items)), kind_(kind), rng_(seed) {
  validate_catalog(Catalog{items_}, "catalog");
  fixed_.reserve(items_.size());
  std::vector<std::uint64_t> eff;
  eff.reserve(items_.size());
  for (std::size_t i = 0; i < items_.size(); ++i) {
    fixed_.push_back(*weight_to_fixed(items_[i].weight));
    eff.push_back(effective_weight(i));
    index_.emplace(items_[i].id, static_cast<std::uint32_t>(i));
  }
  if (kind_ == SelectorKind::Fenwick) fenwick_.reset(eff);
  else prefix_.reset(eff);
}

DrawResult Pool::draw() noexcept {
  const bool fenwick = kind_ == SelectorKind::Fenwick;
  const std::uint64_t total = fenwick ? fenwick_.total() : prefix_.total();
  if (total == 0) return {Status::Empty, 0, 0};
  const std::uint64_t r = rng_.below(total);
  const std::size_t i = fenwick ? fenwick_.find(r) : prefix_.find(r);
  Item& it = items_[i];
  if (it.quantity > 0 && --it.quantity == 0) set_weight(i, 0);
  return {Status::Ok, static_cast<std::uint32_t>(i), 0};
}

Status Pool::apply_draw(std::uint32_t index) {
  if (index >= items_.size() || items_[index].quantity == 0 || items_[index].quantity < kUnlimited) return Status::InvalidArgument;
  if (items_[index].quantity > 0 && --items_[index].quantity == 0) set_weight(index, 0);
  return Status::Ok;
}

Status Pool::update(std::uint32_t index, std::int64_t quantity, double weight) {
  if (index >= items_.size()) return Status::UnknownItem;
  const auto fixed = weight_to_fixed(weight);
  if (!fixed || quantity < kUnlimited || quantity > kMaxQuantity) return Status::InvalidArgument;
  items_[index].quantity = quantity;
  items_[index].weight = weight;
  fixed_[index] = *fixed;
  set_weight(index, effective_weight(index));
  return Status::Ok;
}

void Pool::copy_quantities(std::span<std::int64_t> out) const noexcept {
  for (std::size_t i = 0; i < items_.size() && i < out.size(); ++i) out[i] = items_[i].quantity;
}

std::optional<std::uint32_t> Pool::find(std::string_view id) const {
  const auto it = index_.find(std::string(id));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace rewardpool
