import MIMSCore

/// A raw pointer handed to parallel workers that each touch disjoint elements.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// Splits independent channel work across the cores (two here), in contiguous blocks.
enum ChannelParallel {
    static func map<R: Sendable>(_ count: Int, _ body: @Sendable (Int) -> R) -> [R] {
        if count < 8 { return (0..<count).map(body) }
        return Parallel.mapRanges(count: count, parts: 2) { range in range.map(body) }.flatMap { $0 }
    }
}

/// Splits an elementwise pass over `count` values into two halves on the two cores when it is
/// large enough to pay for the hand-off (these passes are bound by memory bandwidth, which one
/// core alone does not saturate).
enum ElementwiseParallel {
    static func run(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        if count < 1 << 16 { return body(0..<count) }
        _ = Parallel.mapRanges(count: count, parts: 2, body)
    }
}
