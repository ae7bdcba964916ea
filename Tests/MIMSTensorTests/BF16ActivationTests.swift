import MIMSCore
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// bf16 activation storage (bf16 training keeps the trunk's blocked activations and their
/// gradients as bf16): every op that reads or writes them against the same op in float32 on the
/// widened values, with the result rounded to nearest even by the formula written out here. What
/// bf16 storage may change is one rounding per stored value, so most bounds are one bf16 ulp.
struct BF16ActivationTests {
    /// Round to nearest even, written out independently of the engine's C kernels and oneDNN.
    static func bf16Bits(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        return UInt16((bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
    }

    static func widened(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// A bf16 tensor of random values (more than the 65,536 at which passes split across cores).
    static func randomBF16(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        let plain = EngineTests.random(shape, seed: seed, scale: scale)
        return Tensor(shape: shape, halves: plain.values.map(bf16Bits), layout: plain.layout)
    }

    /// The bf16 values as float32 in the same layout.
    static func widened(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, values: t.floatValues, layout: t.layout) }

    /// Distance in bf16 ulps between two bf16 tensors' values (same-signed values order like their bits).
    static func maxUlps(_ a: Tensor, _ b: Tensor) -> Int {
        precondition(a.element == .bf16 && b.element == .bf16 && a.count == b.count)
        func ordered(_ bits: UInt16) -> Int { bits & 0x8000 != 0 ? -Int(bits & 0x7fff) : Int(bits) }
        return zip(a.halves, b.halves).map { abs(ordered($0) - ordered($1)) }.max() ?? 0
    }

    @Test func elementwisePassesRoundToNearestEven() {
        let shape = [2, 32, 48, 48]
        let a = Self.randomBF16(shape, seed: 1), b = Self.randomBF16(shape, seed: 2, scale: 0.01)
        let (fa, fb) = (a.halves.map(Self.widened), b.halves.map(Self.widened))
        for relu in [false, true] {
            let sum = Elementwise.add(a, b, relu: relu)
            #expect(sum.element == .bf16)
            let expected = zip(fa, fb).map { Self.bf16Bits(relu ? max(0, $0 + $1) : $0 + $1) }
            #expect(sum.halves == expected, "add (relu: \(relu))")
        }
        // Sums of values 100x apart round most of the time: the pass is not a bitwise copy.
        #expect(zip(Elementwise.add(a, b, relu: false).halves, a.halves).filter { $0 != $1 }.count > a.count / 2)
        var total = a
        Elementwise.accumulate(&total, b)
        #expect(total.halves == zip(fa, fb).map { Self.bf16Bits($0 + $1) })

        let y = ReLU.forward(a)
        #expect(y.halves == fa.map { Self.bf16Bits(max(0, $0)) })
        let dx = ReLU.backward(b, output: y)
        #expect(dx.halves == zip(fb, y.halves.map(Self.widened)).map { $1 > 0 ? Self.bf16Bits($0) : 0 })
        #expect(dx.halves.contains(0) && dx.halves.contains { $0 != 0 })
    }

    @Test func accumulateKeepsNaN() {
        var total = Tensor(shape: [4], halves: [Self.bf16Bits(1), Self.bf16Bits(.nan), Self.bf16Bits(.infinity), Self.bf16Bits(-2)])
        Elementwise.accumulate(&total, Tensor(shape: [4], halves: [Self.bf16Bits(.nan), Self.bf16Bits(1), Self.bf16Bits(1), Self.bf16Bits(2)]))
        let values = total.floatValues
        #expect(values[0].isNaN && values[1].isNaN && values[2] == .infinity && values[3] == 0)
    }

    /// A bf16 convolution writing bf16 is the same convolution writing float32, rounded once; its
    /// backward-data writes a bf16 input gradient the same way, and backward-weights reads bf16
    /// activations and gradients as their float32 widening.
    @Test(arguments: [Conv2DGeometry(stride: 1, padding: 1), Conv2DGeometry(stride: 2, padding: 1)])
    func convolutionStoresItsSumsRoundedOnce(_ geometry: Conv2DGeometry) {
        guard Engine.supportsBF16 else { return }
        let x = Self.randomBF16([2, 32, 14, 13], seed: 3).reordered(to: .nChw16c)
        let w = EngineTests.random([32, 32, 3, 3], seed: 4, scale: 0.2)
        let y = Conv2D.forward(x, weight: w, bias: nil, geometry: geometry, outputLayout: .nChw16c, outputElement: .bf16, precision: .bf16)
        #expect(y.element == .bf16 && y.layout == .nChw16c)
        let wide = Conv2D.forward(Self.widened(x), weight: w, bias: nil, geometry: geometry, outputLayout: .nChw16c, precision: .bf16)
        let rounded = Tensor(shape: wide.shape, halves: wide.values.map(Self.bf16Bits), layout: .nChw16c)
        #expect(Self.maxUlps(y, rounded) <= 1)

        let gy = Self.randomBF16(y.shape, seed: 5).reordered(to: .nChw16c)
        let grads = Conv2D.backward(x, weight: w, gradY: gy, geometry: geometry, hasBias: false, precision: .bf16)
        #expect(grads.gradX!.element == .bf16 && grads.gradWeight.element == .f32)
        let reference = Conv2D.backward(Self.widened(x), weight: w, gradY: Self.widened(gy), geometry: geometry, hasBias: false, precision: .bf16)
        let roundedGradX = Tensor(shape: x.shape, halves: reference.gradX!.values.map(Self.bf16Bits), layout: .nChw16c)
        #expect(Self.maxUlps(grads.gradX!, roundedGradX) <= 1)
        #expect(relativeError(grads.gradWeight, reference.gradWeight) < 1e-6)
    }

    /// BatchNorm (+ReLU) on bf16 activations: the same statistics (summed in double from the same
    /// values), the output within a rounding of the float32 output, and gradients within bf16's
    /// precision of the float32 backward on the widened values.
    @Test(arguments: [false, true])
    func batchNormOnBF16(_ relu: Bool) {
        let (n, c, h, w) = (4, 32, 12, 11)
        let x = Self.randomBF16([n, c, h, w], seed: 6, scale: 3).reordered(to: .nChw16c)
        let weight = EngineTests.random([c], seed: 7), bias = EngineTests.random([c], seed: 8)
        func run(_ input: Tensor) -> (y: Tensor, saved: BatchNorm2D.Saved, runningVar: Tensor) {
            var runningMean = Tensor.zeros([c]), runningVar = Tensor(shape: [c], values: [Float](repeating: 1, count: c))
            let (y, saved) = BatchNorm2D.trainForward(input, weight: weight, bias: bias, runningMean: &runningMean, runningVar: &runningVar, relu: relu)
            return (y, saved, runningVar)
        }
        let half = run(x), full = run(Self.widened(x))
        #expect(half.y.element == .bf16)
        #expect(half.saved.mean == full.saved.mean && half.saved.variance == full.saved.variance && half.runningVar == full.runningVar)
        let rounded = Tensor(shape: x.shape, halves: full.y.values.map(Self.bf16Bits), layout: .nChw16c)
        #expect(Self.maxUlps(half.y, rounded) <= 1)

        let gy = Self.randomBF16(x.shape, seed: 9).reordered(to: .nChw16c)
        let g = BatchNorm2D.backward(gy, saved: half.saved, weight: weight, bias: bias)
        let reference = BatchNorm2D.backward(Self.widened(gy), saved: full.saved, weight: weight, bias: bias)
        #expect(g.gradX.element == .bf16)
        #expect(relativeError(g.gradX, reference.gradX) < 8e-3, "one bf16 rounding (2^-9) of each input gradient")
        #expect(relativeError(g.gradWeight, reference.gradWeight) < 1e-5)
        #expect(relativeError(g.gradBias, reference.gradBias) < 1e-5)
    }

    /// Max pooling picks values, so on bf16 it is exactly float32 pooling of the widened values;
    /// its gradient sums the gradients of overlapping windows (up to four at kernel 3, stride 2)
    /// in bf16, one rounding (2^-9 relative at most) per partial sum.
    @Test func maxPoolingOnBF16IsExact() {
        let x = Self.randomBF16([2, 32, 15, 14], seed: 10).reordered(to: .nChw16c)
        let (y, workspace) = MaxPool2D.forward(x)
        let (reference, referenceWorkspace) = MaxPool2D.forward(Self.widened(x))
        #expect(y.element == .bf16 && y.floatValues == reference.values)
        let gy = Self.randomBF16(y.shape, seed: 11).reordered(to: .nChw16c)
        let gx = MaxPool2D.backward(gy, workspace: workspace, inputShape: x.shape)
        let gxReference = MaxPool2D.backward(Self.widened(gy), workspace: referenceWorkspace, inputShape: x.shape)
        #expect(gx.element == .bf16)
        let error = relativeError(gx, gxReference)
        #expect(error < 4e-3 && error > 0, "relative error \(error)")
        let untouched = zip(gx.halves, gxReference.values).filter { $0.1 == 0 }.allSatisfy { $0.0 == 0 }
        #expect(untouched, "the gradient reaches only the inputs that were a window's maximum")
    }

    /// Reorders between layouts keep bf16 values bit for bit; to plain they widen exactly, and a
    /// plain float32 tensor reordered to bf16 is rounded to nearest even.
    @Test func reordersConvertExactly() {
        let x = Self.randomBF16([2, 32, 5, 7], seed: 12)
        let blocked = x.reordered(to: .nChw16c)
        #expect(blocked.element == .bf16 && blocked.reordered(to: .nchw, element: .bf16) == x)
        #expect(blocked.reordered(to: .nchw) == Self.widened(x))
        let plain = EngineTests.random([2, 32, 5, 7], seed: 13)
        #expect(plain.reordered(to: .nchw, element: .bf16).halves == plain.values.map(Self.bf16Bits))
    }

    /// On a bf16 tape the trunk's blocked activations are bf16 and the plain results float32; the
    /// gradient of a value reaches its input in the input's own type.
    @Test func tapeKeepsBlockedActivationsInBF16() {
        guard Engine.supportsBF16 else { return }
        let store = ParameterStore([
            "w": EngineTests.random([32, 16, 3, 3], seed: 14, scale: 0.3),
            "bn.weight": EngineTests.random([32], seed: 15), "bn.bias": EngineTests.random([32], seed: 16),
            "bn.running_mean": Tensor.zeros([32]), "bn.running_var": Tensor(shape: [32], values: [Float](repeating: 1, count: 32)),
        ])
        let tape = Tape(training: true, precision: .bf16)
        let input = tape.variable(EngineTests.random([2, 16, 9, 9], seed: 17)), w = tape.variable(store.tensors["w"]!)
        var bn = EngineTests.batchNorm(store, on: tape)
        let conv = tape.conv2d(input, weight: w, geometry: Conv2DGeometry(stride: 1, padding: 1), layout: .nChw16c)
        let activation = tape.add(tape.batchNorm(conv, &bn, relu: true), conv, relu: true)
        let output = tape.reorder(tape.maxPool(activation), to: .nchw)
        #expect(tape.value(conv).element == .bf16 && tape.value(activation).element == .bf16)
        #expect(tape.value(output).element == .f32 && tape.value(output).layout == .nchw)
        tape.backward(from: output, seed: EngineTests.random(tape.value(output).shape, seed: 18))
        #expect(tape.gradient(input)!.element == .f32 && tape.gradient(w)!.element == .f32 && tape.gradient(bn.weight)!.element == .f32)
    }
}
