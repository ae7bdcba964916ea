#ifndef MIMS_CODECS_INTERNAL_H
#define MIMS_CODECS_INTERNAL_H
#include "mims_codecs.h"

void mims_set_message(char *message, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/// Checks a declared size against the limits before anything is allocated.
int mims_check_limits(uint64_t width, uint64_t height, uint64_t channels, uint64_t bytes_per_sample,
                      mims_decode_limits limits, char *message, size_t capacity);

/// Pillow's CMYK to RGB rule: out = (255 - k) - round(c * (255 - k) / 255).
static inline uint8_t mims_cmyk_channel(unsigned c, unsigned k) {
    unsigned nk = 255 - k;
    unsigned t = c * nk + 128;
    return (uint8_t)(nk - ((t + (t >> 8)) >> 8));
}
#endif
