// SPDX-License-Identifier: MIT
#pragma once
// Over-aligned raw storage for the slot arrays, with the matching delete in one place.
//
// The sized aligned operator delete exists only where the compiler enables sized deallocation
// (__cpp_sized_deallocation: GCC by default, clang only with -fsized-deallocation), so without it we
// call the unsized aligned form, which every C++17 library has.
#include <cstddef>
#include <new>

namespace ringkit::detail {

inline void* aligned_allocate(std::size_t bytes, std::size_t align) {
  return ::operator new(bytes, std::align_val_t{align});
}

inline void aligned_deallocate(void* p, [[maybe_unused]] std::size_t bytes, std::size_t align) noexcept {
#if defined(__cpp_sized_deallocation) && __cpp_sized_deallocation >= 201309L
  ::operator delete(p, bytes, std::align_val_t{align});
#else
  ::operator delete(p, std::align_val_t{align});
#endif
}

}  // namespace ringkit::detail
