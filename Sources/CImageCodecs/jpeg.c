#include "mims_codecs.h"
#include "internal.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int data_lost;  // a warning that means pixels were invented (truncation, corrupt entropy data)
} mims_jpeg_error;

static void mims_jpeg_error_exit(j_common_ptr cinfo) {
    mims_jpeg_error *err = (mims_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void mims_jpeg_emit_message(j_common_ptr cinfo, int level) {
    mims_jpeg_error *err = (mims_jpeg_error *)cinfo->err;
    if (level >= 0) return;  // trace messages
    int code = cinfo->err->msg_code;
    // libjpeg fills the rest of a damaged image with gray and carries on; a dataset must not
    // silently contain invented pixels, so these warnings are errors. Harmless ones (extraneous
    // bytes between markers, odd JFIF versions) are tolerated, as every viewer does.
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC ||
        code == JWRN_HUFF_BAD_CODE || code == JWRN_NOT_SEQUENTIAL) {
        if (!err->data_lost) {
            (*cinfo->err->format_message)(cinfo, err->message);
            err->data_lost = 1;
        }
    }
}

int mims_jpeg_decode(const uint8_t *data, size_t size, mims_decode_limits limits,
                     mims_image *out, char *message, size_t message_capacity) {
    memset(out, 0, sizeof(*out));
    if (!data || size < 4) {
        mims_set_message(message, message_capacity, "file is too short to be a JPEG (%zu bytes)", size);
        return MIMS_CODEC_CORRUPT;
    }
    struct jpeg_decompress_struct cinfo;
    mims_jpeg_error err;
    memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = mims_jpeg_error_exit;
    err.base.emit_message = mims_jpeg_emit_message;
    // Volatile: these are written after setjmp and read after a longjmp back to it.
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;

    if (setjmp(err.jump)) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        mims_set_message(message, message_capacity, "%s", err.message);
        return MIMS_CODEC_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    uint32_t channels = cmyk ? 3 : (uint32_t)(cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3);
    int status = mims_check_limits(cinfo.image_width, cinfo.image_height, channels, 1, limits,
                                   message, message_capacity);
    if (status != MIMS_CODEC_OK) {
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    jpeg_start_decompress(&cinfo);
    size_t width = cinfo.output_width, height = cinfo.output_height;
    size_t row_bytes = width * channels;
    pixels = (uint8_t *)malloc(row_bytes * height);
    if (cmyk) row = (uint8_t *)malloc(width * 4);
    if (!pixels || (cmyk && !row)) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        mims_set_message(message, message_capacity, "out of memory for %zux%zu pixels", width, height);
        return MIMS_CODEC_NO_MEMORY;
    }
    // Adobe applications store CMYK inverted and mark it with an APP14 "Adobe" segment.
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (!cmyk) {
            JSAMPROW target = pixels + y * row_bytes;
            jpeg_read_scanlines(&cinfo, &target, 1);
        } else {
            JSAMPROW target = row;
            jpeg_read_scanlines(&cinfo, &target, 1);
            uint8_t *dst = pixels + y * row_bytes;
            for (size_t x = 0; x < width; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                dst[3 * x] = mims_cmyk_channel(c, k);
                dst[3 * x + 1] = mims_cmyk_channel(m, k);
                dst[3 * x + 2] = mims_cmyk_channel(yy, k);
            }
        }
        if (err.data_lost) break;
    }
    if (err.data_lost) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        mims_set_message(message, message_capacity, "%s", err.message);
        return MIMS_CODEC_CORRUPT;
    }
    jpeg_finish_decompress(&cinfo);
    if (err.data_lost) {  // finish can still meet the end of a truncated progressive file
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        mims_set_message(message, message_capacity, "%s", err.message);
        return MIMS_CODEC_CORRUPT;
    }
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = pixels;
    out->byte_count = row_bytes * height;
    out->flags = cmyk ? MIMS_IMAGE_FROM_CMYK : 0;
    return MIMS_CODEC_OK;
}

int mims_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                     uint8_t **out, size_t *out_size, char *message, size_t message_capacity) {
    *out = NULL;
    *out_size = 0;
    if (!pixels || width == 0 || height == 0 || (channels != 1 && channels != 3) || width > 65500 ||
        height > 65500) {
        mims_set_message(message, message_capacity, "cannot encode %ux%u x %u channels as JPEG", width,
                         height, channels);
        return MIMS_CODEC_BAD_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    mims_jpeg_error err;
    memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = mims_jpeg_error_exit;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        mims_set_message(message, message_capacity, "%s", err.message);
        return MIMS_CODEC_NO_MEMORY;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *target = NULL;
    jpeg_mem_dest(&cinfo, &target, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * channels);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = target;
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = size;
    return MIMS_CODEC_OK;
}
