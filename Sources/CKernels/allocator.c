#include "mims_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void mims_tune_allocator(size_t mmap_threshold, size_t trim_threshold) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
#else
    (void)mmap_threshold;
    (void)trim_threshold;
#endif
}
