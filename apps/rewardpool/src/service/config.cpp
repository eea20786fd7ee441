// SPDX-License-Identifier: MIT
#include "service/config.hpp"

#include <yaml-cpp/yaml.h>

#include <bit>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace rewardpool::service {

namespace {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError(source_ + ": " + (key.empty() ? "" : key + ": ") + what);
  }

  // A mapping whose keys must all be in `known`.
  void expect_map(const YAML::Node& n, const std::string& key, std::initializer_list<std::string_view> known) const {
    if (!n.IsMap()) fail(key, "expected a mapping of keys");
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) fail(key, "a key that is not a plain name");
      const std::string name = kv.first.Scalar();
      bool ok = false;
      for (std::string_view k : known) ok = ok || k == name;
      if (!ok) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(join(key, name), "unknown key (known here: " + list + ")");
      }
    }
  }

  std::int64_t integer(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(key, "expected an integer");
    try {
      return n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      fail(key, "expected an integer, got '" + n.Scalar() + "'");
    }
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(key, "expected true or false");
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(key, "expected true or false, got '" + n.Scalar() + "'");
    }
  }
  std::string string(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(key, "expected a string");
    return n.Scalar();
  }

  static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

 private:
  std::string source_;
};

std::string normalize_listen(std::string a) {
  if (!a.empty() && a.front() == ':') return "[::]" + a;  // Go's ":PORT": every interface
  return a;
}

}  // namespace

FileConfig parse_config(std::string_view yaml_text, const std::string& source_name) {
  const Reader r(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ": not valid YAML: " + e.what());
  }
  FileConfig c;
  if (root.IsNull()) return c;  // an empty file: nothing configured
  r.expect_map(root, "", {"working_dir", "pool", "wal", "grpc"});
  if (const YAML::Node n = root["working_dir"]) c.working_dir = r.string(n, "working_dir");
  if (const YAML::Node pool = root["pool"]) {
    r.expect_map(pool, "pool", {"catalog"});
    if (const YAML::Node cat = pool["catalog"]) {
      if (!cat.IsSequence()) r.fail("pool.catalog", "expected a list of items");
      Catalog catalog;
      std::size_t i = 0;
      for (const YAML::Node& it : cat) {
        const std::string key = "pool.catalog[" + std::to_string(i++) + "]";
        r.expect_map(it, key, {"item_id", "quantity", "probability"});
        Item item;
        if (!it["item_id"]) r.fail(key, "item_id is missing");
        if (!it["quantity"]) r.fail(key, "quantity is missing");
        if (!it["probability"]) r.fail(key, "probability is missing");
        item.id = r.string(it["item_id"], key + ".item_id");
        item.quantity = r.integer(it["quantity"], key + ".quantity");
        item.weight = static_cast<double>(r.integer(it["probability"], key + ".probability"));
        catalog.items.push_back(std::move(item));
      }
      try {
        validate_catalog(catalog, source_name + ": pool.catalog");
      } catch (const CatalogError& e) {
        throw ConfigError(e.what());
      }
      c.catalog = std::move(catalog);
    }
  }
  if (const YAML::Node wal = root["wal"]) {
    r.expect_map(wal, "wal", {"max_file_size_kb", "max_request_buffer_size", "formatter", "flush_after_n_draw"});
    if (const YAML::Node n = wal["max_file_size_kb"]) {
      const std::int64_t kb = r.integer(n, "wal.max_file_size_kb");
      if (kb < 4 || kb > (std::int64_t{1} << 30)) r.fail("wal.max_file_size_kb", "must be 4 to 2^30 KiB, got " + std::to_string(kb));
      c.segment_bytes = static_cast<std::uint64_t>(kb) * 1024;
    }
    if (const YAML::Node n = wal["max_request_buffer_size"]) {
      const std::int64_t v = r.integer(n, "wal.max_request_buffer_size");
      if (v < 1 || v > (1 << 24)) r.fail("wal.max_request_buffer_size", "must be 1 to 2^24, got " + std::to_string(v));
      c.mailbox_capacity = std::bit_ceil(std::max<std::size_t>(static_cast<std::size_t>(v), 64));
    }
    if (const YAML::Node n = wal["formatter"]) c.formatter = r.string(n, "wal.formatter");
    if (const YAML::Node n = wal["flush_after_n_draw"]) {
      const std::int64_t v = r.integer(n, "wal.flush_after_n_draw");
      if (v < 0) r.fail("wal.flush_after_n_draw", "must be >= 0, got " + std::to_string(v));
      c.flush_after_n_draw = v;
    }
  }
  if (const YAML::Node grpc = root["grpc"]) {
    r.expect_map(grpc, "grpc", {"enabled", "listen_address"});
    if (const YAML::Node n = grpc["enabled"]) c.grpc_enabled = r.boolean(n, "grpc.enabled");
    if (const YAML::Node n = grpc["listen_address"]) c.listen_address = normalize_listen(r.string(n, "grpc.listen_address"));
  }
  return c;
}

FileConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_config(s.str(), path);
}

}  // namespace rewardpool::service
