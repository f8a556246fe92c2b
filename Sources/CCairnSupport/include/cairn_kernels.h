#ifndef CAIRN_KERNELS_H
#define CAIRN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Σ weights[d]·codes[d] over `count` components: the inner product of a query, quantized to
/// 16-bit weights, with an 8-bit code. Exact in 32 bits while |weights[d]| ≤ 16383 and
/// `count` ≤ 8192. Uses AVX-512BW or AVX2 (multiply-add of 16-bit pairs) when the CPU has it.
int32_t cairn_dot_i16_u8(const int16_t *weights, const uint8_t *codes, size_t count);

/// Which path `cairn_dot_i16_u8` takes: 2 AVX-512BW, 1 AVX2, 0 portable C.
int cairn_dot_i16_u8_level(void);

/// `cairn_dot_i16_u8` on the path of `level` (at most `cairn_dot_i16_u8_level()`), so that
/// tests cover every path this CPU can run.
int32_t cairn_dot_i16_u8_using(int level, const int16_t *weights, const uint8_t *codes, size_t count);

#endif
