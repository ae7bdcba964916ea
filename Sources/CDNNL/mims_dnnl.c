/*
 * oneDNN behind the calls of mims_dnnl.h. Every primitive is created the first time its shape is
 * seen and kept for the life of the process (a training run sees the same few dozen shapes every
 * step). Data that oneDNN wants in another format (weights in its blocked order, bf16 copies of
 * activations, a primitive's scratchpad) goes through reorders into buffers that grow to the
 * largest size seen and are then reused, so a step allocates nothing.
 */
#include "mims_dnnl.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_primitive_attr_t user_scratchpad;
static _Thread_local char last_error[512];
/* The thread count mims_dnnl_set_threads asked for (0: OpenMP's default). OpenMP keeps the count
 * per calling thread, so every execution sets it again: the ops may be called from any thread. */
static int configured_threads;

const char *mims_dnnl_last_error(void) { return last_error; }

static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return -1;
}

#define CHECK(call, what)                                                   \
    do {                                                                    \
        dnnl_status_t status_ = (call);                                     \
        if (status_ != dnnl_success) return fail("oneDNN %s failed (status %d)", what, (int)status_); \
    } while (0)

static int ensure_engine(void) {
    if (engine) return 0;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation");
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags), "stream creation");
    CHECK(dnnl_primitive_attr_create(&user_scratchpad), "attribute creation");
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(user_scratchpad, dnnl_scratchpad_mode_user), "scratchpad mode");
    return 0;
}

/* ---- shared buffers ---------------------------------------------------------------------- */

enum { SLOT_WEIGHTS, SLOT_SRC, SLOT_DIFF_DST, SLOT_DIFF_DST_2, SLOT_DIFF_WEIGHTS, SLOT_OUTPUT, SLOT_PAD, SLOT_COUNT };
static struct { void *data; size_t size; } slots[SLOT_COUNT];

static void *slot(int index, size_t size) {
    if (slots[index].size < size) {
        free(slots[index].data);
        size_t rounded = (size + 4095) & ~(size_t)4095;
        if (posix_memalign(&slots[index].data, 4096, rounded) != 0) {
            slots[index].data = NULL;
            slots[index].size = 0;
            return NULL;
        }
        slots[index].size = rounded;
    }
    return slots[index].data;
}

/* ---- memory and execution ---------------------------------------------------------------- */

typedef struct { int arg; const dnnl_memory_desc_t *md; const void *data; } argument;

static int execute(dnnl_primitive_t primitive, const dnnl_primitive_desc_t pd, argument *arguments, int count, const char *what) {
    dnnl_exec_arg_t exec[16];
    int total = 0;
    int status = 0;
    for (int i = 0; i < count; i++) {
        if (!arguments[i].data) continue;
        exec[total].arg = arguments[i].arg;
        if (dnnl_memory_create(&exec[total].memory, arguments[i].md, engine, (void *)arguments[i].data) != dnnl_success) {
            status = fail("oneDNN memory for %s failed", what);
            break;
        }
        total++;
    }
    if (status == 0 && pd) {
        const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        size_t size = pad ? dnnl_memory_desc_get_size(pad) : 0;
        if (size > 0) {
            void *buffer = slot(SLOT_PAD, size);
            if (!buffer) status = fail("out of memory for a %zu-byte scratchpad (%s)", size, what);
            else if (dnnl_memory_create(&exec[total].memory, pad, engine, buffer) != dnnl_success)
                status = fail("oneDNN scratchpad memory for %s failed", what);
            else exec[total++].arg = DNNL_ARG_SCRATCHPAD;
        }
    }
    if (status == 0) {
        if (configured_threads > 0) omp_set_num_threads(configured_threads);
        dnnl_status_t s = dnnl_primitive_execute(primitive, stream, total, exec);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
        if (s != dnnl_success) status = fail("oneDNN %s failed (status %d)", what, (int)s);
    }
    for (int i = 0; i < total; i++) dnnl_memory_destroy(exec[i].memory);
    return status;
}

static int create(dnnl_primitive_desc_t *pd, dnnl_primitive_t *primitive, const_dnnl_op_desc_t desc,
                  const_dnnl_primitive_desc_t hint, const char *what) {
    dnnl_status_t s = dnnl_primitive_desc_create(pd, desc, user_scratchpad, engine, hint);
    if (s != dnnl_success) return fail("oneDNN has no %s for this shape (status %d)", what, (int)s);
    CHECK(dnnl_primitive_create(primitive, *pd), what);
    return 0;
}

/* A reorder from one memory format to another; `primitive` is NULL when the two are equal. */
typedef struct {
    dnnl_memory_desc_t from, to;
    dnnl_primitive_t primitive;
    size_t size;
} conversion;

static int conversion_init(conversion *c, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
    c->from = *from;
    c->to = *to;
    c->size = dnnl_memory_desc_get_size(to);
    c->primitive = NULL;
    if (dnnl_memory_desc_equal(from, to)) return 0;
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL), "reorder");
    dnnl_status_t s = dnnl_primitive_create(&c->primitive, pd);
    dnnl_primitive_desc_destroy(pd);
    CHECK(s, "reorder creation");
    return 0;
}

