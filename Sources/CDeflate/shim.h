#ifndef MIMS_CDEFLATE_SHIM_H
#define MIMS_CDEFLATE_SHIM_H
// libdeflate: whole-buffer deflate in zlib format, 2-3x faster than zlib at the same level. Debian's
// libtiff-dev already depends on libdeflate-dev.
#include <libdeflate.h>
#endif
