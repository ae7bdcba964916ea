#include "mims_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int mims_tune_allocator(size_t mmap_threshold, size_t trim_threshold, int use_mmap) {
#if defined(__GLIBC__)
    int ok = 1;
    /* glibc caps the mmap threshold at 32 MiB on 64-bit; above that mallopt refuses. */
    if (use_mmap) ok &= mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    else ok &= mallopt(M_MMAP_MAX, 0);
    /* -1 turns trimming off (glibc reads the int as size_t). */
    ok &= mallopt(M_TRIM_THRESHOLD, trim_threshold > 0x7fffffff ? -1 : (int)trim_threshold);
    return ok;
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    (void)use_mmap;
    return 0;
#endif
}
