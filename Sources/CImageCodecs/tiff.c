#include "mims_codecs.h"
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <libdeflate.h>

struct mims_tiff {
    const uint8_t *data;
    size_t size;
    size_t position;
    TIFF *tif;
    char message[512];  // first error libtiff reported since the last call began
    char damage[512];   // first warning that means wrong pixels (sticky for the file)
    struct libdeflate_decompressor *inflater;  // made on the first deflate block, kept for the file
};

static tmsize_t mims_tiff_read(thandle_t handle, void *buffer, tmsize_t size) {
    mims_tiff *t = (mims_tiff *)handle;
    if (size <= 0 || t->position >= t->size) return 0;
    size_t n = (size_t)size;
    if (n > t->size - t->position) n = t->size - t->position;
    memcpy(buffer, t->data + t->position, n);
    t->position += n;
    return (tmsize_t)n;
}

static tmsize_t mims_tiff_write(thandle_t handle, void *buffer, tmsize_t size) {
    (void)handle;
    (void)buffer;
    (void)size;
    return -1;
}

static toff_t mims_tiff_seek(thandle_t handle, toff_t offset, int whence) {
    mims_tiff *t = (mims_tiff *)handle;
    uint64_t base = whence == SEEK_CUR ? t->position : whence == SEEK_END ? t->size : 0;
    uint64_t target = base + offset;
    if (target < base) return (toff_t)-1;
    t->position = (size_t)target;
    return target;
}

static int mims_tiff_close_proc(thandle_t handle) {
    (void)handle;
    return 0;
}

static toff_t mims_tiff_size(thandle_t handle) { return ((mims_tiff *)handle)->size; }

static int mims_tiff_map(thandle_t handle, void **base, toff_t *size) {
    mims_tiff *t = (mims_tiff *)handle;
    *base = (void *)t->data;
    *size = t->size;
    return 1;
}

static void mims_tiff_unmap(thandle_t handle, void *base, toff_t size) {
    (void)handle;
    (void)base;
    (void)size;
}

static int mims_tiff_error_handler(TIFF *tif, void *user, const char *module, const char *format,
                                   va_list args) {
    (void)tif;
    mims_tiff *t = (mims_tiff *)user;
    if (t->message[0] == 0) {
        char text[400];
        vsnprintf(text, sizeof(text), format, args);
        snprintf(t->message, sizeof(t->message), "%s%s%s", module ? module : "",
                 module ? ": " : "", text);
    }
    return 1;
}

/* Most warnings are harmless (unknown tags, ASCII tags without NUL). Those about the strip or
   tile tables, the colour map or the sample layout mean libtiff ignored or guessed a field the
   pixels depend on: decoding would "succeed" with garbage, so they are kept and fail the decode. */
static int mims_tiff_warning_handler(TIFF *tif, void *user, const char *module, const char *format,
                                     va_list args) {
    (void)tif;
    mims_tiff *t = (mims_tiff *)user;
    char text[400];
    vsnprintf(text, sizeof(text), format, args);
    static const char *fields[] = {"StripOffsets", "StripByteCounts", "TileOffsets", "TileByteCounts",
                                   "ColorMap", "BitsPerSample", "SamplesPerPixel", "ImageLength",
                                   "ImageWidth", "RowsPerStrip", NULL};
    int critical = 0;
    for (int i = 0; fields[i]; i++) {
        if (strstr(text, fields[i])) critical = 1;
    }
    if (critical && t->damage[0] == 0) {
        snprintf(t->damage, sizeof(t->damage), "%s%s%s", module ? module : "", module ? ": " : "", text);
    }
    return 1;
}

/* libtiff 4.5 inflates a deflate strip or tile with libdeflate when the caller asks for all of it
   as the header sizes it. When the data really holds more (a header edited to a smaller width),
   libdeflate answers "insufficient space", libtiff accepts that, and the buffer holds whatever
   libdeflate had written so far: garbage pixels with no error. So every deflate block is checked
   to inflate to at most the size the header gives it. Returns 1 when it does. */
