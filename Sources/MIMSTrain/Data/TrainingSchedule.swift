import MIMSCore

/// Which records and slices iteration i trains on, computed from (seed, i) alone, so a resumed
/// run draws exactly what the killed run would have drawn, with no sampler state to save.
///
/// Records come from a fresh seeded permutation per epoch (or, class-balanced, a class drawn
/// uniformly and then a record of that class); slices from ``SliceSampler``.
public struct TrainingSchedule: Sendable {
    public let labels: [Int]
    public let frameCounts: [Int]
    public let bagsPerIteration: Int
    public let sampler: SliceSampler
    public let classBalanced: Bool
    public let seed: UInt64
    /// Record indices of each class, classes ascending (class-balanced drawing).
    let members: [[Int]]

    public init(labels: [Int], frameCounts: [Int], bagsPerIteration: Int, sampler: SliceSampler, classBalanced: Bool, seed: UInt64) {
        self.labels = labels
        self.frameCounts = frameCounts
        self.bagsPerIteration = bagsPerIteration
        self.sampler = sampler
        self.classBalanced = classBalanced
        self.seed = seed
        members = Set(labels).sorted().map { label in labels.indices.filter { labels[$0] == label } }
    }

    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var g = SplitMix64(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
        return g.next()
    }

    func permutation(epoch: Int) -> [Int] {
        var random = SplitMix64(seed: Self.mix(seed, 1, UInt64(epoch)))
        return Array(labels.indices).shuffled(using: &random)
    }

    public func choices(iteration: Int) -> [(record: Int, slices: [Int])] {
        var random = SplitMix64(seed: Self.mix(seed, 2, UInt64(iteration)))
        var records: [Int] = []
        if classBalanced {
            for _ in 0..<bagsPerIteration {
                let pool = members[Int.random(in: 0..<members.count, using: &random)]
                records.append(pool[Int.random(in: 0..<pool.count, using: &random)])
            }
        } else {
            let n = labels.count
            var epoch = (-1, [Int]())
            for slot in 0..<bagsPerIteration {
                let position = iteration * bagsPerIteration + slot
                if epoch.0 != position / n { epoch = (position / n, permutation(epoch: position / n)) }
                records.append(epoch.1[position % n])
            }
        }
        return records.map { record in (record, sampler.training(frames: frameCounts[record], using: &random)) }
    }
}