static int convert(const conversion *c, const void *from, void *to) {
    argument args[] = {{DNNL_ARG_FROM, &c->from, from}, {DNNL_ARG_TO, &c->to, to}};
    return execute(c->primitive, NULL, args, 2, "reorder");
}

/* `data` in the conversion's target format: itself when no reorder is needed, else a copy in `index`. */
static int convert_in(const conversion *c, const void *data, int index, const void **out) {
    if (!c->primitive) { *out = data; return 0; }
    void *buffer = slot(index, c->size);
    if (!buffer) return fail("out of memory for a %zu-byte copy", c->size);
    *out = buffer;
    return convert(c, data, buffer);
}

static dnnl_data_type_t element(int type) { return type == MIMS_TYPE_BF16 ? dnnl_bf16 : dnnl_f32; }
static size_t element_size(int type) { return type == MIMS_TYPE_BF16 ? 2 : 4; }

static void plain_md(dnnl_memory_desc_t *md, int n, int c, int h, int w, int layout, dnnl_data_type_t type) {
    dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, type, layout == MIMS_LAYOUT_NCHW16C ? dnnl_nChw16c : dnnl_nchw);
}

/* ---- library facts ----------------------------------------------------------------------- */

const char *mims_dnnl_version(void) {
    static char text[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

const char *mims_dnnl_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
    }
}

int mims_dnnl_has_bf16(void) {
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

void mims_dnnl_set_threads(int threads) {
    pthread_mutex_lock(&lock);
    configured_threads = threads > 0 ? threads : 1;
    omp_set_num_threads(configured_threads);
    pthread_mutex_unlock(&lock);
}

int mims_dnnl_threads(void) { return configured_threads > 0 ? configured_threads : omp_get_max_threads(); }

/* ---- convolution ------------------------------------------------------------------------- */

typedef struct conv_entry {
    mims_conv_shape key;
    dnnl_memory_desc_t src_user, dst_user, weights_user, bias_md;
    dnnl_primitive_desc_t forward_pd;
    dnnl_primitive_t forward;
    conversion forward_src, forward_weights, forward_dst; /* dst: pd format -> user */
    int backward_ready;
    dnnl_primitive_desc_t data_pd, weights_pd;
    dnnl_primitive_t data, weights;
    conversion data_weights, data_diff_dst, data_diff_src; /* diff_src: pd format -> user */
    conversion weights_src, weights_diff_dst, weights_diff_weights; /* diff_weights: pd format -> OIHW */
    struct conv_entry *next;
} conv_entry;

static conv_entry *convolutions;

void mims_conv_output(const mims_conv_shape *s, int *oh, int *ow) {
    *oh = (s->h + 2 * s->padding - s->dilation * (s->kh - 1) - 1) / s->stride + 1;
    *ow = (s->w + 2 * s->padding - s->dilation * (s->kw - 1) - 1) / s->stride + 1;
}

static int conv_geometry_ok(const mims_conv_shape *s) {
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->o < 1 || s->kh < 1 || s->kw < 1 || s->stride < 1 || s->dilation < 1 || s->padding < 0)
        return fail("convolution shape out of range");
    if ((s->src_layout == MIMS_LAYOUT_NCHW16C && s->c % 16) || (s->dst_layout == MIMS_LAYOUT_NCHW16C && s->o % 16))
        return fail("nChw16c needs channels in multiples of 16");
    if ((s->src_type != MIMS_TYPE_F32 && s->src_type != MIMS_TYPE_BF16) || (s->dst_type != MIMS_TYPE_F32 && s->dst_type != MIMS_TYPE_BF16))
        return fail("unknown element type");
    int oh, ow;
    mims_conv_output(s, &oh, &ow);
    if (oh < 1 || ow < 1) return fail("convolution output would be empty");
    return 0;
}

static conv_entry *conv_lookup(const mims_conv_shape *s) {
    for (conv_entry *e = convolutions; e; e = e->next)
        if (memcmp(&e->key, s, sizeof *s) == 0) return e;
    return NULL;
}

