#include "mims_svg_raster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

typedef struct {
    unsigned char *bytes;
    size_t length, capacity;
    int failed;
} buffer_t;

static cairo_status_t append(void *closure, const unsigned char *data, unsigned int length) {
    buffer_t *b = closure;
    if (b->length + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 1 << 16;
        while (capacity < b->length + length) capacity *= 2;
        unsigned char *grown = realloc(b->bytes, capacity);
        if (!grown) { b->failed = 1; return CAIRO_STATUS_NO_MEMORY; }
        b->bytes = grown;
        b->capacity = capacity;
    }
    memcpy(b->bytes + b->length, data, length);
    b->length += length;
    return CAIRO_STATUS_SUCCESS;
}

static int fail(char *error, size_t capacity, const char *what, GError *cause) {
    snprintf(error, capacity, "%s%s%s", what, cause ? ": " : "", cause ? cause->message : "");
    if (cause) g_error_free(cause);
    return -1;
}

int mims_svg_to_png(const char *svg, size_t length, double scale, unsigned char **png, size_t *png_length,
                    char *error, size_t error_capacity) {
    *png = NULL;
    *png_length = 0;
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
        buffer_t out = {0};
        cairo_surface_flush(surface);
        if (cairo_surface_write_to_png_stream(surface, append, &out) != CAIRO_STATUS_SUCCESS || out.failed) {
            free(out.bytes);
            status = fail(error, error_capacity, "cairo could not encode the PNG", NULL);
        } else {
            *png = out.bytes;
            *png_length = out.length;
        }
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    g_object_unref(handle);
    return status;
}

void mims_svg_free(unsigned char *png) { free(png); }
