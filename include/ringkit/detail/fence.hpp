#pragma once
// The one stand-alone fence ringkit uses. ThreadSanitizer does not model stand-alone fences; every use
// below orders atomics against atomics only (never guards plain data), so TSan's blind spot here cannot
// hide a data race on an element — element hand-off is always by an acquire/release pair on an index.
#include <atomic>

namespace ringkit::detail {

// StoreLoad barrier: a store sequenced before it is visible to any thread whose own seq_cst fence
// follows this one in the single total order S, before that thread's subsequent loads.
inline void store_load_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace ringkit::detail
