// SPDX-License-Identifier: MIT
#pragma once
// Opt-in guard for single-producer / single-consumer entry points: compiled in only when the macro
// RINGKIT_CHECK_ROLES is defined (the debug, asan and tsan presets define it; define it for the whole
// program, like NDEBUG). It costs two atomic exchanges per call (about 10x a push), so it is off by
// default in every build type, including -O2 builds without NDEBUG.
//
// It detects *overlap*: two threads inside the same role at once, which is exactly the misuse that corrupts
// an SPSC queue. Handing a role from one thread to another (with a happens-before edge between them, e.g.
// a join) is legal and not flagged.
#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace ringkit::detail {

// The layout is the same with and without RINGKIT_CHECK_ROLES; only the check itself is compiled out.
class RoleCheck {
 public:
  class Scope {
   public:
    Scope(RoleCheck& check, const char* role) noexcept : check_(check) {
#ifdef RINGKIT_CHECK_ROLES
      // acq_rel: pairs with the release in ~Scope of the previous holder, so a legal hand-off is ordered.
      if (check_.inside_.exchange(true, std::memory_order_acq_rel)) {
        std::fprintf(stderr,
                     "ringkit: two threads are in the %s role of a single-%s queue at once "
                     "(use MpscQueue/MpmcQueue for several)\n",
                     role, role);
        std::abort();
      }
#else
      (void)role;
#endif
    }
    ~Scope() {
#ifdef RINGKIT_CHECK_ROLES
      // release: pairs with the acq_rel exchange of the next holder.
      check_.inside_.store(false, std::memory_order_release);
#endif
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    [[maybe_unused]] RoleCheck& check_;
  };

 private:
  std::atomic<bool> inside_{false};
};

}  // namespace ringkit::detail
