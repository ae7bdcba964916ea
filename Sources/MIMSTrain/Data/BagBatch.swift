import MIMSCore
import MIMSShards
import MIMSTensor

/// A model input: bags of slices stacked along dimension 0, ready for the trunk.
public struct BagBatch: Sendable {
    /// [slices, 3, H, W], normalized.
    public var input: Tensor
    public var bagSizes: [Int]
    public var labels: [Int]
    /// Dataset record index of each bag.
    public var records: [Int]
    /// Which frame of its record each slice is.
    public var slices: [Int]
}

/// Turns record choices into batches: reads the chosen slices and transforms them.
public struct BatchAssembler: Sendable {
    public let dataset: ShardDataset
    public let inputSize: [Int]

    public init(dataset: ShardDataset, inputSize: [Int]) {
        self.dataset = dataset
        self.inputSize = inputSize
    }

    /// One bag per entry of `choices`: the record and its slices (ascending frame indices).
    public func batch(_ choices: [(record: Int, slices: [Int])]) throws -> BagBatch {
        var parts: [Tensor] = [], sizes: [Int] = [], labels: [Int] = [], slices: [Int] = []
        for choice in choices {
            // Read the span covering the chosen slices in one call, then keep the chosen ones.
            let first = choice.slices.first!, span = choice.slices.last! - first + 1
            let bytes = try dataset.frames(ofRecord: choice.record, first: first, count: span)
            parts.append(Self.bag(bytes, firstFrame: first, slices: choice.slices, shape: dataset.frameShape, inputSize: inputSize))
            sizes.append(choice.slices.count)
            labels.append(Int(dataset.records[choice.record].info.label))
            slices += choice.slices
        }
        let total = sizes.reduce(0, +)
        let input = Tensor(shape: [total, 3, inputSize[0], inputSize[1]], values: parts.flatMap(\.values))
        return BagBatch(input: input, bagSizes: sizes, labels: labels, records: choices.map(\.record), slices: slices)
    }

    /// The model input of one bag: `slices` (ascending frame indices) picked from `frames`, which
    /// holds consecutive frames of `shape` starting at frame `firstFrame`, then transformed.
    public static func bag(_ frames: [UInt8], firstFrame: Int, slices: [Int], shape: FrameShape, inputSize: [Int]) -> Tensor {
        let frameBytes = shape.byteCount
        var picked = [UInt8]()
        picked.reserveCapacity(slices.count * frameBytes)
        for s in slices { picked += frames[(s - firstFrame) * frameBytes..<(s - firstFrame + 1) * frameBytes] }
        return InputTransform.apply(picked, count: slices.count, shape: shape, size: inputSize)
    }
}
