#include "mims_kernels.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static void reverse_scalar(const uint8_t *src, uint8_t *dst, size_t n, uint8_t *lo, uint8_t *hi) {
    uint8_t a = *lo, b = *hi;
    for (size_t i = 0; i < n; i++) {
        uint8_t v = src[n - 1 - i];
        dst[i] = v;
        a = v < a ? v : a;
        b = v > b ? v : b;
    }
    *lo = a;
    *hi = b;
}

static inline uint8_t convert_one(uint32_t bits, const uint32_t *table) {
    if (bits >= 0x7F7FFFFFu) return bits == 0x7F800000u ? 255 : 0;
    uint32_t e = table[bits >> 16];
    return (uint8_t)((e >> 24) + ((bits & 0xFFFFu) >= (e & 0x1FFFFu)));
}

static void convert_scalar(const uint8_t *src, uint8_t *dst, size_t n, const uint32_t *table, float *lo, float *hi) {
    float a = *lo, b = *hi;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, src + 4 * i, 4);
        dst[i] = convert_one(bits, table);
        float f;
        memcpy(&f, &bits, 4);
        if (bits != 0x7F7FFFFFu && f == f) {
            a = f < a ? f : a;
            b = f > b ? f : b;
        }
    }
    *lo = a;
    *hi = b;
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static void reverse_avx512(const uint8_t *src, uint8_t *dst, size_t n, uint8_t *lo, uint8_t *hi) {
    uint8_t order[64];
    for (int k = 0; k < 64; k++) order[k] = (uint8_t)(63 - k);
    const __m512i reverse = _mm512_loadu_si512(order);
    __m512i vmin = _mm512_set1_epi8((char)0xFF), vmax = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512(src + n - 64 - i);
        vmin = _mm512_min_epu8(vmin, v);
        vmax = _mm512_max_epu8(vmax, v);
        _mm512_storeu_si512(dst + i, _mm512_permutexvar_epi8(reverse, v));
    }
    uint8_t a[64], b[64];
    _mm512_storeu_si512(a, vmin);
    _mm512_storeu_si512(b, vmax);
    for (int k = 0; k < 64; k++) {
        *lo = a[k] < *lo ? a[k] : *lo;
        *hi = b[k] > *hi ? b[k] : *hi;
    }
    reverse_scalar(src, dst + i, n - i, lo, hi);
}

__attribute__((target("avx2")))
static void reverse_avx2(const uint8_t *src, uint8_t *dst, size_t n, uint8_t *lo, uint8_t *hi) {
    const __m256i lanes = _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                                           15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m256i vmin = _mm256_set1_epi8((char)0xFF), vmax = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + n - 32 - i));
        vmin = _mm256_min_epu8(vmin, v);
        vmax = _mm256_max_epu8(vmax, v);
        v = _mm256_shuffle_epi8(v, lanes);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_permute2x128_si256(v, v, 1));
    }
    uint8_t a[32], b[32];
    _mm256_storeu_si256((__m256i *)a, vmin);
    _mm256_storeu_si256((__m256i *)b, vmax);
    for (int k = 0; k < 32; k++) {
        *lo = a[k] < *lo ? a[k] : *lo;
        *hi = b[k] > *hi ? b[k] : *hi;
    }
    reverse_scalar(src, dst + i, n - i, lo, hi);
}

__attribute__((target("avx512f,avx512bw")))
static void convert_avx512(const uint8_t *src, uint8_t *dst, size_t n, const uint32_t *table, float *lo, float *hi) {
    const __m512i invalid = _mm512_set1_epi32(0x7F7FFFFF), low16 = _mm512_set1_epi32(0xFFFF);
    const __m512i offsets = _mm512_set1_epi32(0x1FFFF), one = _mm512_set1_epi32(1);
    const __m512i infinity = _mm512_set1_epi32(0x7F800000), top = _mm512_set1_epi32(255);
    __m512 vmin = _mm512_set1_ps(INFINITY), vmax = _mm512_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i bits = _mm512_loadu_si512(src + 4 * i);
        __mmask16 finite = _mm512_cmplt_epu32_mask(bits, invalid);
        __m512i entry = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), finite, _mm512_srli_epi32(bits, 16), table, 4);
        __m512i value = _mm512_srli_epi32(entry, 24);
        __mmask16 up = _mm512_cmpge_epu32_mask(_mm512_and_si512(bits, low16), _mm512_and_si512(entry, offsets));
        value = _mm512_mask_add_epi32(value, up & finite, value, one);
        value = _mm512_mask_mov_epi32(value, _mm512_cmpeq_epi32_mask(bits, infinity), top);
        _mm_storeu_si128((__m128i *)(dst + i), _mm512_cvtepi32_epi8(value));
        // Range over everything but NaN and the invalid marker (negative values included).
        __m512 f = _mm512_castsi512_ps(bits);
        __mmask16 counted = _mm512_cmp_ps_mask(f, f, _CMP_ORD_Q) & _mm512_cmpneq_epi32_mask(bits, invalid);
        vmin = _mm512_mask_min_ps(vmin, counted, vmin, f);
        vmax = _mm512_mask_max_ps(vmax, counted, vmax, f);
    }
    float a = _mm512_reduce_min_ps(vmin), b = _mm512_reduce_max_ps(vmax);
    *lo = a < *lo ? a : *lo;
    *hi = b > *hi ? b : *hi;
    convert_scalar(src + 4 * i, dst + i, n - i, table, lo, hi);
}

static int vector_width(void) {
    static int width = -1;
    if (width < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vbmi")) {
            width = 512;
        } else if (__builtin_cpu_supports("avx2")) {
            width = 256;
        } else {
            width = 0;
        }
    }
    return width;
}
#else
static int vector_width(void) { return 0; }
#endif

int mims_kernels_vector_width(void) { return vector_width(); }

void mims_reverse_copy(const uint8_t *src, uint8_t *dst, size_t n, uint8_t *min_out, uint8_t *max_out) {
    *min_out = 255;
    *max_out = 0;
#if defined(__x86_64__)
    int width = vector_width();
    if (width == 512) return reverse_avx512(src, dst, n, min_out, max_out);
    if (width == 256) return reverse_avx2(src, dst, n, min_out, max_out);
#endif
    reverse_scalar(src, dst, n, min_out, max_out);
}

void mims_float_table_convert(const uint8_t *src, uint8_t *dst, size_t n, const uint32_t *table,
                              float *min_out, float *max_out) {
    *min_out = INFINITY;
    *max_out = -INFINITY;
#if defined(__x86_64__)
    if (vector_width() == 512) return convert_avx512(src, dst, n, table, min_out, max_out);
#endif
    convert_scalar(src, dst, n, table, min_out, max_out);
}