static int conv_forward_init(conv_entry *e) {
    const mims_conv_shape *s = &e->key;
    int oh, ow;
    mims_conv_output(s, &oh, &ow);
    dnnl_data_type_t compute = s->precision == MIMS_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    plain_md(&e->src_user, s->n, s->c, s->h, s->w, s->src_layout, element(s->src_type));
    plain_md(&e->dst_user, s->n, s->o, oh, ow, s->dst_layout, element(s->dst_type));
    dnnl_dims_t wdims = {s->o, s->c, s->kh, s->kw}, bdims = {s->o};
    dnnl_memory_desc_init_by_tag(&e->weights_user, 4, wdims, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&e->bias_md, 1, bdims, dnnl_f32, dnnl_x);
    dnnl_memory_desc_t src, weights, dst;
    plain_md(&src, s->n, s->c, s->h, s->w, s->src_layout, compute);
    dnnl_memory_desc_init_by_tag(&weights, 4, wdims, compute, dnnl_format_tag_any);
    /* The destination in the caller's layout and type: a bf16 convolution writes bf16 activations
     * directly (rounded once, from its float32 accumulators). */
    dst = e->dst_user;
    dnnl_dims_t strides = {s->stride, s->stride}, dilates = {s->dilation - 1, s->dilation - 1}, padding = {s->padding, s->padding};
    dnnl_alg_kind_t algorithm = s->algorithm == MIMS_CONV_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct;
    dnnl_convolution_desc_t desc;
    int fused = s->post_sum || s->post_relu;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&desc, fused ? dnnl_forward_inference : dnnl_forward_training, algorithm, &src, &weights,
                                                     s->has_bias ? &e->bias_md : NULL, &dst, strides, dilates, padding, padding),
          "convolution descriptor");
    if (!fused) {
        if (create(&e->forward_pd, &e->forward, &desc, NULL, "forward convolution")) return -1;
    } else {
        dnnl_primitive_attr_t attr;
        dnnl_post_ops_t ops;
        CHECK(dnnl_primitive_attr_create(&attr), "attribute creation");
        CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
        CHECK(dnnl_post_ops_create(&ops), "post-ops creation");
        if (s->post_sum) CHECK(dnnl_post_ops_append_sum(ops, 1.0f), "sum post-op");
        if (s->post_relu) CHECK(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "ReLU post-op");
        CHECK(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops");
        dnnl_status_t status = dnnl_primitive_desc_create(&e->forward_pd, &desc, attr, engine, NULL);
        dnnl_post_ops_destroy(ops);
        dnnl_primitive_attr_destroy(attr);
        if (status != dnnl_success) return fail("oneDNN has no fused forward convolution for this shape (status %d)", (int)status);
        CHECK(dnnl_primitive_create(&e->forward, e->forward_pd), "fused forward convolution");
    }
    if (conversion_init(&e->forward_src, &e->src_user, dnnl_primitive_desc_query_md(e->forward_pd, dnnl_query_src_md, 0))) return -1;
    if (conversion_init(&e->forward_weights, &e->weights_user, dnnl_primitive_desc_query_md(e->forward_pd, dnnl_query_weights_md, 0))) return -1;
    if (conversion_init(&e->forward_dst, dnnl_primitive_desc_query_md(e->forward_pd, dnnl_query_dst_md, 0), &e->dst_user)) return -1;
    if (s->post_sum && e->forward_dst.primitive) return fail("a residual sum needs the convolution to write the caller's layout");
    return 0;
}

static int conv_backward_init(conv_entry *e) {
    const mims_conv_shape *s = &e->key;
    int oh, ow;
    mims_conv_output(s, &oh, &ow);
    dnnl_data_type_t compute = s->precision == MIMS_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_dims_t wdims = {s->o, s->c, s->kh, s->kw};
    dnnl_memory_desc_t src, diff_src, weights, diff_weights, diff_dst;
    plain_md(&src, s->n, s->c, s->h, s->w, s->src_layout, compute);
    plain_md(&diff_dst, s->n, s->o, oh, ow, s->dst_layout, compute);
    diff_src = e->src_user;
    dnnl_memory_desc_init_by_tag(&weights, 4, wdims, compute, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&diff_weights, 4, wdims, dnnl_f32, dnnl_format_tag_any);
    dnnl_dims_t strides = {s->stride, s->stride}, dilates = {s->dilation - 1, s->dilation - 1}, padding = {s->padding, s->padding};
    dnnl_alg_kind_t algorithm = s->algorithm == MIMS_CONV_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct;
    dnnl_convolution_desc_t desc;
    CHECK(dnnl_dilated_convolution_backward_data_desc_init(&desc, algorithm, &diff_src, &weights, &diff_dst, strides, dilates, padding, padding),
          "backward-data descriptor");
    if (create(&e->data_pd, &e->data, &desc, e->forward_pd, "backward-data convolution")) return -1;
    if (conversion_init(&e->data_weights, &e->weights_user, dnnl_primitive_desc_query_md(e->data_pd, dnnl_query_weights_md, 0))) return -1;
    if (conversion_init(&e->data_diff_dst, &e->dst_user, dnnl_primitive_desc_query_md(e->data_pd, dnnl_query_diff_dst_md, 0))) return -1;
    if (conversion_init(&e->data_diff_src, dnnl_primitive_desc_query_md(e->data_pd, dnnl_query_diff_src_md, 0), &e->src_user)) return -1;
    CHECK(dnnl_dilated_convolution_backward_weights_desc_init(&desc, algorithm, &src, &diff_weights, s->has_bias ? &e->bias_md : NULL,
                                                              &diff_dst, strides, dilates, padding, padding),
          "backward-weights descriptor");
    if (create(&e->weights_pd, &e->weights, &desc, e->forward_pd, "backward-weights convolution")) return -1;
    if (conversion_init(&e->weights_src, &e->src_user, dnnl_primitive_desc_query_md(e->weights_pd, dnnl_query_src_md, 0))) return -1;
    if (conversion_init(&e->weights_diff_dst, &e->dst_user, dnnl_primitive_desc_query_md(e->weights_pd, dnnl_query_diff_dst_md, 0))) return -1;
    if (conversion_init(&e->weights_diff_weights, dnnl_primitive_desc_query_md(e->weights_pd, dnnl_query_diff_weights_md, 0), &e->weights_user))
        return -1;
    e->backward_ready = 1;
    return 0;
}

