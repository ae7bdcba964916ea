/*
 * The engine's elementwise passes over bf16 activations: residual adds (with ReLU; also gradient
 * sums), ReLU and its gradient. Each value is widened to float32 (exact), computed, and
 * rounded back to nearest even, the rounding oneDNN's bf16 kernels use. Plain loops, compiled for
 * AVX-512 and a fallback, which the compiler vectorizes.
 */
#include "mims_dnnl.h"

#include <string.h>

static inline __attribute__((always_inline)) float widen(uint16_t value) {
    const uint32_t bits = (uint32_t)value << 16;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

/* Round to nearest even; a NaN stays a (quiet) NaN instead of rounding into infinity. */
static inline __attribute__((always_inline)) uint16_t narrow(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    return (bits & 0x7FFFFFFFu) > 0x7F800000u ? (uint16_t)((bits >> 16) | 0x0040u) : (uint16_t)rounded;
}

__attribute__((target_clones("avx512bw", "default")))
void mims_bf16_add(const uint16_t *a, const uint16_t *b, uint16_t *out, size_t begin, size_t end, int relu) {
    if (relu) {
        for (size_t i = begin; i < end; i++) {
            const float sum = widen(a[i]) + widen(b[i]);
            out[i] = narrow(sum > 0 ? sum : 0);
        }
    } else {
        for (size_t i = begin; i < end; i++) out[i] = narrow(widen(a[i]) + widen(b[i]));
    }
}

__attribute__((target_clones("avx512bw", "default")))
void mims_bf16_relu(const uint16_t *x, uint16_t *y, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) y[i] = widen(x[i]) > 0 ? x[i] : 0;
}

__attribute__((target_clones("avx512bw", "default")))
void mims_bf16_relu_backward(const uint16_t *dy, const uint16_t *y, uint16_t *dx, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) dx[i] = widen(y[i]) > 0 ? dy[i] : 0;
}