static int mims_tiff_deflate_fits(mims_tiff *t, uint32_t index, int tiled, tmsize_t full_size) {
    TIFF *tif = t->tif;
    uint64_t *counts = NULL;
    if (!TIFFGetField(tif, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) || !counts) return 1;
    tmsize_t raw_size = (tmsize_t)counts[index];
    if (raw_size <= 0 || full_size <= 0 || (uint64_t)raw_size > (uint64_t)1 << 31) return 1;  /* libtiff's own read reports these */
    uint8_t *raw = (uint8_t *)malloc((size_t)raw_size);
    uint8_t *out = (uint8_t *)malloc((size_t)full_size);
    int fits = 1;
    if (raw && out) {
        tmsize_t got = tiled ? TIFFReadRawTile(tif, index, raw, raw_size) : TIFFReadRawStrip(tif, index, raw, raw_size);
        if (got > 0) {
            if (!t->inflater) t->inflater = libdeflate_alloc_decompressor();
            if (t->inflater) {
                size_t actual = 0;
                enum libdeflate_result r = libdeflate_zlib_decompress(t->inflater, raw, (size_t)got, out, (size_t)full_size, &actual);
                if (r == LIBDEFLATE_INSUFFICIENT_SPACE) fits = 0;
            }
        }
    }
    free(raw);
    free(out);
    return fits;
}

/* The reason for a block that mims_tiff_deflate_fits refused. */
static int mims_tiff_oversized(char *message, size_t capacity, const char *block, uint32_t index,
                               tmsize_t size, uint32_t width, uint32_t rows, uint16_t spp) {
    mims_set_message(message, capacity,
                     "TIFF %s %u inflates to more than the %lld bytes its header describes "
                     "(%u x %u pixels, %u samples): the header disagrees with the data",
                     block, (unsigned)index, (long long)size, width, rows, (unsigned)spp);
    return MIMS_CODEC_CORRUPT;
}

static int mims_tiff_damaged(mims_tiff *t, char *message, size_t capacity) {
    mims_set_message(message, capacity, "inconsistent TIFF structure, the pixels would be wrong (libtiff: %s)", t->damage);
    return MIMS_CODEC_CORRUPT;
}

static int mims_tiff_fail(mims_tiff *t, int status, const char *what, char *message, size_t capacity) {
    if (t->message[0]) {
        mims_set_message(message, capacity, "%s: %s", what, t->message);
    } else {
        mims_set_message(message, capacity, "%s", what);
    }
    return status;
}

int mims_tiff_open(const uint8_t *data, size_t size, mims_tiff **out, char *message,
                   size_t message_capacity) {
    *out = NULL;
    if (!data || size < 8 ||
        !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M'))) {
        mims_set_message(message, message_capacity, "not a TIFF file (no II/MM byte-order mark)");
        return MIMS_CODEC_CORRUPT;
    }
    mims_tiff *t = (mims_tiff *)calloc(1, sizeof(mims_tiff));
    if (!t) return MIMS_CODEC_NO_MEMORY;
    t->data = data;
    t->size = size;
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) {
        free(t);
        return MIMS_CODEC_NO_MEMORY;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, mims_tiff_error_handler, t);
    TIFFOpenOptionsSetWarningHandlerExtR(options, mims_tiff_warning_handler, t);
    // No single libtiff allocation (a strip, a tile, a tag array) may exceed what the file could
    // decompress to; the strongest codec here (deflate) expands about 1032:1.
    uint64_t max_alloc = (uint64_t)size * 1100 + (1u << 20);
    if (max_alloc > ((uint64_t)1 << 31)) max_alloc = (uint64_t)1 << 31;
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)max_alloc);
    // "rm": read-only, memory-mapped through our map proc (so no copies of strips are made).
    t->tif = TIFFClientOpenExt("memory", "rm", (thandle_t)t, mims_tiff_read, mims_tiff_write,
                               mims_tiff_seek, mims_tiff_close_proc, mims_tiff_size, mims_tiff_map,
                               mims_tiff_unmap, options);
    TIFFOpenOptionsFree(options);
    if (!t->tif) {
        int status = mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "cannot open TIFF", message,
                                    message_capacity);
        free(t);
        return status;
    }
    *out = t;
    return MIMS_CODEC_OK;
}

