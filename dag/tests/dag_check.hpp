// SPDX-License-Identifier: MIT
#pragma once
// Test helper: a graph whose tasks check, when they run, that every predecessor already ran (acquire
// on its done flag) and count their own runs, so a test can assert "each task exactly once, after its
// dependencies".
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ringkit/dag/graph.hpp"

namespace dagtest {

struct Checked {
  std::vector<std::vector<std::uint32_t>> preds;
  std::unique_ptr<std::atomic<std::uint32_t>[]> runs;
  std::unique_ptr<std::atomic<std::uint8_t>[]> done;
  std::atomic<std::uint64_t> order_violations{0};
  ringkit::dag::Graph graph{"checked"};
  std::uint32_t throw_at = UINT32_MAX;  // this node throws

  explicit Checked(std::vector<std::vector<std::uint32_t>> p, std::uint32_t thrower = UINT32_MAX)
      : preds(std::move(p)),
        runs(std::make_unique<std::atomic<std::uint32_t>[]>(preds.size())),
        done(std::make_unique<std::atomic<std::uint8_t>[]>(preds.size())),
        throw_at(thrower) {
    std::vector<ringkit::dag::NodeId> ids;
    for (std::uint32_t i = 0; i < preds.size(); ++i) {
      std::string name = "n";
      name += std::to_string(i);
      ids.push_back(graph.task(std::move(name), [this, i] { body(i); }));
    }
    for (std::uint32_t i = 0; i < preds.size(); ++i) {
      for (std::uint32_t p2 : preds[i]) graph.precede(ids[p2], ids[i]);
    }
  }

  void body(std::uint32_t i) {
    for (std::uint32_t p : preds[i]) {
      // acquire: pairs with the release below in the predecessor; the executor must order them anyway.
      if (done[p].load(std::memory_order_acquire) == 0) order_violations.fetch_add(1, std::memory_order_relaxed);
    }
    runs[i].fetch_add(1, std::memory_order_relaxed);  // relaxed: read after the run completes
    if (i == throw_at) throw std::runtime_error(std::to_string(i));
    done[i].store(1, std::memory_order_release);  // release: pairs with the acquire above
  }

  void reset() {
    for (std::size_t i = 0; i < preds.size(); ++i) {
      runs[i].store(0, std::memory_order_relaxed);  // relaxed: no run in flight
      done[i].store(0, std::memory_order_relaxed);  // relaxed: as above
    }
    order_violations.store(0);
  }

  // Nodes that (transitively) depend on `f`, f excluded.
  std::vector<bool> descendants_of(std::uint32_t f) const {
    std::vector<bool> d(preds.size(), false);
    for (std::uint32_t i = 0; i < preds.size(); ++i) {  // preds point backwards (p < i) in our generators
      for (std::uint32_t p : preds[i]) {
        if (p == f || d[p]) d[i] = true;
      }
    }
    return d;
  }
};

}  // namespace dagtest
