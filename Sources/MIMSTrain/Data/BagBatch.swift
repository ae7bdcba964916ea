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

/// docs/MODEL.md's input transform: uint8 to [0, 1], bilinear resize to the input size
/// (align_corners = false) when it differs, gray replicated to 3 channels, ImageNet normalization.
public enum InputTransform {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Frames [count, H, W, C] (C = 1 or 3) to [count, 3, h, w].
    public static func apply(_ frames: [UInt8], count: Int, shape: FrameShape, size: [Int]) -> Tensor {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let (oh, ow) = (size[0], size[1])
        var out = Tensor.uninitialized([count, 3, oh, ow])
        for frame in 0..<count {
            var planes = Tensor.uninitialized([1, c, h, w])
            frames.withUnsafeBufferPointer { bytes in
                let base = frame * h * w * c
                for channel in 0..<c {
                    for i in 0..<h * w { planes.values[channel * h * w + i] = Float(bytes[base + i * c + channel]) / 255 }
                }
            }
            let resized = (oh == h && ow == w) ? planes : BilinearResize2D.forward(planes, height: oh, width: ow)
            let plane = oh * ow
            for channel in 0..<3 {
                let source = c == 1 ? 0 : channel
                let (m, s) = (mean[channel], std[channel])
                let target = (frame * 3 + channel) * plane
                for i in 0..<plane { out.values[target + i] = (resized.values[source * plane + i] - m) / s }
            }
        }
        return out
    }
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
            let frameBytes = dataset.frameShape.byteCount
            var picked = [UInt8]()
            picked.reserveCapacity(choice.slices.count * frameBytes)
            for s in choice.slices { picked += bytes[(s - first) * frameBytes..<(s - first + 1) * frameBytes] }
            parts.append(InputTransform.apply(picked, count: choice.slices.count, shape: dataset.frameShape, size: inputSize))
            sizes.append(choice.slices.count)
            labels.append(Int(dataset.records[choice.record].info.label))
            slices += choice.slices
        }
        let total = sizes.reduce(0, +)
        let input = Tensor(shape: [total, 3, inputSize[0], inputSize[1]], values: parts.flatMap(\.values))
        return BagBatch(input: input, bagSizes: sizes, labels: labels, records: choices.map(\.record), slices: slices)
    }
}
