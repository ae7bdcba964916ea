import CKernels

/// Allocator settings for programs that churn through large, same-sized buffers (decoded frames,
/// compressed chunks): glibc serves blocks above 128 KiB with a fresh mmap each time, so every
/// frame would cost page faults, zeroing and an munmap. Keeping such blocks in the heap lets them
/// be reused; memory stays bounded by the peak that is actually in use.
public enum MemoryTuning {
    public static func apply() {
        _ = mims_tune_allocator(32 << 20, 512 << 20, 1)
    }

    /// For training: a step allocates and frees the same few gigabytes of activations and
    /// gradients every time, most of them above glibc's 32 MiB mmap ceiling. Serving every block
    /// from the heap and never trimming it keeps those pages mapped, so later steps reuse them
    /// instead of faulting in and zeroing fresh ones; the resident size stays at the first step's peak.
    public static func applyForTraining() {
        _ = mims_tune_allocator(0, .max, 0)
    }
}
