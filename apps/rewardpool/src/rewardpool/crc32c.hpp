#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in LevelDB, ext4 and iSCSI.
// Uses the SSE4.2 crc32 instruction when the CPU has it, else a table.
#include <cstddef>
#include <cstdint>

namespace rewardpool {

// Extends `crc` (the CRC of some earlier bytes, 0 for none) with `n` more bytes.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t n) noexcept;
inline std::uint32_t crc32c(const void* data, std::size_t n) noexcept { return crc32c_extend(0, data, n); }

}  // namespace rewardpool
