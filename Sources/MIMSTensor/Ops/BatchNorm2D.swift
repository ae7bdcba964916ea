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

    /// With `relu`, the output is max(0, BN(x)) in the same pass (ResNet's BN-ReLU pairs): one
    /// activation-sized pass and tensor fewer; pass the output to ``backward(_:saved:weight:output:)``.
    public static func trainForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
                                    momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false) -> (y: Tensor, saved: Saved) {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3], m = n * plane
        var y = Tensor.uninitialized(x.shape)
        let stats = x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeMutableBufferPointer { ys in
                let input = SendablePointer(xs.baseAddress!), output = SendablePointer(ys.baseAddress!)
                return ChannelParallel.map(c) { channel -> (mean: Double, variance: Double) in
                    var sum = 0.0
                    for image in 0..<n {
                        sum += Double(Reduce.sum(input.pointer + (image * c + channel) * plane, plane))
                    }
                    let mean = sum / Double(m), meanF = Float(mean)
                    var squares = 0.0
                    for image in 0..<n {
                        squares += Double(Reduce.squaredDeviations(input.pointer + (image * c + channel) * plane, plane, from: meanF))
                    }
                    let variance = squares / Double(m)
                    let invStd = Float(1 / (variance + Double(eps)).squareRoot())
                    let scale = weight.values[channel] * invStd, shift = bias.values[channel] - meanF * scale
                    affine(input.pointer, output.pointer, channel: channel, images: n, channels: c, plane: plane,
                           scale: scale, shift: shift, relu: relu)
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

    public static func evalForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5,
                                   relu: Bool = false) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3]
        var y = Tensor.uninitialized(x.shape)
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeMutableBufferPointer { ys in
                let input = SendablePointer(xs.baseAddress!), output = SendablePointer(ys.baseAddress!)
                _ = ChannelParallel.map(c) { channel in
                    let scale = weight.values[channel] / (runningVar.values[channel] + eps).squareRoot()
                    let shift = bias.values[channel] - runningMean.values[channel] * scale
                    affine(input.pointer, output.pointer, channel: channel, images: n, channels: c, plane: plane,
                           scale: scale, shift: shift, relu: relu)
                }
            }
        }
        return y
    }

    /// y = x·scale + shift over one channel of every image, max(0, ·) with `relu`.
    @inline(__always)
    static func affine(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, channel: Int, images: Int, channels: Int,
                       plane: Int, scale: Float, shift: Float, relu: Bool) {
        for image in 0..<images {
            let offset = (image * channels + channel) * plane
            let p = x + offset, q = y + offset
            if relu {
                for i in 0..<plane { q[i] = max(0, p[i] * scale + shift) }
            } else {
                for i in 0..<plane { q[i] = p[i] * scale + shift }
            }
        }
    }

    /// dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ(dy·x̂); dβ = Σdy.
    /// With `output` (a fused BN-ReLU's), dy is first masked where the output is zero.
    public static func backward(_ gradY: Tensor, saved: Saved, weight: Tensor, output: Tensor? = nil) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        if let output { return output.values.withUnsafeBufferPointer { backward(gradY, saved: saved, weight: weight, mask: $0.baseAddress) } }
        return backward(gradY, saved: saved, weight: weight, mask: nil)
    }

    static func backward(_ gradY: Tensor, saved: Saved, weight: Tensor, mask: UnsafePointer<Float>?) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        let (n, c) = (gradY.shape[0], gradY.shape[1])
        let plane = gradY.shape[2] * gradY.shape[3], m = Float(n * plane)
        var gradX = Tensor.uninitialized(gradY.shape)
        let sums = saved.x.values.withUnsafeBufferPointer { xs in
            gradY.values.withUnsafeBufferPointer { gys in
                gradX.values.withUnsafeMutableBufferPointer { gxs in
                    let input = SendablePointer(xs.baseAddress!), gy = SendablePointer(gys.baseAddress!), gx = SendablePointer(gxs.baseAddress!)
                    let relu = mask.map { SendablePointer($0) }
                    return ChannelParallel.map(c) { channel -> (Float, Float) in
                        let mean = saved.mean[channel], invStd = saved.inverseStd[channel]
                        var sumDy = 0.0, sumDyXHat = 0.0
                        for image in 0..<n {
                            let offset = (image * c + channel) * plane
                            let p = input.pointer + offset, g = gy.pointer + offset
                            let (s, t) = Reduce.gradientSums(g, p, relu.map { $0.pointer + offset }, plane, mean: mean)
                            sumDy += Double(s)
                            sumDyXHat += Double(t) * Double(invStd)
                        }
                        let k = weight.values[channel] * invStd / m
                        let a = k * m, b = k * Float(sumDy), d = k * Float(sumDyXHat) * invStd
                        // gx = k (M dy − Σdy − x̂ Σdy·x̂) = a·dy − b − d·(x − mean)
                        for image in 0..<n {
                            let offset = (image * c + channel) * plane
                            let p = input.pointer + offset, g = gy.pointer + offset, q = gx.pointer + offset
                            Reduce.inputGradient(q, g, p, relu.map { $0.pointer + offset }, plane, a: a, b: b, d: d, mean: mean)
                        }
                        return (Float(sumDyXHat), Float(sumDy))
                    }
                }
            }
        }
        return (gradX, Tensor(shape: [c], values: sums.map(\.0)), Tensor(shape: [c], values: sums.map(\.1)))
    }
}

