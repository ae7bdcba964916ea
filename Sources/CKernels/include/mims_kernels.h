// Hot loops of the OCT readers in C, with AVX-512 / AVX2 variants chosen at run time (the
// package is built for baseline x86-64, so the vector paths are compiled per function).
#ifndef MIMS_KERNELS_H
#define MIMS_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// dst[i] = src[n - 1 - i] for i < n; also reports the smallest and largest byte.
void mims_reverse_copy(const uint8_t *src, uint8_t *dst, size_t n, uint8_t *min_out, uint8_t *max_out);

/// Converts little-endian float32 bit patterns to uint8 through a bucket table: for a positive
/// finite pattern b other than 0x7F7FFFFF, e = table[b >> 16] and the result is
/// (e >> 24) + ((b & 0xFFFF) >= (e & 0x1FFFF)). Negative, NaN and 0x7F7FFFFF give 0, +inf 255.
/// Also reports the smallest and largest float that is neither NaN nor 0x7F7FFFFF (min > max when
/// there is none).
void mims_float_table_convert(const uint8_t *src, uint8_t *dst, size_t n, const uint32_t *table,
                              float *min_out, float *max_out);

/// SHA-256 compression of `blocks` 64-byte blocks into `state` (x86 SHA extensions when present).
void mims_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);
/// The portable C path of mims_sha256_blocks (for tests on machines with the extensions).
void mims_sha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

/// glibc allocator thresholds (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD); no-op elsewhere.
/* Allocator tuning (glibc mallopt); returns 1 when every setting was accepted. use_mmap = 0 serves
   every block from the heap so freed blocks of any size are reused. */
int mims_tune_allocator(size_t mmap_threshold, size_t trim_threshold, int use_mmap);

/// Which vector path the kernels use here: 512, 256 or 0 (scalar).
int mims_kernels_vector_width(void);

#ifdef __cplusplus
}
#endif
#endif
