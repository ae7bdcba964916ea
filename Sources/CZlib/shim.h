#ifndef MIMS_CZLIB_SHIM_H
#define MIMS_CZLIB_SHIM_H
#include <zlib.h>
#endif
