// The integer kernel of quantized graph walks (see cairn_kernels.h). One multiply-add of 16-bit
// pairs covers 32 components per AVX-512 instruction where the float kernel needed a widening,
// a conversion, a multiply and an add per 16.
#include "cairn_kernels.h"

static int32_t dot_portable(const int16_t *weights, const uint8_t *codes, size_t count) {
    int32_t sum = 0;
    for (size_t i = 0; i < count; i++) sum += (int32_t)weights[i] * (int32_t)codes[i];
    return sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static int32_t dot_avx2(const int16_t *weights, const uint8_t *codes, size_t count) {
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(codes + i)));
        __m256i c1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(codes + i + 16)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, _mm256_loadu_si256((const __m256i *)(weights + i))));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, _mm256_loadu_si256((const __m256i *)(weights + i + 16))));
    }
    __m256i acc = _mm256_add_epi32(acc0, acc1);
    __m128i half = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4E));
    half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0xB1));
    return _mm_cvtsi128_si32(half) + dot_portable(weights + i, codes + i, count - i);
}

__attribute__((target("avx512f,avx512bw")))
static int32_t dot_avx512(const int16_t *weights, const uint8_t *codes, size_t count) {
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        __m512i c0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(codes + i)));
        __m512i c1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(codes + i + 32)));
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(c0, _mm512_loadu_si512((const void *)(weights + i))));
        acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(c1, _mm512_loadu_si512((const void *)(weights + i + 32))));
    }
    if (i + 32 <= count) {
        __m512i c0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(codes + i)));
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(c0, _mm512_loadu_si512((const void *)(weights + i))));
        i += 32;
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1)) + dot_portable(weights + i, codes + i, count - i);
}

static int detected_level = -1;

int cairn_dot_i16_u8_level(void) {
    int found = __atomic_load_n(&detected_level, __ATOMIC_RELAXED);
    if (found < 0) {
        __builtin_cpu_init();
        found = __builtin_cpu_supports("avx512bw") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&detected_level, found, __ATOMIC_RELAXED);
    }
    return found;
}

int32_t cairn_dot_i16_u8_using(int level, const int16_t *weights, const uint8_t *codes, size_t count) {
    switch (level) {
    case 2: return dot_avx512(weights, codes, count);
    case 1: return dot_avx2(weights, codes, count);
    default: return dot_portable(weights, codes, count);
    }
}

int32_t cairn_dot_i16_u8(const int16_t *weights, const uint8_t *codes, size_t count) {
    return cairn_dot_i16_u8_using(cairn_dot_i16_u8_level(), weights, codes, count);
}
#else
int32_t cairn_dot_i16_u8_using(int level, const int16_t *weights, const uint8_t *codes, size_t count) {
    return dot_portable(weights, codes, count);
}

int cairn_dot_i16_u8_level(void) { return 0; }

int32_t cairn_dot_i16_u8(const int16_t *weights, const uint8_t *codes, size_t count) {
    return dot_portable(weights, codes, count);
}
#endif
