// SPDX-License-Identifier: MIT
#pragma once
// RINGKIT_NOINLINE keeps a slow path (a wait loop) out of its caller, so that the fast path around it
// stays small enough for the compiler to inline at every call site (a blocking push() whose wait loop
// was inlined into it was itself too big to inline: one call and return per item, issue 8).

#if defined(__GNUC__) || defined(__clang__)
#define RINGKIT_NOINLINE [[gnu::noinline]]
#elif defined(_MSC_VER)
#define RINGKIT_NOINLINE __declspec(noinline)
#else
#define RINGKIT_NOINLINE
#endif