static conv_entry *conv_get(const mims_conv_shape *s, int backward) {
    if (ensure_engine() || conv_geometry_ok(s)) return NULL;
    if (backward && (s->post_sum || s->post_relu)) { fail("fused convolutions are forward-only"); return NULL; }
    conv_entry *e = conv_lookup(s);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) { fail("out of memory"); return NULL; }
        e->key = *s;
        if (conv_forward_init(e)) { free(e); return NULL; }
        e->next = convolutions;
        convolutions = e;
    }
    if (backward && !e->backward_ready && conv_backward_init(e)) return NULL;
    return e;
}

/* Runs `primitive` writing `output` through `back` (pd format -> user) when the formats differ. */
static void *output_buffer(const conversion *back, void *user) {
    return back->primitive ? slot(SLOT_OUTPUT, dnnl_memory_desc_get_size(&back->from)) : user;
}

/* The forward pass with weights already in the primitive's format; the caller holds the lock. */
static int conv_forward_locked(conv_entry *e, const void *src, const void *weights, const float *bias, void *dst) {
    const void *src_in;
    if (convert_in(&e->forward_src, src, SLOT_SRC, &src_in)) return -1;
    void *out = output_buffer(&e->forward_dst, dst);
    if (!out) return fail("out of memory");
    argument args[] = {
        {DNNL_ARG_SRC, &e->forward_src.to, src_in}, {DNNL_ARG_WEIGHTS, &e->forward_weights.to, weights},
        {DNNL_ARG_BIAS, &e->bias_md, e->key.has_bias ? bias : NULL}, {DNNL_ARG_DST, &e->forward_dst.from, out},
    };
    if (execute(e->forward, e->forward_pd, args, 4, "forward convolution")) return -1;
    if (e->forward_dst.primitive && convert(&e->forward_dst, out, dst)) return -1;
    return 0;
}

int mims_conv_forward(const mims_conv_shape *s, const void *src, const float *weights, const float *bias, void *dst) {
    pthread_mutex_lock(&lock);
    int status = -1;
    conv_entry *e = conv_get(s, 0);
    const void *weights_in;
    if (e && convert_in(&e->forward_weights, weights, SLOT_WEIGHTS, &weights_in) == 0) status = conv_forward_locked(e, src, weights_in, bias, dst);
    pthread_mutex_unlock(&lock);
    return status;
}

size_t mims_conv_weights_size(const mims_conv_shape *s) {
    pthread_mutex_lock(&lock);
    conv_entry *e = conv_get(s, 0);
    size_t size = e ? e->forward_weights.size : 0;
    pthread_mutex_unlock(&lock);
    return size;
}

int mims_conv_prepare_weights(const mims_conv_shape *s, const float *weights, void *prepared) {
    pthread_mutex_lock(&lock);
    int status = -1;
    conv_entry *e = conv_get(s, 0);
    if (e) {
        if (e->forward_weights.primitive) status = convert(&e->forward_weights, weights, prepared);
        else { memcpy(prepared, weights, e->forward_weights.size); status = 0; }
    }
    pthread_mutex_unlock(&lock);
    return status;
}

int mims_conv_forward_prepared(const mims_conv_shape *s, const void *src, const void *prepared, const float *bias, void *dst) {
    pthread_mutex_lock(&lock);
    conv_entry *e = conv_get(s, 0);
    int status = e ? conv_forward_locked(e, src, prepared, bias, dst) : -1;
    pthread_mutex_unlock(&lock);
    return status;
}

int mims_conv_same_weights(const mims_conv_shape *a, const mims_conv_shape *b) {
    pthread_mutex_lock(&lock);
    conv_entry *first = conv_get(a, 0);
    conv_entry *second = first ? conv_get(b, 0) : NULL;
    int same = first && second && dnnl_memory_desc_equal(&first->forward_weights.to, &second->forward_weights.to);
    pthread_mutex_unlock(&lock);
    return same;
}

