#include "mims_codecs.h"
#include "internal.h"
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t position;
} mims_png_source;

typedef struct {
    jmp_buf jump;
    char message[256];
} mims_png_error;

static void mims_png_error_fn(png_structp png, png_const_charp text) {
    mims_png_error *err = (mims_png_error *)png_get_error_ptr(png);
    snprintf(err->message, sizeof(err->message), "%s", text ? text : "libpng error");
    longjmp(err->jump, 1);
}

static void mims_png_warning_fn(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // benign (unknown chunks, bad gamma); errors go through mims_png_error_fn
}

static void mims_png_read_fn(png_structp png, png_bytep target, size_t length) {
    mims_png_source *src = (mims_png_source *)png_get_io_ptr(png);
    if (length > src->size - src->position) png_error(png, "file is truncated");
    memcpy(target, src->data + src->position, length);
    src->position += length;
}

int mims_png_decode_fast(const uint8_t *data, size_t size, mims_decode_limits limits, mims_image *out,
                         char *message, size_t message_capacity);

int mims_png_decode(const uint8_t *data, size_t size, mims_decode_limits limits,
                    mims_image *out, char *message, size_t message_capacity) {
    if (data && mims_png_decode_fast(data, size, limits, out, message, message_capacity) == MIMS_CODEC_OK) {
        return MIMS_CODEC_OK;
    }
    if (message && message_capacity) message[0] = 0;
    memset(out, 0, sizeof(*out));
    if (!data || size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        mims_set_message(message, message_capacity, "not a PNG file (no PNG signature)");
        return MIMS_CODEC_CORRUPT;
    }
    mims_png_error err;
    memset(&err, 0, sizeof(err));
    mims_png_source src = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, mims_png_error_fn,
                                             mims_png_warning_fn);
    if (!png) {
        mims_set_message(message, message_capacity, "out of memory");
        return MIMS_CODEC_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int status = MIMS_CODEC_CORRUPT;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        mims_set_message(message, message_capacity, "out of memory");
        return MIMS_CODEC_NO_MEMORY;
    }
    if (setjmp(err.jump)) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        mims_set_message(message, message_capacity, "%s", err.message);
        return status;
    }
    png_set_read_fn(png, &src, mims_png_read_fn);
    // Metadata chunks (text, ICC) cannot make libpng allocate more than this.
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    uint32_t flags = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
        flags |= MIMS_IMAGE_FROM_PALETTE;
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_swap(png);  // PNG stores big-endian; hand out native uint16
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    uint32_t channels = png_get_channels(png, info);
    uint32_t depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    int check = mims_check_limits(width, height, channels, depth / 8, limits, message,
                                  message_capacity);
    if (check != MIMS_CODEC_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return check;
    }
    if (row_bytes != (size_t)width * channels * (depth / 8)) {
        png_destroy_read_struct(&png, &info, NULL);
        mims_set_message(message, message_capacity, "unexpected row layout");
        return MIMS_CODEC_UNSUPPORTED;
    }
    pixels = (uint8_t *)malloc(row_bytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        mims_set_message(message, message_capacity, "out of memory for %ux%u pixels", width, height);
        return MIMS_CODEC_NO_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    // The end chunk is not read: a file cut after its last image row still holds every pixel,
    // while a file cut inside the image data fails in png_read_image above.
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = depth;
    out->pixels = pixels;
    out->byte_count = row_bytes * height;
    out->flags = flags;
    return MIMS_CODEC_OK;
}

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
} mims_png_sink;

static void mims_png_write_fn(png_structp png, png_bytep bytes, size_t length) {
    mims_png_sink *sink = (mims_png_sink *)png_get_io_ptr(png);
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 4096;
        while (capacity < sink->size + length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(sink->data, capacity);
        if (!grown) png_error(png, "out of memory while encoding");
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, length);
    sink->size += length;
}

static void mims_png_flush_fn(png_structp png) { (void)png; }

int mims_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    uint32_t bit_depth, int compression_level, uint8_t **out, size_t *out_size,
                    char *message, size_t message_capacity) {
    *out = NULL;
    *out_size = 0;
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (!pixels || width == 0 || height == 0 || channels < 1 || channels > 4 ||
        (bit_depth != 8 && bit_depth != 16)) {
        mims_set_message(message, message_capacity, "cannot encode %ux%u x %u channels at %u bits",
                         width, height, channels, bit_depth);
        return MIMS_CODEC_BAD_ARGUMENT;
    }
    mims_png_error err;
    memset(&err, 0, sizeof(err));
    mims_png_sink sink = {NULL, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, mims_png_error_fn,
                                              mims_png_warning_fn);
    if (!png) return MIMS_CODEC_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return MIMS_CODEC_NO_MEMORY;
    }
    if (setjmp(err.jump)) {
        free(sink.data);
        png_destroy_write_struct(&png, &info);
        mims_set_message(message, message_capacity, "%s", err.message);
        return MIMS_CODEC_NO_MEMORY;
    }
    png_set_write_fn(png, &sink, mims_png_write_fn, mims_png_flush_fn);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, (int)bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = sink.data;
    *out_size = sink.size;
    return MIMS_CODEC_OK;
}
