import MIMSCore
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// The oneDNN engine's layouts and precisions: the blocked layout against its definition, every
/// op on blocked tensors against the same op on plain ones (which the golden cases pin to
/// PyTorch), and bf16 convolutions against PyTorch's float32 goldens with a stated tolerance.
struct EngineTests {
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(generator.unit() * 2 - 1) * scale })
    }

    /// nChw16c by its index formula, written out here independently of oneDNN.
    @Test func blockedLayoutIsNChw16c() {
        let (n, c, h, w) = (2, 32, 3, 5)
        let plain = Self.random([n, c, h, w], seed: 1)
        let blocked = plain.reordered(to: .nChw16c)
        #expect(blocked.layout == .nChw16c && blocked.shape == plain.shape)
        for image in 0..<n {
            for channel in 0..<c {
                for y in 0..<h {
                    for x in 0..<w {
                        let p = ((image * c + channel) * h + y) * w + x
                        let b = (((image * (c / 16) + channel / 16) * h + y) * w + x) * 16 + channel % 16
                        #expect(blocked.values[b] == plain.values[p])
                    }
                }
            }
        }
        #expect(blocked.reordered(to: .nchw) == plain)
    }

    /// A conv - BN(+ReLU) - max-pool chain, forward and backward, in blocked and in plain layout:
    /// the same numbers (oneDNN's blocked and plain kernels sum in different orders, so to float
    /// rounding, not bit for bit).
    @Test(arguments: [Conv2DGeometry(stride: 1, padding: 1), Conv2DGeometry(stride: 2, padding: 1), Conv2DGeometry()])
    func blockedMatchesPlain(_ geometry: Conv2DGeometry) {
        let x = Self.random([3, 16, 11, 10], seed: 2)
        let kernel = geometry.padding == 0 ? 1 : 3
        let store = ParameterStore([
            "w": Self.random([32, 16, kernel, kernel], seed: 3, scale: 0.3),
            "bn.weight": Self.random([32], seed: 4), "bn.bias": Self.random([32], seed: 5),
            "bn.running_mean": Tensor.zeros([32]), "bn.running_var": Tensor(shape: [32], values: [Float](repeating: 1, count: 32)),
        ])
        func run(_ layout: Tensor.Layout) -> (y: Tensor, gx: Tensor, gw: Tensor, gb: Tensor, runningVar: Tensor) {
            let tape = Tape(training: true)
            let input = tape.variable(x.reordered(to: layout)), w = tape.variable(store.tensors["w"]!)
            var bn = Self.batchNorm(store, on: tape)
            let conv = tape.conv2d(input, weight: w, geometry: geometry, layout: layout)
            let pooled = tape.reorder(tape.maxPool(tape.batchNorm(conv, &bn, relu: true)), to: .nchw)
            let gy = Self.random(tape.value(pooled).shape, seed: 6)
            tape.backward(from: pooled, seed: gy)
            return (tape.value(pooled), tape.gradient(input)!.reordered(to: .nchw), tape.gradient(w)!, tape.gradient(bn.weight)!, bn.runningVar)
        }
        let plain = run(.nchw), blocked = run(.nChw16c)
        #expect(relativeError(blocked.y, plain.y) < 1e-6)
        #expect(relativeError(blocked.gx, plain.gx) < 1e-5)
        #expect(relativeError(blocked.gw, plain.gw) < 1e-5)
        #expect(relativeError(blocked.gb, plain.gb) < 1e-5)
        #expect(relativeError(blocked.runningVar, plain.runningVar) < 1e-6)
    }

    /// bf16 convolutions on PyTorch's float32 cases: rounding inputs and weights to 8 significant
    /// bits (2^-9 relative) gives about 3e-3 relative L2 on outputs and gradients; 2e-2 bounds it
    /// with room for the small cases' cancellation.
    @Test(arguments: 0..<7)
    func bf16ConvolutionNearFloat32Golden(_ index: Int) throws {
        guard Engine.supportsBF16 else { return }
        let file = try golden("conv2d_\(index)")
        let p = try caseParameters(file)
        let geometry = Conv2DGeometry(stride: p["stride"] as! Int, padding: p["padding"] as! Int, dilation: p["dilation"] as! Int)
        let x = try file.tensor("x"), w = try file.tensor("weight"), b = try file.tensor("bias")
        let y = Conv2D.forward(x, weight: w, bias: b, geometry: geometry, precision: .bf16)
        let expected = try file.tensor("y")
        #expect(relativeError(y, expected) < 2e-2)
        #expect(relativeError(y, expected) > 1e-6, "bf16 arithmetic should not be exact")
        let grads = Conv2D.backward(x, weight: w, gradY: try file.tensor("grad_y"), geometry: geometry, hasBias: true, precision: .bf16)
        #expect(relativeError(grads.gradX!, try file.tensor("grad_x")) < 2e-2)
        #expect(relativeError(grads.gradWeight, try file.tensor("grad_weight")) < 2e-2)
        #expect(relativeError(grads.gradBias!, try file.tensor("grad_bias")) < 2e-2, "summed in float32 from the bf16-rounded dy")
    }

    /// bf16 rounded to nearest even, written out here: what oneDNN's reorder to bf16 does.
    static func roundedToBF16(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, values: t.values.map { value in
            let bits = value.bitPattern
            let rounded = (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000
            return Float(bitPattern: rounded)
        }, layout: t.layout)
    }

    /// bf16 products are exact in float32, so a bf16 convolution equals a float32 one on operands
    /// rounded to bf16, up to the order of float32 accumulation: forward (x, w rounded), backward-data
    /// (dy, w rounded) and backward-weights (x, dy rounded), in plain and blocked layouts.
    @Test(arguments: [Tensor.Layout.nchw, .nChw16c])
    func bf16ConvolutionIsFloat32OnRoundedOperands(_ layout: Tensor.Layout) {
        guard Engine.supportsBF16 else { return }
        let geometry = Conv2DGeometry(stride: 1, padding: 1)
        let x = Self.random([2, 16, 9, 8], seed: 12).reordered(to: layout), w = Self.random([32, 16, 3, 3], seed: 13, scale: 0.2)
        let y = Conv2D.forward(x, weight: w, bias: nil, geometry: geometry, outputLayout: layout, precision: .bf16)
        let (xr, wr) = (Self.roundedToBF16(x), Self.roundedToBF16(w))
        let reference = Conv2D.forward(xr, weight: wr, bias: nil, geometry: geometry, outputLayout: layout)
        #expect(relativeError(y.reordered(to: .nchw), reference.reordered(to: .nchw)) < 1e-6)
        let gy = Self.random(y.shape, seed: 14).reordered(to: layout)
        let grads = Conv2D.backward(x, weight: w, gradY: gy, geometry: geometry, hasBias: false, precision: .bf16)
        let gyr = Self.roundedToBF16(gy)
        let dataReference = Conv2D.backward(xr, weight: wr, gradY: gyr, geometry: geometry, hasBias: false)
        #expect(relativeError(grads.gradX!.reordered(to: .nchw), dataReference.gradX!.reordered(to: .nchw)) < 1e-6)
        #expect(relativeError(grads.gradWeight, dataReference.gradWeight) < 1e-6)
        #expect(relativeError(grads.gradWeight, Conv2D.backward(x, weight: w, gradY: gy, geometry: geometry, hasBias: false).gradWeight) > 1e-5,
                "bf16 arithmetic should differ from float32")
    }

    /// Training-mode batch statistics against a float64 two-pass reference, on channels whose values
    /// sit on a large common offset (what flat image regions give a convolution's output). oneDNN's
    /// own blocked-layout statistics sum in float32 and were 15x less exact than PyTorch's there, which
    /// flipped ReLU signs torch keeps; mims_bn_statistics sums in double. Bounds: the mean stored as
    /// float32 (half an ulp of it, times γ/σ, in every output, as in PyTorch) plus float32 rounding of
    /// the result (|values| up to about 4, so 4 ulp is 2e-6).
    @Test(arguments: [Tensor.Layout.nchw, .nChw16c])
    func trainingStatisticsAreExactOnOffsetInputs(_ layout: Tensor.Layout) {
        let (n, c, h, w) = (8, 32, 24, 20)
        var x = Self.random([n, c, h, w], seed: 21)
        for i in 0..<x.count { x.values[i] = 30 + Float((i / (h * w)) % c) + x.values[i] * 0.05 }
        let weight = Self.random([c], seed: 22), bias = Self.random([c], seed: 23)
        var runningMean = Tensor.zeros([c]), runningVar = Tensor(shape: [c], values: [Float](repeating: 1, count: c))
        let (y, saved) = BatchNorm2D.trainForward(x.reordered(to: layout), weight: weight, bias: bias, runningMean: &runningMean, runningVar: &runningVar)
        let plain = y.reordered(to: .nchw), m = Double(n * h * w)
        var worstOutput = 0.0, worstMean = 0.0, worstVariance = 0.0
        for channel in 0..<c {
            var values: [Double] = []
            for image in 0..<n { for p in 0..<(h * w) { values.append(Double(x.values[(image * c + channel) * h * w + p])) } }
            let mean = values.reduce(0, +) / m
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / m
            worstMean = max(worstMean, abs(Double(saved.mean[channel]) - mean) / abs(mean))
            worstVariance = max(worstVariance, abs(Double(saved.variance[channel]) - variance) / variance)
            let scale = Double(weight.values[channel]) / (variance + 1e-5).squareRoot()
            let bound = abs(scale) * Double(Float(mean).ulp) / 2 + 2e-6
            for image in 0..<n {
                for p in 0..<(h * w) {
                    let i = (image * c + channel) * h * w + p
                    let error = abs(Double(plain.values[i]) - ((Double(x.values[i]) - mean) * scale + Double(bias.values[channel])))
                    worstOutput = max(worstOutput, error / bound)
                }
            }
        }
        #expect(worstMean < 1e-7, "batch mean: relative error \(worstMean)")
        #expect(worstVariance < 1e-5, "batch variance: relative error \(worstVariance)")
        #expect(worstOutput <= 1, "output: largest error \(worstOutput) of its bound")
    }

    /// Evaluation-mode BatchNorm differentiates (heatmaps): dx = γ·σ⁻¹·dy where the fused ReLU's
    /// output is positive, written out here.
    @Test func evaluationBatchNormGradient() {
        let (n, c, h, w) = (2, 48, 3, 4)
        let x = Self.random([n, c, h, w], seed: 7, scale: 2)
        let weight = Self.random([c], seed: 8), bias = Self.random([c], seed: 9)
        let mean = Self.random([c], seed: 10), variance = Tensor(shape: [c], values: (0..<c).map { 0.5 + Float($0) * 0.1 })
        for layout in [Tensor.Layout.nchw, .nChw16c] {
            let (y, saved) = BatchNorm2D.evalForward(x.reordered(to: layout), weight: weight, bias: bias, runningMean: mean, runningVar: variance,
                                                     relu: true, keepForBackward: true)
            let gy = Self.random(x.shape, seed: 11)
            let gx = BatchNorm2D.inputGradient(gy.reordered(to: layout), saved: saved, weight: weight).reordered(to: .nchw)
            let plainY = y.reordered(to: .nchw)
            for i in 0..<x.count {
                let channel = (i / (h * w)) % c
                let scale = weight.values[channel] / (variance.values[channel] + 1e-5).squareRoot()
                let expectedY = max(0, (x.values[i] - mean.values[channel]) * scale + bias.values[channel])
                #expect(abs(plainY.values[i] - expectedY) < 1e-5)
                #expect(abs(gx.values[i] - (expectedY > 0 ? gy.values[i] * scale : 0)) < 1e-5)
            }
        }
    }

    /// The BatchNorm `bn.*` of `store` on `tape`, as a layer reads it.
    static func batchNorm(_ store: ParameterStore, on tape: Tape) -> BatchNormParameters {
        BatchNormParameters(weight: tape.variable(store.tensors["bn.weight"]!), bias: tape.variable(store.tensors["bn.bias"]!),
                            runningMean: store.tensors["bn.running_mean"]!, runningVar: store.tensors["bn.running_var"]!)
    }

    /// conv `w` (3x3, padding 1) - BatchNorm `bn` of `store`, inference weights cached in `store` under "w".
    static func convBatchNorm(_ x: Tape.Variable, _ store: ParameterStore, on tape: Tape, layout: Tensor.Layout, relu: Bool,
                              residual: Tape.Variable? = nil) -> Tape.Variable {
        var bn = batchNorm(store, on: tape)
        return tape.convBatchNorm(x, weight: tape.variable(store.tensors["w"]!), batchNorm: &bn, geometry: Conv2DGeometry(stride: 1, padding: 1),
                                  layout: layout, relu: relu, residual: residual, cachingIn: store, as: "w")
    }

    /// Inference folds BatchNorm into the convolution and runs the residual add and ReLU as its
    /// post-ops; the same numbers as the separate ops (a training-mode tape records those).
    @Test func fusedInferenceMatchesSeparateOps() {
        let x = Self.random([2, 32, 9, 8], seed: 15)
        let store = ParameterStore([
            "w": Self.random([32, 32, 3, 3], seed: 16, scale: 0.2), "bn.weight": Self.random([32], seed: 17), "bn.bias": Self.random([32], seed: 18),
            "bn.running_mean": Self.random([32], seed: 19, scale: 0.1),
            "bn.running_var": Tensor(shape: [32], values: (0..<32).map { 0.5 + Float($0) * 0.05 }),
        ])
        for layout in [Tensor.Layout.nchw, .nChw16c] {
            for (relu, withResidual) in [(true, true), (true, false), (false, false)] {
                func run(recording: Bool) -> Tensor {
                    let tape = Tape(training: false, recordsGradients: recording)
                    let input = tape.constant(x.reordered(to: layout))
                    let y = Self.convBatchNorm(input, store, on: tape, layout: layout, relu: relu, residual: withResidual ? input : nil)
                    return tape.value(y).reordered(to: .nchw)
                }
                #expect(relativeError(run(recording: false), run(recording: true)) < 1e-6, "\(layout) relu \(relu) residual \(withResidual)")
            }
        }
    }

    /// The store keeps inference-ready weights only while no tensor changes: after an optimizer-like
    /// update the next inference uses the new weights (the same numbers as a fresh store).
    @Test func inferenceCacheFollowsTheWeights() {
        let x = Self.random([2, 32, 6, 6], seed: 20).reordered(to: .nChw16c)
        let tensors: [String: Tensor] = [
            "w": Self.random([32, 32, 3, 3], seed: 21, scale: 0.2), "bn.weight": Self.random([32], seed: 22), "bn.bias": Self.random([32], seed: 23),
            "bn.running_mean": Tensor.zeros([32]), "bn.running_var": Tensor(shape: [32], values: [Float](repeating: 1, count: 32)),
        ]
        func infer(_ store: ParameterStore) -> Tensor {
            let tape = Tape(training: false, recordsGradients: false)
            return tape.value(Self.convBatchNorm(tape.constant(x), store, on: tape, layout: .nChw16c, relu: true))
        }
        let store = ParameterStore(tensors)
        let first = infer(store)
        #expect(infer(store) == first, "the cached weights give the same result")
        store.tensors["w"] = Self.random([32, 32, 3, 3], seed: 24, scale: 0.2)
        var changed = tensors
        changed["w"] = store.tensors["w"]
        let updated = infer(store)
        #expect(updated != first)
        #expect(updated == infer(ParameterStore(changed)))
        // Another batch and image size reuse the prepared weights (a volume's last, smaller chunk;
        // a pyramid's scales) and still compute the right function.
        let other = Self.random([3, 32, 9, 7], seed: 27).reordered(to: .nChw16c)
        func inferOther(_ store: ParameterStore) -> Tensor {
            let tape = Tape(training: false, recordsGradients: false)
            return tape.value(Self.convBatchNorm(tape.constant(other), store, on: tape, layout: .nChw16c, relu: true))
        }
        #expect(inferOther(store) == inferOther(ParameterStore(changed)))
        let recorded = Tape(training: false, recordsGradients: true)
        let separate = recorded.value(Self.convBatchNorm(recorded.constant(other), ParameterStore(changed), on: recorded, layout: .nChw16c, relu: true))
        #expect(relativeError(inferOther(store).reordered(to: .nchw), separate.reordered(to: .nchw)) < 1e-6)
    }

    /// 3x3 stride-1 float32 convolutions on blocked tensors run on oneDNN's Winograd kernel; others
    /// on direct kernels.
    @Test func winogradWhereItApplies() {
        let x = Self.random([2, 32, 14, 14], seed: 25).reordered(to: .nChw16c), w = Self.random([32, 32, 3, 3], seed: 26)
        #expect(Conv2D.implementation(x, weight: w, geometry: Conv2DGeometry(stride: 1, padding: 1), outputLayout: .nChw16c).contains("wino"))
        #expect(!Conv2D.implementation(x, weight: w, geometry: Conv2DGeometry(stride: 2, padding: 1), outputLayout: .nChw16c).contains("wino"))
    }

    /// Winograd against direct convolution on the small maps of ResNet's later layers and of small
    /// inputs (5x5 to 16x16, where Winograd's 4x4 tiles only partly fill the map): forward,
    /// backward-data and backward-weights.
    @Test(arguments: [(2, 5), (2, 7), (2, 10), (2, 14), (2, 16), (3, 10), (5, 10), (7, 10), (12, 10), (13, 5)])
    func winogradMatchesDirect(_ spec: (Int, Int)) {
        let (n, size) = spec
        let x = Self.random([n, 64, size, size], seed: 30).reordered(to: .nChw16c), w = Self.random([64, 64, 3, 3], seed: 31, scale: 0.1)
        let geometry = Conv2DGeometry(stride: 1, padding: 1)
        func run(_ winograd: Bool) -> (Tensor, Tensor, Tensor) {
            // For this task only: tests running meanwhile keep the process-wide choice (a global
            // switch here once made a parallel test see the direct kernel).
            Conv2D.$winogradInThisTask.withValue(winograd) {
                let y = Conv2D.forward(x, weight: w, bias: nil, geometry: geometry, outputLayout: .nChw16c)
                let gy = Self.random(y.shape, seed: 32).reordered(to: .nChw16c)
                let g = Conv2D.backward(x, weight: w, gradY: gy, geometry: geometry, hasBias: false)
                return (y.reordered(to: .nchw), g.gradX!.reordered(to: .nchw), g.gradWeight)
            }
        }
        let (wino, direct) = (run(true), run(false))
        #expect(relativeError(wino.0, direct.0) < 1e-5, "forward at \(size)x\(size): \(relativeError(wino.0, direct.0))")
        #expect(relativeError(wino.1, direct.1) < 1e-5, "backward-data at \(size)x\(size): \(relativeError(wino.1, direct.1))")
        #expect(relativeError(wino.2, direct.2) < 1e-5, "backward-weights at \(size)x\(size): \(relativeError(wino.2, direct.2))")
    }

    @Test func bf16IsRefusedWhereTheCPULacksIt() throws {
        if Engine.supportsBF16 {
            try Precision.bf16.checkSupported()
        } else {
            #expect(throws: PrecisionError.self) { try Precision.bf16.checkSupported() }
        }
        #expect(Engine.summary.hasPrefix("engine: oneDNN \(Engine.version) ("))
    }
}
