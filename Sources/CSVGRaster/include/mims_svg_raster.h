#ifndef MIMS_SVG_RASTER_H
#define MIMS_SVG_RASTER_H
#include <stddef.h>

/// Renders the SVG document `svg` (`length` bytes, standalone: it may embed data-URI images but
/// references nothing outside) at `scale` times its intrinsic pixel size to PNG bytes in *png
/// (free with mims_svg_free). Returns 0, or -1 with a message in `error`.
int mims_svg_to_png(const char *svg, size_t length, double scale, unsigned char **png, size_t *png_length,
                    char *error, size_t error_capacity);

void mims_svg_free(unsigned char *png);
#endif
