#ifndef MIMS_DNNL_H
#define MIMS_DNNL_H
/*
 * The tensor engine's bridge to oneDNN (Debian's libdnnl, C API). Swift sees only these calls:
 * data pointers, shapes, a layout, an element type and a precision. Primitives are created once per shape
 * and kept; reordered weights, bf16 copies and oneDNN's scratchpad live in buffers shared by all
 * calls (the calls are serialized, so one set of buffers is enough). Every call returns 0 on
 * success, or -1 with the reason in mims_dnnl_last_error().
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Activation layouts: plain NCHW, or oneDNN's nChw16c (16 channels interleaved per pixel;
 * channels must be a multiple of 16). */
enum { MIMS_LAYOUT_NCHW = 0, MIMS_LAYOUT_NCHW16C = 1 };
/* Convolution arithmetic: float32 throughout, or bf16 inputs and weights with float32 accumulation. */
enum { MIMS_PRECISION_F32 = 0, MIMS_PRECISION_BF16 = 1 };
/* How an activation's values are stored: float32, or bf16 (the upper 16 bits of a float32,
 * rounded to nearest even). Weights, biases and BatchNorm's parameters are always float32. */
enum { MIMS_TYPE_F32 = 0, MIMS_TYPE_BF16 = 1 };
/* Convolution algorithm: direct, or Winograd F(4x4, 3x3) (3x3 stride-1 float32 only). */
enum { MIMS_CONV_DIRECT = 0, MIMS_CONV_WINOGRAD = 1 };

const char *mims_dnnl_last_error(void);
/* "2.6.3" */
const char *mims_dnnl_version(void);
/* The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16". */
const char *mims_dnnl_isa(void);
/* 1 when bf16 convolutions run natively (AVX512_BF16 or AMX), 0 otherwise. */
int mims_dnnl_has_bf16(void);
void mims_dnnl_set_threads(int threads);
/* Measured peak GFLOPS of one core for float32 FMAs (bf16 = 0) or bf16 dot products (bf16 = 1);
 * 0 where the CPU lacks the instructions. Takes about a tenth of a second. */
double mims_core_peak_gflops(int bf16);
int mims_dnnl_threads(void);

typedef struct mims_conv_shape {
    int n, c, h, w;          /* input */
    int o, kh, kw;           /* weights O x C x KH x KW */
    int stride, padding, dilation;
    int src_layout, dst_layout;
    /* Element types (MIMS_TYPE_*) of src (and diff_src) and of dst (and diff_dst). */
    int src_type, dst_type;
    int has_bias;
    int precision;
    int algorithm;
    /* Inference fusions (forward only): post_sum adds the convolution onto what dst already holds
     * (a residual), post_relu applies max(0, .) last. */
    int post_sum, post_relu;
} mims_conv_shape;

/* Output height and width of a shape. */
void mims_conv_output(const mims_conv_shape *shape, int *oh, int *ow);
/* dst = conv(src, weights) + bias; weights in OIHW float32; src and dst of the shape's types. */
int mims_conv_forward(const mims_conv_shape *shape, const void *src, const float *weights, const float *bias, void *dst);
/* Gradients for diff_dst: diff_src (may be NULL: not wanted), diff_weights in OIHW, diff_bias
 * (NULL unless the shape has a bias). Overwrites, does not accumulate. */
int mims_conv_backward(const mims_conv_shape *shape, const void *src, const float *weights, const void *diff_dst,
                       void *diff_src, float *diff_weights, float *diff_bias);
/* Forward with weights already in the primitive's own format (mims_conv_prepare_weights): for
 * inference, where the same weights serve many calls and their reorder (for Winograd, a transform)
 * would otherwise run every time. */
size_t mims_conv_weights_size(const mims_conv_shape *shape);
int mims_conv_prepare_weights(const mims_conv_shape *shape, const float *weights, void *prepared);
int mims_conv_forward_prepared(const mims_conv_shape *shape, const void *src, const void *prepared, const float *bias, void *dst);
/* 1 when weights prepared for `a` serve `b` as they are (the two primitives use one weights
 * format: typically the same convolution on another batch size or image size), else 0. */
int mims_conv_same_weights(const mims_conv_shape *a, const mims_conv_shape *b);
/* The implementation oneDNN chose for the forward pass, e.g. "jit:avx512_core". */
const char *mims_conv_implementation(const mims_conv_shape *shape);

/* Batch mean and biased variance of channels [c_begin, c_end) of an N x C x H x W tensor (for
 * nChw16c both multiples of 16), summed around a shift near the channel's mean, in float over
 * short runs and in double across them. oneDNN's own
 * statistics sum in float32, which on inputs with a large common offset (flat image regions) lost
 * about 15x more than PyTorch (3e-6 relative in BN's output), enough to flip ReLU signs that torch
 * keeps; callers split the channels across cores. */
void mims_bn_statistics(int n, int c, int h, int w, int layout, int type, const void *src, int c_begin, int c_end,
                        float *mean, float *variance);

/* BatchNorm over N, H, W per channel, normalizing with the given mean and variance (biased): in
 * training (use_batch_stats = 1) the batch's, from mims_bn_statistics; otherwise the running
 * statistics. With relu, dst = max(0, BN(src)) and the workspace (mims_bn_workspace_size bytes)
 * is written for the backward pass. */
size_t mims_bn_workspace_size(int n, int c, int h, int w, int layout, int type);
int mims_bn_forward(int n, int c, int h, int w, int layout, int type, int use_batch_stats, int relu, int keep_workspace, float eps,
                    const void *src, const float *scale, const float *shift, void *dst, float *mean, float *variance,
                    void *workspace);
/* diff_scale and diff_shift may be NULL (only diff_src wanted). oneDNN asks for the shift although
 * the gradient does not depend on it. */
int mims_bn_backward(int n, int c, int h, int w, int layout, int type, int use_batch_stats, int relu, float eps,
                     const void *src, const void *diff_dst, const float *scale, const float *shift, const float *mean,
                     const float *variance, const void *workspace, void *diff_src, float *diff_scale, float *diff_shift);

/* Max pooling (PyTorch's MaxPool2d, floor mode). The workspace (mims_pool_workspace_size bytes)
 * records where each maximum came from. */
size_t mims_pool_workspace_size(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding);
int mims_pool_forward(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding,
                      const void *src, void *dst, void *workspace);
int mims_pool_backward(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding,
                       const void *diff_dst, const void *workspace, void *diff_src);

/* Copies an N x C x H x W tensor from one layout and element type to another (bf16 targets are
 * rounded to nearest even). */
int mims_reorder(int n, int c, int h, int w, int src_layout, int src_type, int dst_layout, int dst_type, const void *src, void *dst);

/* Elementwise passes over bf16 values [begin, end) (callers split the range across cores). Each
 * result is computed in float32 and rounded to nearest even, as oneDNN's bf16 kernels do. */
/* out = a + b, or max(0, a + b) with relu. */
void mims_bf16_add(const uint16_t *a, const uint16_t *b, uint16_t *out, size_t begin, size_t end, int relu);
/* y = max(0, x). */
void mims_bf16_relu(const uint16_t *x, uint16_t *y, size_t begin, size_t end);
/* dx = dy where y > 0, else 0 (the ReLU gradient from its output). */
void mims_bf16_relu_backward(const uint16_t *dy, const uint16_t *y, uint16_t *dx, size_t begin, size_t end);

#ifdef __cplusplus
}
#endif
#endif
