import CKernels

/// Allocator settings for programs that churn through large, same-sized buffers (decoded frames,
/// compressed chunks): glibc serves blocks above 128 KiB with a fresh mmap each time, so every
/// frame would cost page faults, zeroing and an munmap. Keeping such blocks in the heap lets them
/// be reused; memory stays bounded by the peak that is actually in use.
public enum MemoryTuning {
    public static func apply() {
        mims_tune_allocator(256 << 20, 512 << 20)
    }
}
