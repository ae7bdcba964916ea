#ifndef MIMS_CPNG_SHIM_H
#define MIMS_CPNG_SHIM_H
#include <png.h>
#endif