int mims_conv_backward(const mims_conv_shape *s, const void *src, const float *weights, const void *diff_dst,
                       void *diff_src, float *diff_weights, float *diff_bias) {
    pthread_mutex_lock(&lock);
    int status = -1;
    conv_entry *e = conv_get(s, 1);
    if (!e) goto done;
    if (diff_src) {
        const void *weights_in, *diff_dst_in;
        if (convert_in(&e->data_weights, weights, SLOT_WEIGHTS, &weights_in) || convert_in(&e->data_diff_dst, diff_dst, SLOT_DIFF_DST, &diff_dst_in))
            goto done;
        void *out = output_buffer(&e->data_diff_src, diff_src);
        if (!out) { fail("out of memory"); goto done; }
        argument args[] = {
            {DNNL_ARG_DIFF_DST, &e->data_diff_dst.to, diff_dst_in}, {DNNL_ARG_WEIGHTS, &e->data_weights.to, weights_in},
            {DNNL_ARG_DIFF_SRC, &e->data_diff_src.from, out},
        };
        if (execute(e->data, e->data_pd, args, 3, "backward-data convolution")) goto done;
        if (e->data_diff_src.primitive && convert(&e->data_diff_src, out, diff_src)) goto done;
    }
    {
        const void *src_in, *diff_dst_in;
        if (convert_in(&e->weights_src, src, SLOT_SRC, &src_in)) goto done;
        /* bf16: the same conversion of diff_dst as for backward-data; reuse it when it matches. */
        if (diff_src && e->data_diff_dst.primitive && dnnl_memory_desc_equal(&e->data_diff_dst.to, &e->weights_diff_dst.to)) {
            diff_dst_in = slots[SLOT_DIFF_DST].data;
        } else if (convert_in(&e->weights_diff_dst, diff_dst, SLOT_DIFF_DST_2, &diff_dst_in)) {
            goto done;
        }
        void *out = e->weights_diff_weights.primitive
                        ? slot(SLOT_DIFF_WEIGHTS, dnnl_memory_desc_get_size(&e->weights_diff_weights.from)) : diff_weights;
        if (!out) { fail("out of memory"); goto done; }
        argument args[] = {
            {DNNL_ARG_SRC, &e->weights_src.to, src_in}, {DNNL_ARG_DIFF_DST, &e->weights_diff_dst.to, diff_dst_in},
            {DNNL_ARG_DIFF_WEIGHTS, &e->weights_diff_weights.from, out}, {DNNL_ARG_DIFF_BIAS, &e->bias_md, s->has_bias ? diff_bias : NULL},
        };
        if (execute(e->weights, e->weights_pd, args, 4, "backward-weights convolution")) goto done;
        if (e->weights_diff_weights.primitive && convert(&e->weights_diff_weights, out, diff_weights)) goto done;
    }
    status = 0;
done:
    pthread_mutex_unlock(&lock);
    return status;
}

const char *mims_conv_implementation(const mims_conv_shape *s) {
    pthread_mutex_lock(&lock);
    const char *name = NULL;
    conv_entry *e = conv_get(s, 0);
    if (e) dnnl_primitive_desc_query(e->forward_pd, dnnl_query_impl_info_str, 0, &name);
    pthread_mutex_unlock(&lock);
    return name ? name : "unavailable";
}

/* ---- batch normalization ----------------------------------------------------------------- */

typedef struct bn_entry {
    int key[9]; /* n, c, h, w, layout, type, flags, prop, backward */
    dnnl_memory_desc_t data, stat, scale;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t primitive;
    struct bn_entry *next;
} bn_entry;

static bn_entry *norms;

static bn_entry *bn_get(int n, int c, int h, int w, int layout, int type, unsigned flags, dnnl_prop_kind_t prop, int backward) {
    if (ensure_engine()) return NULL;
    if (n < 1 || c < 1 || h < 1 || w < 1 || (layout == MIMS_LAYOUT_NCHW16C && c % 16)) { fail("batch-norm shape out of range"); return NULL; }
    int key[9] = {n, c, h, w, layout, type, (int)flags, (int)prop, backward};
    for (bn_entry *e = norms; e; e = e->next)
        if (memcmp(e->key, key, sizeof key) == 0) return e;
    last_error[0] = 0;
    bn_entry *e = calloc(1, sizeof *e);
    if (!e) { fail("out of memory"); return NULL; }
    memcpy(e->key, key, sizeof key);
    plain_md(&e->data, n, c, h, w, layout, element(type));
    dnnl_dims_t cdims = {c};
    dnnl_memory_desc_init_by_tag(&e->stat, 1, cdims, dnnl_f32, dnnl_x);
    e->scale = e->stat;
    dnnl_batch_normalization_desc_t desc;
    dnnl_primitive_desc_t hint = NULL;
    dnnl_primitive_t hint_primitive = NULL;
    int ok = 0;
    if (!backward) {
        ok = dnnl_batch_normalization_forward_desc_init(&desc, prop, &e->data, 1e-5f, flags) == dnnl_success
             && create(&e->pd, &e->primitive, &desc, NULL, "batch normalization") == 0;
    } else {
        dnnl_batch_normalization_desc_t forward;
        ok = dnnl_batch_normalization_forward_desc_init(&forward, dnnl_forward_training, &e->data, 1e-5f, flags) == dnnl_success
             && create(&hint, &hint_primitive, &forward, NULL, "batch normalization") == 0
             && dnnl_batch_normalization_backward_desc_init(&desc, prop, &e->data, &e->data, 1e-5f, flags) == dnnl_success
             && create(&e->pd, &e->primitive, &desc, hint, "batch-normalization backward") == 0;
        if (hint_primitive) dnnl_primitive_destroy(hint_primitive);
        if (hint) dnnl_primitive_desc_destroy(hint);
    }
    if (!ok) {
        if (!last_error[0]) fail("oneDNN batch normalization descriptor failed");
        free(e);
        return NULL;
    }
    e->next = norms;
    norms = e;
    return e;
}

