import MIMSCore

/// PyTorch's BatchNorm2d: batch statistics in training (biased variance to normalize, unbiased for
/// the running estimate, momentum update), running statistics in evaluation.
///
/// Channels are independent, so each pass splits them across the cores; per plane the sums run
/// in float and are carried across planes in double, which keeps the 1e-4 golden agreement.
public enum BatchNorm2D {
    /// What the backward pass needs from the forward: the input itself (shared storage, no copy)
    /// and the batch statistics, so x̂ is recomputed instead of kept (one activation less per BN).
    public struct Saved: Sendable {
        public var x: Tensor
        public var mean: [Float]
        public var inverseStd: [Float]
    }

    public static func trainForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
                                    momentum: Float = 0.1, eps: Float = 1e-5) -> (y: Tensor, saved: Saved) {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3], m = n * plane
        var y = Tensor.uninitialized(x.shape)
        let stats = x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeMutableBufferPointer { ys in
                let input = SendablePointer(xs.baseAddress!), output = SendablePointer(ys.baseAddress!)
                return ChannelParallel.map(c) { channel -> (mean: Double, variance: Double) in
                    var sum = 0.0
                    for image in 0..<n {
                        let p = input.pointer + (image * c + channel) * plane
                        var s: Float = 0
                        for i in 0..<plane { s += p[i] }
                        sum += Double(s)
                    }
                    let mean = sum / Double(m), meanF = Float(mean)
                    var squares = 0.0
                    for image in 0..<n {
                        let p = input.pointer + (image * c + channel) * plane
                        var s: Float = 0
                        for i in 0..<plane { let d = p[i] - meanF; s += d * d }
                        squares += Double(s)
                    }
                    let variance = squares / Double(m)
                    let invStd = Float(1 / (variance + Double(eps)).squareRoot())
                    let scale = weight.values[channel] * invStd, shift = bias.values[channel] - meanF * scale
                    for image in 0..<n {
                        let offset = (image * c + channel) * plane
                        let p = input.pointer + offset, q = output.pointer + offset
                        for i in 0..<plane { q[i] = p[i] * scale + shift }
                    }
                    return (mean, variance)
                }
            }
        }
        var means = [Float](repeating: 0, count: c), inverseStd = [Float](repeating: 0, count: c)
        for (channel, stat) in stats.enumerated() {
            means[channel] = Float(stat.mean)
            inverseStd[channel] = Float(1 / (stat.variance + Double(eps)).squareRoot())
            let unbiased = m > 1 ? stat.variance * Double(m) / Double(m - 1) : stat.variance
            runningMean.values[channel] = (1 - momentum) * runningMean.values[channel] + momentum * Float(stat.mean)
            runningVar.values[channel] = (1 - momentum) * runningVar.values[channel] + momentum * Float(unbiased)
        }
        return (y, Saved(x: x, mean: means, inverseStd: inverseStd))
    }

    public static func evalForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3]
        var y = Tensor.uninitialized(x.shape)
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeMutableBufferPointer { ys in
                let input = SendablePointer(xs.baseAddress!), output = SendablePointer(ys.baseAddress!)
                _ = ChannelParallel.map(c) { channel in
                    let scale = weight.values[channel] / (runningVar.values[channel] + eps).squareRoot()
                    let shift = bias.values[channel] - runningMean.values[channel] * scale
                    for image in 0..<n {
                        let offset = (image * c + channel) * plane
                        let p = input.pointer + offset, q = output.pointer + offset
                        for i in 0..<plane { q[i] = p[i] * scale + shift }
                    }
                }
            }
        }
        return y
    }

    /// dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ(dy·x̂); dβ = Σdy.
    public static func backward(_ gradY: Tensor, saved: Saved, weight: Tensor) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        let (n, c) = (gradY.shape[0], gradY.shape[1])
        let plane = gradY.shape[2] * gradY.shape[3], m = Float(n * plane)
        var gradX = Tensor.uninitialized(gradY.shape)
        let sums = saved.x.values.withUnsafeBufferPointer { xs in
            gradY.values.withUnsafeBufferPointer { gys in
                gradX.values.withUnsafeMutableBufferPointer { gxs in
                    let input = SendablePointer(xs.baseAddress!), gy = SendablePointer(gys.baseAddress!), gx = SendablePointer(gxs.baseAddress!)
                    return ChannelParallel.map(c) { channel -> (Float, Float) in
                        let mean = saved.mean[channel], invStd = saved.inverseStd[channel]
                        var sumDy = 0.0, sumDyXHat = 0.0
                        for image in 0..<n {
                            let offset = (image * c + channel) * plane
                            let p = input.pointer + offset, g = gy.pointer + offset
                            var s: Float = 0, t: Float = 0
                            for i in 0..<plane { s += g[i]; t += g[i] * (p[i] - mean) }
                            sumDy += Double(s)
                            sumDyXHat += Double(t) * Double(invStd)
                        }
                        let k = weight.values[channel] * invStd / m
                        let a = k * m, b = k * Float(sumDy), d = k * Float(sumDyXHat) * invStd
                        // gx = k (M dy − Σdy − x̂ Σdy·x̂) = a·dy − b − d·(x − mean)
                        for image in 0..<n {
                            let offset = (image * c + channel) * plane
                            let p = input.pointer + offset, g = gy.pointer + offset, q = gx.pointer + offset
                            for i in 0..<plane { q[i] = a * g[i] - b - d * (p[i] - mean) }
                        }
                        return (Float(sumDyXHat), Float(sumDy))
                    }
                }
            }
        }
        return (gradX, Tensor(shape: [c], values: sums.map(\.0)), Tensor(shape: [c], values: sums.map(\.1)))
    }
}

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
