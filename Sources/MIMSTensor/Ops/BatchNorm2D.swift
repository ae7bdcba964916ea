/// PyTorch's BatchNorm2d: batch statistics in training (biased variance to normalize, unbiased for
/// the running estimate, momentum update), running statistics in evaluation.
public enum BatchNorm2D {
    /// What the backward pass needs from the forward.
    public struct Saved: Sendable {
        public var xHat: Tensor
        public var inverseStd: [Float]
    }

    public static func trainForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
                                    momentum: Float = 0.1, eps: Float = 1e-5) -> (y: Tensor, saved: Saved) {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3], m = n * plane
        var y = Tensor.zeros(x.shape), xHat = Tensor.zeros(x.shape)
        var inverseStd = [Float](repeating: 0, count: c)
        for channel in 0..<c {
            var sum = 0.0
            for image in 0..<n { for p in 0..<plane { sum += Double(x.values[(image * c + channel) * plane + p]) } }
            let mean = sum / Double(m)
            var squares = 0.0
            for image in 0..<n {
                for p in 0..<plane {
                    let d = Double(x.values[(image * c + channel) * plane + p]) - mean
                    squares += d * d
                }
            }
            let variance = squares / Double(m)
            let invStd = 1 / (variance + Double(eps)).squareRoot()
            inverseStd[channel] = Float(invStd)
            let (g, b) = (weight.values[channel], bias.values[channel])
            for image in 0..<n {
                for p in 0..<plane {
                    let index = (image * c + channel) * plane + p
                    let normalized = Float((Double(x.values[index]) - mean) * invStd)
                    xHat.values[index] = normalized
                    y.values[index] = normalized * g + b
                }
            }
            let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
            runningMean.values[channel] = (1 - momentum) * runningMean.values[channel] + momentum * Float(mean)
            runningVar.values[channel] = (1 - momentum) * runningVar.values[channel] + momentum * Float(unbiased)
        }
        return (y, Saved(xHat: xHat, inverseStd: inverseStd))
    }

    public static func evalForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape[2] * x.shape[3]
        var y = Tensor.zeros(x.shape)
        for channel in 0..<c {
            let scale = weight.values[channel] / (runningVar.values[channel] + eps).squareRoot()
            let shift = bias.values[channel] - runningMean.values[channel] * scale
            for image in 0..<n {
                for p in 0..<plane {
                    let index = (image * c + channel) * plane + p
                    y.values[index] = x.values[index] * scale + shift
                }
            }
        }
        return y
    }

    /// dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ(dy·x̂); dβ = Σdy.
    public static func backward(_ gradY: Tensor, saved: Saved, weight: Tensor) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        let (n, c) = (gradY.shape[0], gradY.shape[1])
        let plane = gradY.shape[2] * gradY.shape[3], m = Double(n * plane)
        var gradX = Tensor.zeros(gradY.shape), gradW = Tensor.zeros([c]), gradB = Tensor.zeros([c])
        for channel in 0..<c {
            var sumDy = 0.0, sumDyXHat = 0.0
            for image in 0..<n {
                for p in 0..<plane {
                    let index = (image * c + channel) * plane + p
                    sumDy += Double(gradY.values[index])
                    sumDyXHat += Double(gradY.values[index]) * Double(saved.xHat.values[index])
                }
            }
            gradW.values[channel] = Float(sumDyXHat)
            gradB.values[channel] = Float(sumDy)
            let k = Double(weight.values[channel]) * Double(saved.inverseStd[channel]) / m
            for image in 0..<n {
                for p in 0..<plane {
                    let index = (image * c + channel) * plane + p
                    gradX.values[index] = Float(k * (m * Double(gradY.values[index]) - sumDy - Double(saved.xHat.values[index]) * sumDyXHat))
                }
            }
        }
        return (gradX, gradW, gradB)
    }
}
