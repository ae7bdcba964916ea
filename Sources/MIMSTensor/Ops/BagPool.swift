#if canImport(Glibc)
import Glibc
#endif

/// How a bag's values of one channel become one number (docs/MODEL.md "Top-k pooling" and the
/// aggregation variants).
public enum BagAggregation: Equatable, Sendable {
    /// Σ softmax(θ)_r a_r over the k largest values a_1 ≥ … ≥ a_k (θ learnable, shared by channels).
    case topK(Int)
    /// The mean of every value.
    case mean
    /// The largest value.
    case max
}

/// Pools, per bag and channel, every value of that channel over several feature maps (the
/// scales), the bag's slices, and every spatial position.
///
/// Inputs are tensors [S, C, h_i, w_i] sharing S (stacked slices of all bags) and C; bag b owns
/// slices `bagSizes[0..<b].sum ..< +bagSizes[b]`. A channel's values are ordered by input (scale),
/// then slice, then y, then x: that order breaks ties (the lower position wins), as docs/MODEL.md pins.
public enum BagPool {
    /// Where a selected value came from.
    public struct Selection: Sendable {
        /// Per bag and channel (row-major [B, C]), the selected values' (input, flat index) pairs,
        /// best first; a top-k selection holds at most k of them.
        public var sources: [[(input: Int32, index: Int32)]]
        public var values: [[Float]]
    }

    /// Largest-first selection of up to `k` values per bag and channel.
    public static func select(_ inputs: [Tensor], bagSizes: [Int], k: Int) -> Selection {
        let (slices, channels) = validate(inputs, bagSizes: bagSizes)
        var sources = [[(input: Int32, index: Int32)]](), values = [[Float]]()
        sources.reserveCapacity(bagSizes.count * channels)
        var start = 0
        for size in bagSizes {
            for channel in 0..<channels {
                // Insertion into a short sorted list: strict ">" keeps the earlier value ahead on ties.
                var best = [Float](), from = [(input: Int32, index: Int32)]()
                best.reserveCapacity(k + 1); from.reserveCapacity(k + 1)
                for (i, input) in inputs.enumerated() {
                    let plane = input.shape[2] * input.shape[3]
                    input.values.withUnsafeBufferPointer { xs in
                        for slice in start..<start + size {
                            let base = (slice * channels + channel) * plane
                            for p in 0..<plane {
                                let v = xs[base + p]
                                if best.count == k && !(v > best[k - 1]) { continue }
                                var at = best.count
                                while at > 0 && v > best[at - 1] { at -= 1 }
                                best.insert(v, at: at); from.insert((Int32(i), Int32(base + p)), at: at)
                                if best.count > k { best.removeLast(); from.removeLast() }
                            }
                        }
                    }
                }
                values.append(best); sources.append(from)
            }
            start += size
        }
        precondition(start == slices, "bag sizes add up to \(start), inputs hold \(slices) slices")
        return Selection(sources: sources, values: values)
    }

