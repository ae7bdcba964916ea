#include "mims_svg_raster.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

static int fail(char *error, size_t capacity, const char *what, GError *cause) {
    snprintf(error, capacity, "%s%s%s", what, cause ? ": " : "", cause ? cause->message : "");
    if (cause) g_error_free(cause);
    return -1;
}

int mims_svg_render(const char *svg, size_t length, double scale, unsigned char **rgb, int *out_width, int *out_height,
                    char *error, size_t error_capacity) {
    *rgb = NULL;
    *out_width = *out_height = 0;
    GError *cause = NULL;
    // No base file: a reference outside the document cannot be resolved, so nothing else is read.
    RsvgHandle *handle = rsvg_handle_new_from_data((const guint8 *)svg, length, &cause);
    if (!handle) return fail(error, error_capacity, "not an SVG document librsvg can read", cause);
    gdouble width = 0, height = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(handle, &width, &height) || width <= 0 || height <= 0) {
        g_object_unref(handle);
        return fail(error, error_capacity, "the SVG has no width and height in pixels", NULL);
    }
    int w = (int)ceil(width * scale), h = (int)ceil(height * scale);
    if (w <= 0 || h <= 0 || w > 20000 || h > 20000) {
        g_object_unref(handle);
        return fail(error, error_capacity, "the rendered size is outside 1 to 20000 pixels", NULL);
    }
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(surface);
    // White underneath, as the charts' own background rectangle is.
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    RsvgRectangle viewport = {0, 0, w, h};
    int status = 0;
    if (!rsvg_handle_render_document(handle, cr, &viewport, &cause)) {
        status = fail(error, error_capacity, "librsvg could not render the SVG", cause);
    } else {
        cairo_surface_flush(surface);
        unsigned char *pixels = malloc((size_t)w * (size_t)h * 3);
        if (!pixels) {
            status = fail(error, error_capacity, "out of memory for the rendered image", NULL);
        } else {
            // RGB24 is one native-endian 32-bit word per pixel, 0x00RRGGBB.
            const unsigned char *data = cairo_image_surface_get_data(surface);
            int stride = cairo_image_surface_get_stride(surface);
            for (int y = 0; y < h; y++) {
                const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
                unsigned char *out = pixels + (size_t)y * w * 3;
                for (int x = 0; x < w; x++) {
                    out[3 * x] = (unsigned char)(row[x] >> 16);
                    out[3 * x + 1] = (unsigned char)(row[x] >> 8);
                    out[3 * x + 2] = (unsigned char)row[x];
                }
            }
            *rgb = pixels;
            *out_width = w;
            *out_height = h;
        }
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    g_object_unref(handle);
    return status;
}

void mims_svg_free(unsigned char *rgb) { free(rgb); }
