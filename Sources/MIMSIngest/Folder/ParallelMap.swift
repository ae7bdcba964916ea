import Dispatch

/// Maps on all cores, keeping order. For CPU-bound work that touches no shared state (decoding,
/// resizing, compressing); HDF5 calls stay on the calling thread.
enum ParallelMap {
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let results = ResultSlots<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { index in
            results.set(index, transform(items[index]))
        }
        return results.values()
    }
}

/// Write-once slots, one per index; each index is written by exactly one iteration.
private final class ResultSlots<R>: @unchecked Sendable {
    private var slots: [R?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: R) {
        slots.withUnsafeMutableBufferPointer { $0[index] = value }
    }
    func values() -> [R] { slots.map { $0! } }
}
