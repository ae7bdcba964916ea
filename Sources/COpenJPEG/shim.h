#ifndef MIMS_COPENJPEG_SHIM_H
#define MIMS_COPENJPEG_SHIM_H
#include <openjpeg.h>
#endif
