#include "mims_codecs.h"
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void mims_codec_free(void *pointer) { free(pointer); }

void mims_set_message(char *message, size_t capacity, const char *format, ...) {
    if (!message || capacity == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(message, capacity, format, args);
    va_end(args);
}

int mims_check_limits(uint64_t width, uint64_t height, uint64_t channels, uint64_t bytes_per_sample,
                      mims_decode_limits limits, char *message, size_t capacity) {
    if (width == 0 || height == 0) {
        mims_set_message(message, capacity, "image declares zero size (%llux%llu)",
                         (unsigned long long)width, (unsigned long long)height);
        return MIMS_CODEC_CORRUPT;
    }
    uint64_t pixels = width * height;  // both < 2^32, so no overflow
    if (pixels > limits.max_pixels) {
        mims_set_message(message, capacity, "image declares %llux%llu pixels, more than the limit of %llu",
                         (unsigned long long)width, (unsigned long long)height,
                         (unsigned long long)limits.max_pixels);
        return MIMS_CODEC_TOO_LARGE;
    }
    if (pixels > UINT64_MAX / 8 || pixels * channels * bytes_per_sample > limits.max_output_bytes) {
        mims_set_message(message, capacity,
                         "image declares %llux%llu pixels x %llu channels, more than the file's %llu "
                         "bytes can hold",
                         (unsigned long long)width, (unsigned long long)height,
                         (unsigned long long)channels, (unsigned long long)limits.max_output_bytes);
        return MIMS_CODEC_TOO_LARGE;
    }
    return MIMS_CODEC_OK;
}