/* oneDNN takes epsilon in the descriptor; every ResNet BN uses PyTorch's 1e-5, and the cache key
 * would need it otherwise. */
static int bn_eps_ok(float eps) { return eps == 1e-5f ? 0 : fail("batch normalization supports eps = 1e-5 only (got %g)", eps); }

size_t mims_bn_workspace_size(int n, int c, int h, int w, int layout, int type) {
    pthread_mutex_lock(&lock);
    size_t size = 0;
    bn_entry *e = bn_get(n, c, h, w, layout, type, dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu, dnnl_forward_training, 0);
    if (e) size = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0));
    pthread_mutex_unlock(&lock);
    return size;
}

/* Element i of a float32 or bf16 array; `bf16` is a constant where this is inlined, so each loop
 * below is compiled once per type and vectorizes. */
static inline __attribute__((always_inline)) float load_value(const void *src, size_t i, const int bf16) {
    if (!bf16) return ((const float *)src)[i];
    const uint32_t bits = (uint32_t)((const uint16_t *)src)[i] << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Sums of (x - shift) and (x - shift)^2 per channel: float over runs of 64 pixels, which
 * vectorize, then double across runs. With the shift near the channel's mean (the mean of its
 * first pixels) the runs' float sums are exact to a few ulp of values of the spread's size, and
 * nothing cancels. */
static inline __attribute__((always_inline)) void statistics(int n, int c, int h, int w, int layout, const void *src, int c_begin,
                                                             int c_end, float *mean, float *variance, const int bf16) {
    const size_t plane = (size_t)h * w, count = (size_t)n * plane, run = 64;
    const size_t head = plane < 256 ? plane : 256;
    if (layout == MIMS_LAYOUT_NCHW16C) {
        const int blocks = c / 16;
        for (int block = c_begin / 16; block < c_end / 16; block++) {
            double sum[16] = {0}, squares[16] = {0}, first[16] = {0};
            const size_t start = (size_t)block * plane * 16;
            for (size_t pixel = 0; pixel < head; pixel++)
                for (int k = 0; k < 16; k++) first[k] += load_value(src, start + pixel * 16 + k, bf16);
            float shift[16];
            for (int k = 0; k < 16; k++) shift[k] = (float)(first[k] / head);
            for (int image = 0; image < n; image++) {
                const size_t p = ((size_t)image * blocks + block) * plane * 16;
                for (size_t from = 0; from < plane; from += run) {
                    const size_t to = from + run < plane ? from + run : plane;
                    float s[16] = {0}, q[16] = {0};
                    for (size_t pixel = from; pixel < to; pixel++)
                        for (int k = 0; k < 16; k++) {
                            const float d = load_value(src, p + pixel * 16 + k, bf16) - shift[k];
                            s[k] += d;
                            q[k] += d * d;
                        }
                    for (int k = 0; k < 16; k++) { sum[k] += s[k]; squares[k] += q[k]; }
                }
            }
            for (int k = 0; k < 16; k++) {
                const double m = sum[k] / count, v = squares[k] / count - m * m;
                mean[block * 16 + k] = (float)(shift[k] + m);
                variance[block * 16 + k] = (float)(v > 0 ? v : 0);
            }
        }
        return;
    }
    for (int channel = c_begin; channel < c_end; channel++) {
        double first = 0;
        for (size_t i = 0; i < head; i++) first += load_value(src, (size_t)channel * plane + i, bf16);
        const float shift = (float)(first / head);
        double sum = 0, squares = 0;
        for (int image = 0; image < n; image++) {
            const size_t p = ((size_t)image * c + channel) * plane;
            for (size_t from = 0; from < plane; from += run) {
                const size_t to = from + run < plane ? from + run : plane;
                float s = 0, q = 0;
                for (size_t i = from; i < to; i++) {
                    const float d = load_value(src, p + i, bf16) - shift;
                    s += d;
                    q += d * d;
                }
                sum += s;
                squares += q;
            }
        }
        const double m = sum / count, v = squares / count - m * m;
        mean[channel] = (float)(shift + m);
        variance[channel] = (float)(v > 0 ? v : 0);
    }
}

/* Compiled for AVX-512 and a plain fallback, chosen when the library loads. */
__attribute__((target_clones("avx512f", "default")))
void mims_bn_statistics(int n, int c, int h, int w, int layout, int type, const void *src, int c_begin, int c_end,
                        float *mean, float *variance) {
    if (type == MIMS_TYPE_BF16) statistics(n, c, h, w, layout, src, c_begin, c_end, mean, variance, 1);
    else statistics(n, c, h, w, layout, src, c_begin, c_end, mean, variance, 0);
}

