#ifndef MIMS_SVG_RASTER_H
#define MIMS_SVG_RASTER_H
#include <stddef.h>

/// Renders the SVG document `svg` (`length` bytes, standalone: it may embed data-URI images but
/// references nothing outside) at `scale` times its intrinsic pixel size, on white, into *rgb:
/// *height rows of *width RGB pixels (free with mims_svg_free). Returns 0, or -1 with a message in
/// `error`. The caller encodes the pixels (the project's PNG encoder picks its own compression level;
/// cairo's PNG writer spent most of a report's time compressing).
int mims_svg_render(const char *svg, size_t length, double scale, unsigned char **rgb, int *width, int *height,
                    char *error, size_t error_capacity);

void mims_svg_free(unsigned char *rgb);
#endif
