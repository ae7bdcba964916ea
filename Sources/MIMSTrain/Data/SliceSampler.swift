import MIMSCore

/// Which slices of a volume form its bag (issue 7): training draws a uniformly random count in
/// `perBag` (fewer when the volume has fewer) of the `central` central slices, without
/// replacement, kept in slice order; evaluation takes all central slices. A 2D record is one frame.
public struct SliceSampler: Equatable, Sendable {
    public var perBag: ClosedRange<Int>
    public var central: Int

    public init(perBag: ClosedRange<Int> = 12...18, central: Int = 30) {
        self.perBag = perBag
        self.central = central
    }

    /// The central window of a volume of `frames` slices.
    public func centralRange(frames: Int) -> Range<Int> {
        let count = min(central, frames), start = (frames - count) / 2
        return start..<start + count
    }

    public func training<R: RandomNumberGenerator>(frames: Int, using random: inout R) -> [Int] {
        let window = centralRange(frames: frames)
        let low = min(perBag.lowerBound, window.count), high = min(perBag.upperBound, window.count)
        let count = Int.random(in: low...high, using: &random)
        var pool = Array(window)
        // Partial Fisher-Yates: the first `count` entries become a uniform sample without replacement.
        for i in 0..<count { pool.swapAt(i, Int.random(in: i..<pool.count, using: &random)) }
        return pool.prefix(count).sorted()
    }

    public func evaluation(frames: Int) -> [Int] { Array(centralRange(frames: frames)) }
}
