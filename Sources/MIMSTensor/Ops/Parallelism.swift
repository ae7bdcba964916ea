import MIMSCore

/// Splits an elementwise pass over `count` values into one block per core when it is
/// large enough to pay for the hand-off (these passes are bound by memory bandwidth, which one
/// core alone does not saturate).
enum ElementwiseParallel {
    static func run(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        if count < 1 << 16 { return body(0..<count) }
        _ = Parallel.mapRanges(count: count, parts: Parallel.workers, body)
    }
}
