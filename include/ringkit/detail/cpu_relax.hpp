#pragma once
// A spin-loop hint: tells the core we are spinning (x86 PAUSE / Arm YIELD) so the sibling hyper-thread
// and the memory system are not flooded while we poll.

namespace ringkit::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace ringkit::detail
