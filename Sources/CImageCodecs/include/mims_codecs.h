// Thin C wrappers over libjpeg, libpng, libtiff and OpenJPEG.
//
// libjpeg and libpng report fatal errors by longjmp, which must never cross a Swift frame, and libtiff
// reports through varargs handlers that Swift cannot write. Every function here catches those inside C
// and returns a status code plus a message, so the Swift side sees ordinary return values.
#ifndef MIMS_CODECS_H
#define MIMS_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every function in this header.
enum {
    MIMS_CODEC_OK = 0,
    MIMS_CODEC_CORRUPT = 1,       ///< the data is damaged or truncated
    MIMS_CODEC_UNSUPPORTED = 2,   ///< valid, but a kind this decoder does not handle
    MIMS_CODEC_TOO_LARGE = 3,     ///< the declared size exceeds the limits or what the data can hold
    MIMS_CODEC_NO_MEMORY = 4,
    MIMS_CODEC_BAD_ARGUMENT = 5,
};

/// Bounds a decoder checks before it allocates the output.
typedef struct {
    uint64_t max_pixels;        ///< width * height
    uint64_t max_output_bytes;  ///< width * height * channels * bytes per sample
} mims_decode_limits;

/// A decoded image: interleaved samples, rows top to bottom, 8- or 16-bit (native-endian uint16).
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint32_t bit_depth;
    uint8_t *pixels;     ///< malloc'd; release with mims_codec_free
    size_t byte_count;
    uint32_t flags;      ///< MIMS_IMAGE_* bits describing what the decoder converted
} mims_image;

enum {
    MIMS_IMAGE_FROM_CMYK = 1,      ///< the source was CMYK or YCCK and was converted to RGB
    MIMS_IMAGE_FROM_PALETTE = 2,   ///< palette indices were expanded to RGB(A)
    MIMS_IMAGE_INVERTED = 4,       ///< a min-is-white source was inverted to min-is-black
};

void mims_codec_free(void *pointer);

/// Decodes a baseline or progressive JPEG: gray stays 1 channel, YCbCr/RGB become RGB, CMYK and YCCK
/// become RGB with Pillow's rule (R = (255-K) - round(C*(255-K)/255)). Truncated data is an error.
int mims_jpeg_decode(const uint8_t *data, size_t size, mims_decode_limits limits,
                     mims_image *out, char *message, size_t message_capacity);

/// Encodes 8-bit gray or RGB as a baseline JPEG (4:2:0 for RGB) into a malloc'd buffer.
int mims_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                     uint8_t **out, size_t *out_size, char *message, size_t message_capacity);

/// Decodes any PNG: palette expanded to RGB(A), gray below 8 bits expanded to 8, tRNS to alpha,
/// 16-bit kept as 16-bit, Adam7 de-interlaced.
int mims_png_decode(const uint8_t *data, size_t size, mims_decode_limits limits,
                    mims_image *out, char *message, size_t message_capacity);

/// Encodes 8- or 16-bit gray, gray+alpha, RGB or RGBA as PNG into a malloc'd buffer.
int mims_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    uint32_t bit_depth, int compression_level, uint8_t **out, size_t *out_size,
                    char *message, size_t message_capacity);

/// Decodes a JPEG 2000 codestream (J2K) or JP2 file with OpenJPEG in strict mode (truncated data is an
/// error): 1 or 3 unsigned components of 1-16 bits, not subsampled. Up to 8 bits give 8-bit samples,
/// more give 16-bit samples holding the values as coded; `precision` receives the coded bit count.
int mims_j2k_decode(const uint8_t *data, size_t size, mims_decode_limits limits, mims_image *out,
                    uint32_t *precision, char *message, size_t message_capacity);

/// Encodes 8- or 16-bit gray or RGB as a lossless (reversible 5/3) JPEG 2000 codestream into a
/// malloc'd buffer.
int mims_j2k_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                    uint8_t **out, size_t *out_size, char *message, size_t message_capacity);

/// An open TIFF over a memory buffer that must outlive it.
typedef struct mims_tiff mims_tiff;

int mims_tiff_open(const uint8_t *data, size_t size, mims_tiff **out,
                   char *message, size_t message_capacity);
/// Number of pages (IFDs); a directory loop is an error.
int mims_tiff_page_count(mims_tiff *tiff, uint32_t *count, char *message, size_t message_capacity);
/// Decodes one page: 8/16-bit gray, gray+alpha, RGB, RGBA, palette; stripped or tiled; contiguous or
/// planar; any compression libtiff was built with (none, LZW, deflate, packbits, JPEG, ...).
int mims_tiff_decode_page(mims_tiff *tiff, uint32_t page, mims_decode_limits limits,
                          mims_image *out, char *message, size_t message_capacity);
void mims_tiff_close(mims_tiff *tiff);

#ifdef __cplusplus
}
#endif
#endif
