// A fast path for the common PNG: 8-bit gray, gray+alpha, RGB or RGBA, not interlaced, no
// transparency chunk. The IDAT stream is inflated in one call with libdeflate (2-3x faster than
// zlib's streaming inflate) and unfiltered here. Anything else, and anything unusual or damaged,
// returns MIMS_PNG_FAST_DECLINED so that libpng decodes the file (and reports its errors).
#include "mims_codecs.h"
#include "internal.h"
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

enum { MIMS_PNG_FAST_DECLINED = -1 };

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
    int p = (int)a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/// Undoes the per-row filters in place: `rows` holds height rows of 1 filter byte + row_bytes.
static int unfilter(uint8_t *rows, uint8_t *out, size_t row_bytes, uint32_t height, unsigned bpp) {
    const uint8_t *prev = NULL;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *src = rows + (size_t)y * (row_bytes + 1);
        uint8_t filter = src[0];
        src += 1;
        uint8_t *dst = out + (size_t)y * row_bytes;
        switch (filter) {
        case 0:
            memcpy(dst, src, row_bytes);
            break;
        case 1:
            memcpy(dst, src, bpp);
            for (size_t i = bpp; i < row_bytes; i++) dst[i] = (uint8_t)(src[i] + dst[i - bpp]);
            break;
        case 2:
            if (!prev) { memcpy(dst, src, row_bytes); break; }
            for (size_t i = 0; i < row_bytes; i++) dst[i] = (uint8_t)(src[i] + prev[i]);
            break;
        case 3:
            for (size_t i = 0; i < row_bytes; i++) {
                unsigned left = i >= bpp ? dst[i - bpp] : 0, up = prev ? prev[i] : 0;
                dst[i] = (uint8_t)(src[i] + ((left + up) >> 1));
            }
            break;
        case 4:
            for (size_t i = 0; i < row_bytes; i++) {
                uint8_t a = i >= bpp ? dst[i - bpp] : 0, b = prev ? prev[i] : 0, c = (prev && i >= bpp) ? prev[i - bpp] : 0;
                dst[i] = (uint8_t)(src[i] + paeth(a, b, c));
            }
            break;
        default:
            return -1;
        }
        prev = dst;
    }
    return 0;
}

static __thread struct libdeflate_decompressor *tls_decompressor;

int mims_png_decode_fast(const uint8_t *data, size_t size, mims_decode_limits limits, mims_image *out,
                         char *message, size_t message_capacity) {
    memset(out, 0, sizeof(*out));
    if (size < 8 + 25 || memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) return MIMS_PNG_FAST_DECLINED;
    const uint8_t *ihdr = data + 8;
    if (be32(ihdr) != 13 || memcmp(ihdr + 4, "IHDR", 4) != 0) return MIMS_PNG_FAST_DECLINED;
    if (libdeflate_crc32(0, ihdr + 4, 17) != be32(ihdr + 21)) return MIMS_PNG_FAST_DECLINED;
    uint32_t width = be32(ihdr + 8), height = be32(ihdr + 12);
    uint8_t depth = ihdr[16], color = ihdr[17], compression = ihdr[18], filter = ihdr[19], interlace = ihdr[20];
    unsigned channels = color == 0 ? 1 : color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 0;
    if (depth != 8 || channels == 0 || compression != 0 || filter != 0 || interlace != 0) return MIMS_PNG_FAST_DECLINED;
    if (width == 0 || height == 0 || width > 1000000 || height > 1000000) return MIMS_PNG_FAST_DECLINED;
    if (mims_check_limits(width, height, channels, 1, limits, message, message_capacity) != MIMS_CODEC_OK) {
        return MIMS_PNG_FAST_DECLINED;  // libpng reports it with the same check
    }
    // Gather the IDAT payloads; any other critical chunk, a tRNS, a bad CRC or a truncated chunk
    // declines.
    size_t offset = 8 + 25, idat_total = 0;
    int seen_end = 0;
    size_t first_idat = 0, idat_chunks = 0;
    while (offset + 12 <= size) {
        uint32_t length = be32(data + offset);
        const uint8_t *type = data + offset + 4;
        if (length > size - offset - 12) return MIMS_PNG_FAST_DECLINED;
        if (memcmp(type, "IDAT", 4) == 0) {
            if (libdeflate_crc32(0, type, 4 + (size_t)length) != be32(type + 4 + length)) return MIMS_PNG_FAST_DECLINED;
            if (idat_chunks == 0) first_idat = offset;
            idat_chunks++;
            idat_total += length;
        } else if (memcmp(type, "IEND", 4) == 0) {
            seen_end = 1;
            break;
        } else if (memcmp(type, "tRNS", 4) == 0 || memcmp(type, "PLTE", 4) == 0 || !(type[0] & 0x20)) {
            return MIMS_PNG_FAST_DECLINED;  // transparency, palette or an unknown critical chunk
        } else if (idat_chunks > 0) {
            return MIMS_PNG_FAST_DECLINED;  // IDATs must be consecutive
        }
        offset += 12 + (size_t)length;
    }
    if (!seen_end || idat_chunks == 0) return MIMS_PNG_FAST_DECLINED;
    const uint8_t *stream = data + first_idat + 8;
    uint8_t *joined = NULL;
    if (idat_chunks > 1) {
        joined = (uint8_t *)malloc(idat_total);
        if (!joined) return MIMS_PNG_FAST_DECLINED;
        size_t at = first_idat, filled = 0;
        for (size_t k = 0; k < idat_chunks; k++) {
            uint32_t length = be32(data + at);
            memcpy(joined + filled, data + at + 8, length);
            filled += length;
            at += 12 + (size_t)length;
        }
        stream = joined;
    }
    size_t row_bytes = (size_t)width * channels;
    size_t filtered_size = (row_bytes + 1) * height;
    uint8_t *filtered = (uint8_t *)malloc(filtered_size);
    uint8_t *pixels = (uint8_t *)malloc(row_bytes * height);
    if (!tls_decompressor) tls_decompressor = libdeflate_alloc_decompressor();
    size_t produced = 0;
    int ok = filtered && pixels && tls_decompressor &&
             libdeflate_zlib_decompress(tls_decompressor, stream, idat_total, filtered, filtered_size, &produced) == LIBDEFLATE_SUCCESS &&
             produced == filtered_size && unfilter(filtered, pixels, row_bytes, height, channels) == 0;
    free(joined);
    free(filtered);
    if (!ok) {
        free(pixels);
        return MIMS_PNG_FAST_DECLINED;
    }
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = pixels;
    out->byte_count = row_bytes * height;
    out->flags = 0;
    return MIMS_CODEC_OK;
}
