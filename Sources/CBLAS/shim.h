#ifndef MIMS_CBLAS_SHIM_H
#define MIMS_CBLAS_SHIM_H
// OpenBLAS's cblas.h declares openblas_get_corename/openblas_get_config/openblas_set_num_threads.
#include <cblas.h>
#endif
