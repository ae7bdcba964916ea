import Foundation
import MIMSCore

/// Splits per-frame work of large volumes over the cores: each frame's conversion is independent,
/// and memory bandwidth, not one core, is the limit the readers should meet.
enum ParallelFrames {
    /// Calls `body` on contiguous frame ranges covering 0..<count, concurrently when the volume is
    /// large enough for threads to pay off. Returns the per-range results in range order.
    static func map<R: Sendable>(count: Int, bytesPerFrame: Int, _ body: @Sendable (Range<Int>) -> R) -> [R] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let parts = count * bytesPerFrame < (4 << 20) ? 1 : cores
        return Parallel.mapRanges(count: count, parts: parts, body)
    }
}

/// Raw memory handed to worker threads that each touch a disjoint part of it.
typealias SharedPointer = SendablePointer<UInt8>

extension Array where Element == UInt8 {
    /// Makes the array exactly `count` bytes long, reusing its storage when the count already
    /// matches (the contents are then overwritten by the caller).
    mutating func prepare(count: Int) {
        if self.count == count { return }
        self = [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