void mims_tiff_close(mims_tiff *t) {
    if (!t) return;
    if (t->tif) TIFFClose(t->tif);
    if (t->inflater) libdeflate_free_decompressor(t->inflater);
    free(t);
}

int mims_tiff_page_count(mims_tiff *t, uint32_t *count, char *message, size_t message_capacity) {
    t->message[0] = 0;
    tdir_t n = TIFFNumberOfDirectories(t->tif);
    if (t->message[0]) {
        return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "cannot count TIFF pages", message,
                              message_capacity);
    }
    *count = n;
    return MIMS_CODEC_OK;
}

/// Copies `rows` x `cols` samples of one band (or all bands when `band` < 0) from a decoded strip or
/// tile into the output image.
static void mims_tiff_place(uint8_t *image, uint32_t image_width, uint32_t channels,
                            uint32_t bytes_per_sample, const uint8_t *block, uint32_t block_width,
                            uint32_t x0, uint32_t y0, uint32_t cols, uint32_t rows, int band) {
    size_t pixel_bytes = (size_t)channels * bytes_per_sample;
    for (uint32_t r = 0; r < rows; r++) {
        uint8_t *dst = image + ((size_t)(y0 + r) * image_width + x0) * pixel_bytes;
        if (band < 0) {
            memcpy(dst, block + (size_t)r * block_width * pixel_bytes, (size_t)cols * pixel_bytes);
        } else {
            const uint8_t *src = block + (size_t)r * block_width * bytes_per_sample;
            for (uint32_t c = 0; c < cols; c++) {
                memcpy(dst + (size_t)c * pixel_bytes + (size_t)band * bytes_per_sample,
                       src + (size_t)c * bytes_per_sample, bytes_per_sample);
            }
        }
    }
}

