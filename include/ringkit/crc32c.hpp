// SPDX-License-Identifier: MIT
#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by the spill format
// (docs/spill-format.md). Compiled in ringkit_spill: SSE4.2 crc32 instructions where the CPU has them,
// a table otherwise. crc32c("123456789") == 0xE3069283.
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringkit {

// Extends `crc` (the CRC of earlier bytes, 0 for none) over `data`.
std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::byte> data) noexcept;

inline std::uint32_t crc32c(std::span<const std::byte> data) noexcept { return crc32c_extend(0, data); }

}  // namespace ringkit
