#ifndef MIMS_CTIFF_SHIM_H
#define MIMS_CTIFF_SHIM_H
#include <tiffio.h>
#endif