int mims_bn_forward(int n, int c, int h, int w, int layout, int type, int use_batch_stats, int relu, int keep_workspace, float eps,
                    const void *src, const float *scale, const float *shift, void *dst, float *mean, float *variance,
                    void *workspace) {
    if (bn_eps_ok(eps)) return -1;
    pthread_mutex_lock(&lock);
    int status = -1;
    /* The statistics are always inputs (the batch's come from mims_bn_statistics); training still
     * needs forward_training for the fused ReLU's workspace, which the backward primitive (made
     * with batch-statistics flags, so its gradient runs through the mean and variance) reads. */
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (relu ? dnnl_fuse_norm_relu : 0) | dnnl_use_global_stats;
    dnnl_prop_kind_t prop = relu && (use_batch_stats || keep_workspace) ? dnnl_forward_training : dnnl_forward_inference;
    bn_entry *e = bn_get(n, c, h, w, layout, type, flags, prop, 0);
    if (e && relu && prop == dnnl_forward_training) {
        bn_entry *training = bn_get(n, c, h, w, layout, type, dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu, dnnl_forward_training, 0);
        if (!training) e = NULL;
        else if (!dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0),
                                         dnnl_primitive_desc_query_md(training->pd, dnnl_query_workspace_md, 0))) {
            fail("batch-norm ReLU workspace differs between given and batch statistics");
            e = NULL;
        }
    }
    if (e) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0);
        argument args[] = {
            {DNNL_ARG_SRC, &e->data, src}, {DNNL_ARG_DST, &e->data, dst}, {DNNL_ARG_SCALE, &e->scale, scale},
            {DNNL_ARG_SHIFT, &e->scale, shift}, {DNNL_ARG_MEAN, &e->stat, mean}, {DNNL_ARG_VARIANCE, &e->stat, variance},
            {DNNL_ARG_WORKSPACE, ws, relu && prop == dnnl_forward_training ? workspace : NULL},
        };
        status = execute(e->primitive, e->pd, args, 7, "batch normalization");
    }
    pthread_mutex_unlock(&lock);
    return status;
}

int mims_bn_backward(int n, int c, int h, int w, int layout, int type, int use_batch_stats, int relu, float eps,
                     const void *src, const void *diff_dst, const float *scale, const float *shift, const float *mean,
                     const float *variance, const void *workspace, void *diff_src, float *diff_scale, float *diff_shift) {
    if (bn_eps_ok(eps)) return -1;
    pthread_mutex_lock(&lock);
    int status = -1;
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (relu ? dnnl_fuse_norm_relu : 0) | (use_batch_stats ? 0 : dnnl_use_global_stats);
    int wants_parameters = diff_scale && diff_shift;
    bn_entry *e = bn_get(n, c, h, w, layout, type, flags, wants_parameters ? dnnl_backward : dnnl_backward_data, 1);
    if (e) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0);
        argument args[] = {
            {DNNL_ARG_SRC, &e->data, src}, {DNNL_ARG_DIFF_DST, &e->data, diff_dst}, {DNNL_ARG_SCALE, &e->scale, scale},
            {DNNL_ARG_SHIFT, &e->scale, shift}, {DNNL_ARG_MEAN, &e->stat, mean}, {DNNL_ARG_VARIANCE, &e->stat, variance},
            {DNNL_ARG_WORKSPACE, ws, relu ? workspace : NULL}, {DNNL_ARG_DIFF_SRC, &e->data, diff_src},
            {DNNL_ARG_DIFF_SCALE, &e->scale, wants_parameters ? diff_scale : NULL},
            {DNNL_ARG_DIFF_SHIFT, &e->scale, wants_parameters ? diff_shift : NULL},
        };
        status = execute(e->primitive, e->pd, args, 10, "batch-normalization backward");
    }
    pthread_mutex_unlock(&lock);
    return status;
}

/* ---- max pooling ------------------------------------------------------------------------- */

typedef struct pool_entry {
    int key[10]; /* n, c, h, w, layout, type, kernel, stride, padding, kind (0 inference, 1 training, 2 backward) */
    dnnl_memory_desc_t src, dst;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t primitive;
    struct pool_entry *next;
} pool_entry;

static pool_entry *pools;

