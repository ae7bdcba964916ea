import Dispatch
import Foundation

/// Order-preserving parallel maps for CPU-bound work that touches no shared state (decoding,
/// converting, compressing). HDF5 calls stay on the calling thread.
public enum Parallel {
    /// Worker threads for data-parallel passes: every core the process may use. (A `--threads`
    /// option can set it before any work starts.)
    nonisolated(unsafe) public static var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// `body(i)` for every i in 0..<count, on all cores; results in index order.
    public static func map<R: Sendable>(_ count: Int, _ body: @Sendable (Int) -> R) -> [R] {
        if count <= 1 { return (0..<count).map(body) }
        let results = Slots<R>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { results.set($0, body($0)) }
        return results.values()
    }

    /// `body` on `parts` contiguous ranges covering 0..<count; results in range order.
    public static func mapRanges<R: Sendable>(count: Int, parts: Int, _ body: @Sendable (Range<Int>) -> R) -> [R] {
        let parts = max(1, min(parts, count))
        return map(parts) { part in body((part * count / parts)..<((part + 1) * count / parts)) }
    }
}

/// One write-once slot per index; each index is written by exactly one iteration.
private final class Slots<R>: @unchecked Sendable {
    private var slots: [R?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: R) { slots.withUnsafeMutableBufferPointer { $0[index] = value } }
    func values() -> [R] { slots.map { $0! } }
}
