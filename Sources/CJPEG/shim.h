#ifndef MIMS_CJPEG_SHIM_H
#define MIMS_CJPEG_SHIM_H
#include <stdio.h>
#include <jpeglib.h>
#endif
