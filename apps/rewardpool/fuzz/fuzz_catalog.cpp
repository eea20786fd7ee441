// SPDX-License-Identifier: MIT
// libFuzzer: the catalog parser (both layouts) on arbitrary text. Either a CatalogError naming the
// problem or a catalog that validates and builds a Pool.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rewardpool/pool.hpp"

using namespace rewardpool;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const Catalog c = parse_catalog(text, "fuzz.json");
    if (c.items.empty()) std::abort();
    validate_catalog(c, "fuzz.json");
    if (c.items.size() <= 64) {
      Pool pool(c, SelectorKind::Fenwick, 1);
      for (int i = 0; i < 4; ++i) {
        const DrawResult r = pool.draw();
        if (r.status == Status::Ok && r.index >= c.items.size()) std::abort();
      }
    }
  } catch (const CatalogError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