static pool_entry *pool_get(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding, int kind) {
    if (ensure_engine()) return NULL;
    int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
    if (n < 1 || c < 1 || h < 1 || w < 1 || kernel < 1 || stride < 1 || padding < 0 || oh < 1 || ow < 1 || (layout == MIMS_LAYOUT_NCHW16C && c % 16)) {
        fail("max-pooling shape out of range");
        return NULL;
    }
    int key[10] = {n, c, h, w, layout, type, kernel, stride, padding, kind};
    for (pool_entry *e = pools; e; e = e->next)
        if (memcmp(e->key, key, sizeof key) == 0) return e;
    last_error[0] = 0;
    pool_entry *e = calloc(1, sizeof *e);
    if (!e) { fail("out of memory"); return NULL; }
    memcpy(e->key, key, sizeof key);
    plain_md(&e->src, n, c, h, w, layout, element(type));
    plain_md(&e->dst, n, c, oh, ow, layout, element(type));
    /* Right padding so that oneDNN's output size equals PyTorch's floor-mode size. */
    dnnl_dims_t strides = {stride, stride}, kernels = {kernel, kernel}, dilation = {0, 0}, left = {padding, padding};
    dnnl_dims_t right = {(oh - 1) * stride + kernel - h - padding, (ow - 1) * stride + kernel - w - padding};
    dnnl_pooling_v2_desc_t desc;
    int ok;
    if (kind < 2) {
        ok = dnnl_pooling_v2_forward_desc_init(&desc, kind ? dnnl_forward_training : dnnl_forward_inference, dnnl_pooling_max, &e->src, &e->dst,
                                               strides, kernels, dilation, left, right) == dnnl_success
             && create(&e->pd, &e->primitive, &desc, NULL, "max pooling") == 0;
    } else {
        dnnl_pooling_v2_desc_t forward;
        dnnl_primitive_desc_t hint = NULL;
        dnnl_primitive_t hint_primitive = NULL;
        ok = dnnl_pooling_v2_forward_desc_init(&forward, dnnl_forward_training, dnnl_pooling_max, &e->src, &e->dst, strides, kernels, dilation,
                                               left, right) == dnnl_success
             && create(&hint, &hint_primitive, &forward, NULL, "max pooling") == 0
             && dnnl_pooling_v2_backward_desc_init(&desc, dnnl_pooling_max, &e->src, &e->dst, strides, kernels, dilation, left, right)
                    == dnnl_success
             && create(&e->pd, &e->primitive, &desc, hint, "max-pooling backward") == 0;
        if (hint_primitive) dnnl_primitive_destroy(hint_primitive);
        if (hint) dnnl_primitive_desc_destroy(hint);
    }
    if (!ok) {
        if (!last_error[0]) fail("oneDNN max-pooling descriptor failed");
        free(e);
        return NULL;
    }
    e->next = pools;
    pools = e;
    return e;
}

size_t mims_pool_workspace_size(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding) {
    pthread_mutex_lock(&lock);
    size_t size = 0;
    pool_entry *e = pool_get(n, c, h, w, layout, type, kernel, stride, padding, 1);
    if (e) size = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0));
    pthread_mutex_unlock(&lock);
    return size;
}

int mims_pool_forward(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding,
                      const void *src, void *dst, void *workspace) {
    pthread_mutex_lock(&lock);
    int status = -1;
    pool_entry *e = pool_get(n, c, h, w, layout, type, kernel, stride, padding, workspace ? 1 : 0);
    if (e) {
        argument args[] = {
            {DNNL_ARG_SRC, &e->src, src}, {DNNL_ARG_DST, &e->dst, dst},
            {DNNL_ARG_WORKSPACE, dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0), workspace},
        };
        status = execute(e->primitive, e->pd, args, 3, "max pooling");
    }
    pthread_mutex_unlock(&lock);
    return status;
}

int mims_pool_backward(int n, int c, int h, int w, int layout, int type, int kernel, int stride, int padding,
                       const void *diff_dst, const void *workspace, void *diff_src) {
    pthread_mutex_lock(&lock);
    int status = -1;
    pool_entry *e = pool_get(n, c, h, w, layout, type, kernel, stride, padding, 2);
    if (e) {
        argument args[] = {
            {DNNL_ARG_DIFF_DST, &e->dst, diff_dst}, {DNNL_ARG_DIFF_SRC, &e->src, diff_src},
            {DNNL_ARG_WORKSPACE, dnnl_primitive_desc_query_md(e->pd, dnnl_query_workspace_md, 0), workspace},
        };
        status = execute(e->primitive, e->pd, args, 3, "max-pooling backward");
    }
    pthread_mutex_unlock(&lock);
    return status;
}

/* ---- layout reorders --------------------------------------------------------------------- */

typedef struct reorder_entry {
    int key[8];
    conversion conversion;
    struct reorder_entry *next;
} reorder_entry;

static reorder_entry *reorders;

int mims_reorder(int n, int c, int h, int w, int src_layout, int src_type, int dst_layout, int dst_type, const void *src, void *dst) {
    pthread_mutex_lock(&lock);
    int status = -1;
    if (ensure_engine()) goto done;
    if (n < 1 || c < 1 || h < 1 || w < 1 || ((src_layout == MIMS_LAYOUT_NCHW16C || dst_layout == MIMS_LAYOUT_NCHW16C) && c % 16)) {
        fail("reorder shape out of range");
        goto done;
    }
    int key[8] = {n, c, h, w, src_layout, src_type, dst_layout, dst_type};
    reorder_entry *e = reorders;
    while (e && memcmp(e->key, key, sizeof key) != 0) e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) { fail("out of memory"); goto done; }
        memcpy(e->key, key, sizeof key);
        dnnl_memory_desc_t from, to;
        plain_md(&from, n, c, h, w, src_layout, element(src_type));
        plain_md(&to, n, c, h, w, dst_layout, element(dst_type));
        if (conversion_init(&e->conversion, &from, &to)) { free(e); goto done; }
        e->next = reorders;
        reorders = e;
    }
    if (!e->conversion.primitive) {
        memcpy(dst, src, (size_t)n * c * h * w * element_size(src_type));
        status = 0;
    } else {
        status = convert(&e->conversion, src, dst);
    }
done:
    pthread_mutex_unlock(&lock);
    return status;
}
