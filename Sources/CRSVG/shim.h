#ifndef MIMS_CRSVG_SHIM_H
#define MIMS_CRSVG_SHIM_H
// librsvg (Debian's librsvg2-dev) renders the report's SVG charts to PNG at print resolution with
// real fonts (Pango, fontconfig), so each chart is drawn once, as SVG. Only CSVGRaster includes it.
#include <librsvg/rsvg.h>
#include <cairo.h>
#endif
