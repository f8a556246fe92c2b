#ifndef CAIRN_CRC32C_H
#define CAIRN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Extends a CRC32C (Castagnoli) over `length` bytes. Start with 0.
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, a slicing table otherwise.
uint32_t cairn_crc32c_extend(uint32_t crc, const void *bytes, size_t length);

/// Whether the hardware path is in use (for benchmarks and diagnostics).
int cairn_crc32c_is_hardware(void);

#endif
