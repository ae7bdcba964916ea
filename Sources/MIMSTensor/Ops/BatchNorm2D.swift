import CDNNL
import MIMSCore

/// PyTorch's BatchNorm2d on oneDNN: batch statistics in training (biased variance to normalize,
/// unbiased for the running estimate, momentum update as PyTorch does), running statistics in
/// evaluation; optionally fused with the ReLU after it. Works on either ``Tensor/Layout`` and on
/// float32 or bf16 activations (statistics, parameters and their gradients are float32 either way).
public enum BatchNorm2D {
    /// What the backward pass needs from the forward: the input itself (shared storage, no copy),
    /// the statistics it was normalized with, and with a fused ReLU oneDNN's mask of where the
    /// output was positive.
    public struct Saved: Sendable {
        public var x: Tensor
        public var mean: [Float]
        /// Biased batch variance in training; the running variance in evaluation.
        public var variance: [Float]
        public var relu: Bool
        public var batchStatistics: Bool
        var workspace: [UInt8]
        /// Evaluation mode with a fused ReLU: the output (its zeros mask the gradient).
        var output: Tensor? = nil
    }

    /// The epsilon every BatchNorm here uses (PyTorch's default); oneDNN builds it into its primitives.
    public static let epsilon: Float = 1e-5

    /// With `relu`, the output is max(0, BN(x)) in the same pass (ResNet's BN-ReLU pairs).
    public static func trainForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
                                    momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false) -> (y: Tensor, saved: Saved) {
        let c = x.shape[1], m = x.shape[0] * x.shape[2] * x.shape[3]
        var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        let (y, workspace) = run(x, weight: weight, bias: bias, mean: &mean, variance: &variance, batchStatistics: true, relu: relu,
                                 keepWorkspace: true, eps: eps)
        let correction: Float = m > 1 ? Float(m) / Float(m - 1) : 1
        for channel in 0..<c {
            let unbiased: Float = variance[channel] * correction
            let oldMean: Float = runningMean.values[channel], oldVariance: Float = runningVar.values[channel]
            runningMean.values[channel] = (1 - momentum) * oldMean + momentum * mean[channel]
            runningVar.values[channel] = (1 - momentum) * oldVariance + momentum * unbiased
        }
        return (y, Saved(x: x, mean: mean, variance: variance, relu: relu, batchStatistics: true, workspace: workspace))
    }

    /// Normalizes with the running statistics. `keepForBackward` keeps what a backward pass needs
    /// (heatmaps differentiate through evaluation-mode BN): the output, whose sign is the fused
    /// ReLU's mask.
    public static func evalForward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5,
                                   relu: Bool = false, keepForBackward: Bool = false) -> (y: Tensor, saved: Saved) {
        var mean = runningMean.values, variance = runningVar.values
        let (y, _) = run(x, weight: weight, bias: bias, mean: &mean, variance: &variance, batchStatistics: false, relu: relu,
                         keepWorkspace: false, eps: eps)
        return (y, Saved(x: x, mean: mean, variance: variance, relu: relu, batchStatistics: false, workspace: [],
                         output: keepForBackward && relu ? y : nil))
    }

    /// dx, dγ, dβ for the output gradient after a training-mode forward.
    public static func backward(_ gradY: Tensor, saved: Saved, weight: Tensor, bias: Tensor) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        let c = gradY.shape[1]
        var gradWeight = Tensor.uninitialized([c]), gradBias = Tensor.uninitialized([c])
        let gradX = gradWeight.values.withUnsafeMutableBufferPointer { gw in
            gradBias.values.withUnsafeMutableBufferPointer { gb in
                gradient(gradY, saved: saved, weight: weight, bias: bias, gradScale: gw.baseAddress!, gradShift: gb.baseAddress!)
            }
        }
        return (gradX, gradWeight, gradBias)
    }

    /// dx alone after an evaluation-mode forward, where the statistics are constants:
    /// dx = γ·σ⁻¹·dy, zero where a fused ReLU's output is. (Elementwise with a per-channel factor,
    /// so written here for both layouts rather than as one more oneDNN primitive.)
    public static func inputGradient(_ gradY: Tensor, saved: Saved, weight: Tensor) -> Tensor {
        precondition(!saved.batchStatistics, "inputGradient is for evaluation-mode batch norm")
        precondition(gradY.shape == saved.x.shape && gradY.layout == saved.x.layout, "batch-norm gradient \(gradY.shape) for input \(saved.x.shape)")
        precondition(!saved.relu || saved.output != nil, "evaluation-mode batch norm with ReLU needs keepForBackward for a backward pass")
        if gradY.element == .bf16 {
            // Heatmaps of a bf16 model: a rare pass, so computed on widened copies.
            var widened = saved
            widened.output = saved.output.map { $0.reordered(to: $0.layout, element: .f32) }
            return inputGradient(gradY.reordered(to: gradY.layout, element: .f32), saved: widened, weight: weight)
                .reordered(to: gradY.layout, element: .bf16)
        }
        let c = gradY.shape[1], plane = gradY.shape[2] * gradY.shape[3]
        let scale = (0..<c).map { weight.values[$0] / (saved.variance[$0] + epsilon).squareRoot() }
        var gradX = Tensor.uninitialized(gradY.shape, layout: gradY.layout)
        gradY.values.withUnsafeBufferPointer { gy in
            gradX.values.withUnsafeMutableBufferPointer { gx in
                func write(_ i: Int, _ channel: Int) {
                    gx[i] = saved.output.map { $0.values[i] <= 0 } ?? false ? 0 : gy[i] * scale[channel]
                }
                if gradY.layout == .nChw16c {
                    // (image, channel block) planes of 16-value pixels.
                    for block in 0..<(gy.count / (plane * 16)) {
                        let base = block * plane * 16, firstChannel = (block % (c / 16)) * 16
                        for pixel in 0..<plane { for k in 0..<16 { write(base + pixel * 16 + k, firstChannel + k) } }
                    }
                } else {
                    for planeIndex in 0..<(gy.count / plane) {
                        for i in planeIndex * plane..<(planeIndex + 1) * plane { write(i, planeIndex % c) }
                    }
                }
            }
        }
        return gradX
    }

    private static func gradient(_ gradY: Tensor, saved: Saved, weight: Tensor, bias: Tensor, gradScale: UnsafeMutablePointer<Float>,
                                 gradShift: UnsafeMutablePointer<Float>) -> Tensor {
        precondition(saved.batchStatistics, "backward is for training-mode batch norm; use inputGradient after evalForward")
        precondition(gradY.shape == saved.x.shape && gradY.layout == saved.x.layout && gradY.element == saved.x.element,
                     "batch-norm gradient \(gradY.shape) for input \(saved.x.shape)")
        precondition(!saved.relu || !saved.workspace.isEmpty, "batch-norm backward through a fused ReLU needs the forward's workspace")
        let (n, c, h, w) = dims(gradY)
        var gradX = Tensor.uninitialized(gradY.shape, layout: gradY.layout, element: gradY.element)
        let status = saved.x.withUnsafeData { xs in
            gradY.withUnsafeData { gys in
                weight.values.withUnsafeBufferPointer { ws in
                  bias.values.withUnsafeBufferPointer { bs in
                    saved.mean.withUnsafeBufferPointer { ms in
                        saved.variance.withUnsafeBufferPointer { vs in
                            saved.workspace.withUnsafeBytes { workspace in
                                gradX.withUnsafeMutableData { gxs in
                                    mims_bn_backward(n, c, h, w, gradY.layout.code, gradY.element.code, 1, saved.relu ? 1 : 0, epsilon,
                                                     xs, gys, ws.baseAddress!, bs.baseAddress!, ms.baseAddress!,
                                                     vs.baseAddress!, workspace.baseAddress, gxs, gradScale, gradShift)
                                }
                            }
                        }
                    }
                  }
                }
            }
        }
        Engine.check(status, "batch-norm backward of \(gradY.shape)")
        return gradX
    }

    /// The convolution weight and bias that compute BN(conv(x, weight)) with running statistics:
    /// w·γ/σ per output channel and β − μ·γ/σ (inference folds BatchNorm away).
    public static func folded(_ w: Tensor, weight gamma: Tensor, bias beta: Tensor, runningMean mean: Tensor,
                              runningVar variance: Tensor) -> (weight: Tensor, bias: Tensor) {
        let outputs = w.shape[0], perOutput = w.count / outputs
        var folded = Tensor.uninitialized(w.shape), bias = Tensor.uninitialized([outputs])
        w.values.withUnsafeBufferPointer { source in
            folded.values.withUnsafeMutableBufferPointer { target in
                for o in 0..<outputs {
                    let scale = gamma.values[o] / (variance.values[o] + epsilon).squareRoot()
                    bias.values[o] = beta.values[o] - mean.values[o] * scale
                    for i in o * perOutput..<(o + 1) * perOutput { target[i] = source[i] * scale }
                }
            }
        }
        return (folded, bias)
    }

    private static func run(_ x: Tensor, weight: Tensor, bias: Tensor, mean: inout [Float], variance: inout [Float], batchStatistics: Bool,
                            relu: Bool, keepWorkspace: Bool, eps: Float) -> (Tensor, [UInt8]) {
        precondition(eps == epsilon, "batch norm runs with eps = \(epsilon) only")
        precondition(x.rank == 4 && weight.count == x.shape[1] && bias.count == x.shape[1], "batch norm of \(x.shape) with \(weight.count) weights")
        let (n, c, h, w) = dims(x)
        if batchStatistics { statistics(x, mean: &mean, variance: &variance) }
        var y = Tensor.uninitialized(x.shape, layout: x.layout, element: x.element)
        var workspace = [UInt8](repeating: 0, count: relu && (batchStatistics || keepWorkspace)
                                    ? mims_bn_workspace_size(n, c, h, w, x.layout.code, x.element.code) : 0)
        let status = x.withUnsafeData { xs in
            weight.values.withUnsafeBufferPointer { ws in
                bias.values.withUnsafeBufferPointer { bs in
                    mean.withUnsafeMutableBufferPointer { ms in
                        variance.withUnsafeMutableBufferPointer { vs in
                            workspace.withUnsafeMutableBytes { space in
                                y.withUnsafeMutableData { ys in
                                    mims_bn_forward(n, c, h, w, x.layout.code, x.element.code, batchStatistics ? 1 : 0, relu ? 1 : 0,
                                                    keepWorkspace ? 1 : 0, eps, xs, ws.baseAddress!, bs.baseAddress!, ys, ms.baseAddress!,
                                                    vs.baseAddress!, space.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        Engine.check(status, "batch norm of \(x.shape)")
        return (y, workspace)
    }

    /// The batch's mean and biased variance per channel (mims_bn_statistics, channel blocks split
    /// across the cores).
    private static func statistics(_ x: Tensor, mean: inout [Float], variance: inout [Float]) {
        let (n, c, h, w) = dims(x)
        let unit = x.layout == .nChw16c ? 16 : 1, units = Int(c) / unit
        let parts = x.count < 1 << 16 ? 1 : min(Parallel.workers, units)
        x.withUnsafeData { xs in
            mean.withUnsafeMutableBufferPointer { ms in
                variance.withUnsafeMutableBufferPointer { vs in
                    let (source, means, variances) = (SendablePointer(raw: UnsafeMutableRawPointer(mutating: xs)), SendablePointer(ms.baseAddress!), SendablePointer(vs.baseAddress!))
                    let (layout, type) = (x.layout.code, x.element.code)
                    _ = Parallel.mapRanges(count: units, parts: parts) { range in
                        mims_bn_statistics(n, c, h, w, layout, type, UnsafeRawPointer(source.pointer), Int32(range.lowerBound * unit), Int32(range.upperBound * unit),
                                           means.pointer, variances.pointer)
                    }
                }
            }
        }
    }

    private static func dims(_ x: Tensor) -> (Int32, Int32, Int32, Int32) {
        (Int32(x.shape[0]), Int32(x.shape[1]), Int32(x.shape[2]), Int32(x.shape[3]))
    }
}
