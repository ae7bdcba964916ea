/// Bag pooling, channel and batch reshaping, and reductions on the tape.
extension Tape {
    /// Pools each bag's values per channel over all `inputs` (scales), slices and positions
    /// (see ``BagPool``). `theta` is required for `.topK`. Top-k and max also return which values
    /// they chose (the caller keeps it, say for a heatmap; the tape only needs it for backward).
    public func bagPool(_ inputs: [Variable], bagSizes: [Int], aggregation: BagAggregation, theta: Variable? = nil)
        -> (output: Variable, selection: BagSelection?) {
        let xs = inputs.map(value), shapes = xs.map(\.shape)
        switch aggregation {
        case .topK(let k):
            guard let theta else { preconditionFailure("top-k pooling needs theta") }
            let t = value(theta)
            let (y, selection) = BagPool.topKForward(xs, bagSizes: bagSizes, theta: t, k: k)
            let output = record(inputs + [theta], output: y) { gy in
                let g = BagPool.topKBackward(gy, selection: selection, inputShapes: shapes, theta: t)
                return g.gradInputs + [g.gradTheta]
            }
            return (output, BagSelection(selection: selection, inputShapes: shapes))
        case .mean:
            let output = record(inputs, output: BagPool.meanForward(xs, bagSizes: bagSizes)) { gy in
                BagPool.meanBackward(gy, inputShapes: shapes, bagSizes: bagSizes)
            }
            return (output, nil)
        case .max:
            let (y, selection) = BagPool.maxForward(xs, bagSizes: bagSizes)
            let output = record(inputs, output: y) { gy in BagPool.maxBackward(gy, selection: selection, inputShapes: shapes) }
            return (output, BagSelection(selection: selection, inputShapes: shapes))
        }
    }

    /// Concatenation along dimension 1 (channels of NCHW, features of [N, F]).
    public func concatChannels(_ inputs: [Variable]) -> Variable {
        if inputs.count == 1 { return inputs[0] }
        let xs = inputs.map(value)
        let rows = xs[0].shape[0], inner = xs[0].shape.dropFirst(2).reduce(1, *)
        for x in xs { precondition(x.shape[0] == rows && x.shape.dropFirst(2).reduce(1, *) == inner && x.rank == xs[0].rank, "concat: shapes \(xs.map(\.shape))") }
        let widths = xs.map { $0.shape[1] * inner }, total = widths.reduce(0, +)
        var shape = xs[0].shape
        shape[1] = xs.reduce(0) { $0 + $1.shape[1] }
        var y = [Float](repeating: 0, count: rows * total)
        for row in 0..<rows {
            var offset = row * total
            for (x, width) in zip(xs, widths) {
                y.replaceSubrange(offset..<offset + width, with: x.values[row * width..<(row + 1) * width])
                offset += width
            }
        }
        return record(inputs, output: Tensor(shape: shape, values: y)) { gy in
            var offsets = [0]
            for width in widths { offsets.append(offsets.last! + width) }
            return xs.indices.map { i in
                var g = [Float](repeating: 0, count: xs[i].count)
                for row in 0..<rows {
                    g.replaceSubrange(row * widths[i]..<(row + 1) * widths[i], with: gy.values[row * total + offsets[i]..<row * total + offsets[i + 1]])
                }
                return Tensor(shape: xs[i].shape, values: g)
            }
        }
    }

    /// Rows `range` of dimension 0.
    public func slice(_ x: Variable, rows range: Range<Int>) -> Variable {
        let xs = value(x)
        if range == 0..<xs.shape[0] { return x }
        let inner = xs.count / xs.shape[0]
        var shape = xs.shape
        shape[0] = range.count
        let y = Tensor(shape: shape, values: Array(xs.values[range.lowerBound * inner..<range.upperBound * inner]))
        return record([x], output: y) { gy in
            var g = [Float](repeating: 0, count: xs.count)
            g.replaceSubrange(range.lowerBound * inner..<range.upperBound * inner, with: gy.values)
            return [Tensor(shape: xs.shape, values: g)]
        }
    }

    /// Concatenation along dimension 0.
    public func concatRows(_ inputs: [Variable]) -> Variable {
        if inputs.count == 1 { return inputs[0] }
        let xs = inputs.map(value)
        var shape = xs[0].shape
        shape[0] = xs.reduce(0) { $0 + $1.shape[0] }
        let y = Tensor(shape: shape, values: xs.flatMap(\.values))
        return record(inputs, output: y) { gy in
            var start = 0
            return xs.map { x in
                defer { start += x.count }
                return Tensor(shape: x.shape, values: Array(gy.values[start..<start + x.count]))
            }
        }
    }

    /// x[s, j, :, :] · scale[row, offset + j]: the learnable per-channel scalars of magnitude
    /// normalization, one row per scale.
    public func scaleChannels(_ x: Variable, by scale: Variable, row: Int, offset: Int) -> Variable {
        let xs = value(x), ss = value(scale)
        let channels = xs.shape[1], plane = xs.count / (xs.shape[0] * channels), width = ss.shape[1]
        let factors = (0..<channels).map { ss.values[row * width + offset + $0] }
        var y = xs
        for i in 0..<y.count { y.values[i] *= factors[(i / plane) % channels] }
        return record([x, scale], output: y) { gy in
            var gx = gy, gs = Tensor.zeros(ss.shape)
            for i in 0..<gy.count {
                let j = (i / plane) % channels
                gx.values[i] *= factors[j]
                gs.values[row * width + offset + j] += gy.values[i] * xs.values[i]
            }
            return [gx, gs]
        }
    }

    /// The mean of every value: a scalar of shape [1].
    public func mean(_ x: Variable) -> Variable {
        let xs = value(x)
        let sum = xs.values.reduce(0.0) { $0 + Double($1) }
        return record([x], output: Tensor(shape: [1], values: [Float(sum / Double(xs.count))])) { gy in
            [Tensor(shape: xs.shape, values: [Float](repeating: gy.values[0] / Float(xs.count), count: xs.count))]
        }
    }

    /// [N, C, H, W] → [N, C]: the mean of each plane.
    public func globalAveragePool(_ x: Variable) -> Variable {
        let xs = value(x)
        let planes = xs.shape[0] * xs.shape[1], size = xs.shape[2] * xs.shape[3]
        var y = Tensor.zeros([xs.shape[0], xs.shape[1]])
        for p in 0..<planes {
            var sum: Float = 0
            for i in 0..<size { sum += xs.values[p * size + i] }
            y.values[p] = sum / Float(size)
        }
        return record([x], output: y) { gy in
            var g = Tensor.zeros(xs.shape)
            for p in 0..<planes {
                let v = gy.values[p] / Float(size)
                for i in 0..<size { g.values[p * size + i] = v }
            }
            return [g]
        }
    }
}