    /// softmax(θ[0..<count]).
    public static func weights(_ theta: Tensor, count: Int) -> [Float] {
        let t = theta.values.prefix(count)
        let top = t.max() ?? 0
        let e = t.map { Float(exp(Double($0 - top))) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// Top-k forward: y [B, C] and what the backward needs.
    public static func topKForward(_ inputs: [Tensor], bagSizes: [Int], theta: Tensor, k: Int) -> (y: Tensor, selection: Selection) {
        let selection = select(inputs, bagSizes: bagSizes, k: min(k, theta.count))
        let channels = inputs[0].shape[1]
        var y = Tensor.zeros([bagSizes.count, channels])
        for (row, values) in selection.values.enumerated() {
            let w = weights(theta, count: values.count)
            var sum: Float = 0
            for r in 0..<values.count { sum += w[r] * values[r] }
            y.values[row] = sum
        }
        return (y, selection)
    }

    /// Gradients of the inputs and of θ for dL/dy = `gradY`.
    public static func topKBackward(_ gradY: Tensor, selection: Selection, inputShapes: [[Int]], theta: Tensor) -> (gradInputs: [Tensor], gradTheta: Tensor) {
        var gradInputs = inputShapes.map { Tensor.zeros($0) }
        var gradTheta = Tensor.zeros(theta.shape)
        for (row, values) in selection.values.enumerated() {
            let g = gradY.values[row]
            if g == 0 || values.isEmpty { continue }
            let w = weights(theta, count: values.count)
            var y: Float = 0
            for r in 0..<values.count { y += w[r] * values[r] }
            for r in 0..<values.count {
                let source = selection.sources[row][r]
                gradInputs[Int(source.input)].values[Int(source.index)] += g * w[r]
                // ∂y/∂θ_r = w_r (a_r − y)
                gradTheta.values[r] += g * w[r] * (values[r] - y)
            }
        }
        return (gradInputs, gradTheta)
    }

    /// Mean over every value of each bag and channel.
    public static func meanForward(_ inputs: [Tensor], bagSizes: [Int]) -> Tensor {
        let (_, channels) = validate(inputs, bagSizes: bagSizes)
        var y = Tensor.zeros([bagSizes.count, channels])
        var start = 0
        for (bag, size) in bagSizes.enumerated() {
            let count = inputs.reduce(0) { $0 + $1.shape[2] * $1.shape[3] } * size
            for channel in 0..<channels {
                var sum = 0.0
                for input in inputs {
                    let plane = input.shape[2] * input.shape[3]
                    for slice in start..<start + size {
                        let base = (slice * channels + channel) * plane
                        for p in 0..<plane { sum += Double(input.values[base + p]) }
                    }
                }
                y.values[bag * channels + channel] = Float(sum / Double(count))
            }
            start += size
        }
        return y
    }

    public static func meanBackward(_ gradY: Tensor, inputShapes: [[Int]], bagSizes: [Int]) -> [Tensor] {
        let channels = inputShapes[0][1]
        let perSlice = inputShapes.reduce(0) { $0 + $1[2] * $1[3] }
        return inputShapes.map { shape in
            var g = Tensor.zeros(shape)
            let plane = shape[2] * shape[3]
            var start = 0
            for (bag, size) in bagSizes.enumerated() {
                for channel in 0..<channels {
                    let value = gradY.values[bag * channels + channel] / Float(perSlice * size)
                    for slice in start..<start + size {
                        let base = (slice * channels + channel) * plane
                        for p in 0..<plane { g.values[base + p] = value }
                    }
                }
                start += size
            }
            return g
        }
    }

    /// Max forward (top-1 with weight one).
    public static func maxForward(_ inputs: [Tensor], bagSizes: [Int]) -> (y: Tensor, selection: Selection) {
        let selection = select(inputs, bagSizes: bagSizes, k: 1)
        return (Tensor(shape: [bagSizes.count, inputs[0].shape[1]], values: selection.values.map { $0[0] }), selection)
    }

    public static func maxBackward(_ gradY: Tensor, selection: Selection, inputShapes: [[Int]]) -> [Tensor] {
        var gradInputs = inputShapes.map { Tensor.zeros($0) }
        for (row, sources) in selection.sources.enumerated() {
            gradInputs[Int(sources[0].input)].values[Int(sources[0].index)] += gradY.values[row]
        }
        return gradInputs
    }

    private static func validate(_ inputs: [Tensor], bagSizes: [Int]) -> (slices: Int, channels: Int) {
        precondition(!inputs.isEmpty, "bag pooling needs at least one input")
        let (slices, channels) = (inputs[0].shape[0], inputs[0].shape[1])
        for input in inputs {
            precondition(input.rank == 4 && input.shape[0] == slices && input.shape[1] == channels,
                         "bag pooling inputs must share slices and channels: \(input.shape) vs \(inputs[0].shape)")
        }
        precondition(bagSizes.reduce(0, +) == slices && bagSizes.allSatisfy { $0 > 0 },
                     "bag sizes \(bagSizes) must be positive and add up to the \(slices) slices")
        return (slices, channels)
    }
}
