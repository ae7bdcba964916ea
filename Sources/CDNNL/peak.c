/*
 * Peak arithmetic of one core: back-to-back independent AVX-512 FMAs (float32) or VDPBF16PS
 * (bf16 dot products into float32). `mims-train bench` prints both, because whether bf16 can beat
 * float32 on a CPU depends on this ratio: some CPUs run VDPBF16PS at a fraction of the FMA rate.
 */
#include "mims_dnnl.h"

#include <immintrin.h>
#include <time.h>

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Twelve accumulators: enough independent chains to cover the instructions' latency. The empty
 * asm keeps them in registers and the loop from being folded away. */
#define CHAINS(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)
#define DECLARE(i) __m512 a##i = _mm512_setzero_ps();
#define KEEP __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11))
#define SUM (a0[0] + a1[0] + a2[0] + a3[0] + a4[0] + a5[0] + a6[0] + a7[0] + a8[0] + a9[0] + a10[0] + a11[0])

/* Runs `STEP` (one instruction on each of the twelve chains) `iterations` times; GFLOPS at
 * `FLOPS` per instruction. */
#define RATE(STEP, FLOPS)                                          \
    CHAINS(DECLARE)                                                \
    double start = seconds_now();                                  \
    for (long i = 0; i < iterations; i++) {                        \
        CHAINS(STEP)                                               \
        KEEP;                                                      \
    }                                                              \
    double elapsed = seconds_now() - start;                        \
    volatile float sink = SUM;                                     \
    (void)sink;                                                    \
    return iterations * 12.0 * (FLOPS) / elapsed / 1e9;

__attribute__((target("avx512f")))
static double fma_rate(long iterations) {
    __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(0.5f);
#define FMA(i) a##i = _mm512_fmadd_ps(x, y, a##i);
    RATE(FMA, 32)
}

__attribute__((target("avx512f,avx512bf16")))
static double bf16_rate(long iterations) {
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3f00);
#define DOT(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
    RATE(DOT, 64)
}

double mims_core_peak_gflops(int bf16) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    if (bf16 && !mims_dnnl_has_bf16()) return 0;
    return bf16 ? bf16_rate(20000000) : fma_rate(20000000);
}