/// Float reductions in eight independent lanes: a plain `s += x[i]` loop is one dependent add
/// per element (the compiler may not reorder float adds), eight lanes let the adds overlap and
/// vectorize. Lanes are combined in a fixed order, so results stay deterministic.
enum Reduce {
    @inline(__always)
    static func lanes(_ v: SIMD8<Float>) -> Float { (v[0] + v[1]) + (v[2] + v[3]) + ((v[4] + v[5]) + (v[6] + v[7])) }

    static func sum(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n { acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self); i += 8 }
        var total = lanes(acc)
        while i < n { total += p[i]; i += 1 }
        return total
    }

    static func squaredDeviations(_ p: UnsafeMutablePointer<Float>, _ n: Int, from mean: Float) -> Float {
        var acc = SIMD8<Float>(), i = 0
        let raw = UnsafeRawPointer(p), m = SIMD8<Float>(repeating: mean)
        while i + 8 <= n {
            let d = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m
            acc += d * d
            i += 8
        }
        var total = lanes(acc)
        while i < n { let d = p[i] - mean; total += d * d; i += 1 }
        return total
    }

    /// q = a·dy − b − d·(x − mean), dy masked by a fused ReLU's output `y` when given.
    static func inputGradient(_ q: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                              _ y: UnsafeMutablePointer<Float>?, _ n: Int, a: Float, b: Float, d: Float, mean: Float) {
        let (rg, rx, rq) = (UnsafeRawPointer(g), UnsafeRawPointer(x), UnsafeMutableRawPointer(q))
        let (va, vb, vd, m) = (SIMD8<Float>(repeating: a), SIMD8<Float>(repeating: b), SIMD8<Float>(repeating: d), SIMD8<Float>(repeating: mean))
        var i = 0
        while i + 8 <= n {
            var dy = rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            if let y { dy = SIMD8<Float>().replacing(with: dy, where: UnsafeRawPointer(y).loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) .> SIMD8<Float>()) }
            let v = va * dy - vb - vd * (rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m)
            rq.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let dy = y.map { $0[i] > 0 ? g[i] : 0 } ?? g[i]
            q[i] = a * dy - b - d * (x[i] - mean)
            i += 1
        }
    }

    /// Σ dy and Σ dy·(x − mean), with dy masked where a fused ReLU's output `y` is zero.
    static func gradientSums(_ g: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>?,
                             _ n: Int, mean: Float) -> (Float, Float) {
        var s = SIMD8<Float>(), t = SIMD8<Float>(), i = 0
        let (rg, rx) = (UnsafeRawPointer(g), UnsafeRawPointer(x)), m = SIMD8<Float>(repeating: mean)
        if let y {
            let ry = UnsafeRawPointer(y)
            while i + 8 <= n {
                let keep = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) .> SIMD8<Float>()
                let d = SIMD8<Float>().replacing(with: rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), where: keep)
                s += d
                t += d * (rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m)
                i += 8
            }
        } else {
            while i + 8 <= n {
                let d = rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                s += d
                t += d * (rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m)
                i += 8
            }
        }
        var (st, tt) = (lanes(s), lanes(t))
        while i < n {
            let d = y.map { $0[i] > 0 ? g[i] : 0 } ?? g[i]
            st += d
            tt += d * (x[i] - mean)
            i += 1
        }
        return (st, tt)
    }
}