int mims_tiff_decode_page(mims_tiff *t, uint32_t page, mims_decode_limits limits, mims_image *out,
                          char *message, size_t message_capacity) {
    memset(out, 0, sizeof(*out));
    t->message[0] = 0;
    TIFF *tif = t->tif;
    if (!TIFFSetDirectory(tif, (tdir_t)page)) {
        return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "cannot read TIFF page", message,
                              message_capacity);
    }
    uint32_t width = 0, height = 0;
    uint16_t bits = 1, spp = 1, photometric = 0, planar = PLANARCONFIG_CONTIG, format = 1;
    uint16_t compression = COMPRESSION_NONE;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) ||
        !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height)) {
        return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "TIFF page has no image size", message,
                              message_capacity);
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) {
        photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    }
    if (compression == COMPRESSION_OJPEG) {
        mims_set_message(message, message_capacity,
                         "old-style JPEG-in-TIFF (compression 6, withdrawn in 1995) is not supported; "
                         "re-save the image as a current TIFF (JPEG compression 7) or PNG");
        return MIMS_CODEC_UNSUPPORTED;
    }
    if (photometric == PHOTOMETRIC_PALETTE && spp > 1) {
        mims_set_message(message, message_capacity,
                         "palette TIFF with %u samples per pixel (an extra, e.g. alpha, sample beside the "
                         "palette index) is not supported", spp);
        return MIMS_CODEC_UNSUPPORTED;
    }
    if (bits != 8 && bits != 16) {
        mims_set_message(message, message_capacity,
                         "unsupported TIFF bits per sample %u (8 and 16 are supported)", bits);
        return MIMS_CODEC_UNSUPPORTED;
    }
    if (format != SAMPLEFORMAT_UINT) {
        mims_set_message(message, message_capacity,
                         "unsupported TIFF sample format %u (unsigned integers are supported)", format);
        return MIMS_CODEC_UNSUPPORTED;
    }
    if (spp < 1 || spp > 4) {
        mims_set_message(message, message_capacity, "unsupported TIFF samples per pixel %u", spp);
        return MIMS_CODEC_UNSUPPORTED;
    }
    uint32_t flags = 0;
    int palette = 0;
    switch (photometric) {
    case PHOTOMETRIC_MINISBLACK: break;
    case PHOTOMETRIC_MINISWHITE: flags |= MIMS_IMAGE_INVERTED; break;
    case PHOTOMETRIC_RGB: break;
    case PHOTOMETRIC_PALETTE:
        if (bits != 8 || spp != 1) {
            mims_set_message(message, message_capacity, "unsupported %u-bit palette TIFF", bits);
            return MIMS_CODEC_UNSUPPORTED;
        }
        palette = 1;
        flags |= MIMS_IMAGE_FROM_PALETTE;
        break;
    case PHOTOMETRIC_YCBCR:
        if (compression != COMPRESSION_JPEG) {
            mims_set_message(message, message_capacity,
                             "unsupported TIFF: YCbCr is supported only with JPEG compression");
            return MIMS_CODEC_UNSUPPORTED;
        }
        // libtiff's JPEG codec converts to RGB itself when asked.
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        break;
    default:
        mims_set_message(message, message_capacity, "unsupported TIFF photometric interpretation %u",
                         photometric);
        return MIMS_CODEC_UNSUPPORTED;
    }
    if ((photometric == PHOTOMETRIC_RGB || photometric == PHOTOMETRIC_YCBCR) && spp < 3) {
        mims_set_message(message, message_capacity, "TIFF declares RGB with %u samples per pixel", spp);
        return MIMS_CODEC_CORRUPT;
    }
    uint32_t bytes_per_sample = bits / 8;
    uint32_t channels = spp;
    int status = mims_check_limits(width, height, palette ? 3 : channels, bytes_per_sample, limits,
                                   message, message_capacity);
    if (status != MIMS_CODEC_OK) return status;
    // After the size limits (a huge declared size is the clearer reason), before any strip is read.
    if (t->damage[0]) return mims_tiff_damaged(t, message, message_capacity);
    if (planar != PLANARCONFIG_CONTIG && planar != PLANARCONFIG_SEPARATE) {
        mims_set_message(message, message_capacity, "unsupported TIFF planar configuration %u", planar);
        return MIMS_CODEC_UNSUPPORTED;
    }
    int separate = planar == PLANARCONFIG_SEPARATE && spp > 1;
    int deflated = compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_DEFLATE;
    size_t image_bytes = (size_t)width * height * channels * bytes_per_sample;
    uint8_t *image = (uint8_t *)calloc(1, image_bytes);
    if (!image) {
        mims_set_message(message, message_capacity, "out of memory for %ux%u pixels", width, height);
        return MIMS_CODEC_NO_MEMORY;
    }
    uint32_t bands = separate ? spp : 1;
    int band_arg_base = separate ? 0 : -1;
    uint8_t *block = NULL;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        tmsize_t tile_size = TIFFTileSize(tif);
        size_t need = (size_t)tw * th * (separate ? 1 : channels) * bytes_per_sample;
        if (tw == 0 || th == 0 || tile_size <= 0 || (size_t)tile_size < need) {
            free(image);
            return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "TIFF declares an invalid tile size", message,
                                  message_capacity);
        }
        block = (uint8_t *)malloc((size_t)tile_size);
        if (!block) {
            free(image);
            return MIMS_CODEC_NO_MEMORY;
        }
        for (uint32_t b = 0; b < bands; b++) {
            for (uint32_t y = 0; y < height; y += th) {
                for (uint32_t x = 0; x < width; x += tw) {
                    ttile_t index = TIFFComputeTile(tif, x, y, 0, (uint16_t)b);
                    if (deflated && !mims_tiff_deflate_fits(t, index, 1, tile_size)) {
                        free(block);
                        free(image);
                        return mims_tiff_oversized(message, message_capacity, "tile", index, tile_size, tw, th, spp);
                    }
                    if (TIFFReadEncodedTile(tif, index, block, tile_size) < 0) {
                        free(block);
                        free(image);
                        return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "cannot decode TIFF tile",
                                              message, message_capacity);
                    }
                    uint32_t cols = width - x < tw ? width - x : tw;
                    uint32_t rows = height - y < th ? height - y : th;
                    mims_tiff_place(image, width, channels, bytes_per_sample, block, tw, x, y, cols,
                                    rows, separate ? (int)b : band_arg_base);
                }
            }
        }
    } else {
        uint32_t rows_per_strip = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
        if (rows_per_strip == 0 || rows_per_strip > height) rows_per_strip = height;
        tmsize_t strip_size = TIFFStripSize(tif);
        size_t need = (size_t)width * rows_per_strip * (separate ? 1 : channels) * bytes_per_sample;
        if (strip_size <= 0 || (size_t)strip_size < need) {
            free(image);
            return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "TIFF declares an invalid strip size",
                                  message, message_capacity);
        }
        block = (uint8_t *)malloc((size_t)strip_size);
        if (!block) {
            free(image);
            return MIMS_CODEC_NO_MEMORY;
        }
        for (uint32_t b = 0; b < bands; b++) {
            for (uint32_t y = 0; y < height; y += rows_per_strip) {
                tstrip_t index = TIFFComputeStrip(tif, y, (uint16_t)b);
                uint32_t rows = height - y < rows_per_strip ? height - y : rows_per_strip;
                // The last strip holds fewer rows: bound it by what libtiff sizes those rows at.
                tmsize_t bound = rows == rows_per_strip ? strip_size : TIFFVStripSize(tif, rows);
                if (deflated && !mims_tiff_deflate_fits(t, index, 0, bound)) {
                    free(block);
                    free(image);
                    return mims_tiff_oversized(message, message_capacity, "strip", index, bound, width, rows, spp);
                }
                tmsize_t expected = (tmsize_t)((size_t)width * rows * (separate ? 1 : channels) *
                                               bytes_per_sample);
                tmsize_t got = TIFFReadEncodedStrip(tif, index, block, expected);
                if (got < expected) {
                    free(block);
                    free(image);
                    return mims_tiff_fail(t, MIMS_CODEC_CORRUPT,
                                          got < 0 ? "cannot decode TIFF strip" : "TIFF strip is short",
                                          message, message_capacity);
                }
                mims_tiff_place(image, width, channels, bytes_per_sample, block, width, 0, y, width,
                                rows, separate ? (int)b : band_arg_base);
            }
        }
    }
    free(block);

    if (photometric == PHOTOMETRIC_MINISWHITE) {
        // Only the color samples are inverted; an extra (alpha) sample keeps its meaning.
        size_t pixels = (size_t)width * height;
        for (size_t i = 0; i < pixels; i++) {
            if (bytes_per_sample == 1) {
                image[i * channels] = (uint8_t)(255 - image[i * channels]);
            } else {
                uint16_t *p = (uint16_t *)image + i * channels;
                *p = (uint16_t)(65535 - *p);
            }
        }
    }
    if (palette) {
        uint16_t *red = NULL, *green = NULL, *blue = NULL;
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue)) {
            free(image);
            return mims_tiff_fail(t, MIMS_CODEC_CORRUPT, "palette TIFF has no color map", message,
                                  message_capacity);
        }
        size_t pixels = (size_t)width * height;
        uint8_t *rgb = (uint8_t *)malloc(pixels * 3);
        if (!rgb) {
            free(image);
            return MIMS_CODEC_NO_MEMORY;
        }
        // The color map has 2^bits 16-bit entries; 8-bit values are their high bytes.
        for (size_t i = 0; i < pixels; i++) {
            uint8_t v = image[i];
            rgb[3 * i] = (uint8_t)(red[v] >> 8);
            rgb[3 * i + 1] = (uint8_t)(green[v] >> 8);
            rgb[3 * i + 2] = (uint8_t)(blue[v] >> 8);
        }
        free(image);
        image = rgb;
        channels = 3;
        image_bytes = pixels * 3;
    }
    if (t->damage[0]) {
        free(image);
        return mims_tiff_damaged(t, message, message_capacity);
    }
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = bits;
    out->pixels = image;
    out->byte_count = image_bytes;
    out->flags = flags;
    return MIMS_CODEC_OK;
}
