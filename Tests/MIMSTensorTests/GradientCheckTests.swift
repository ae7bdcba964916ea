import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// Finite-difference checks of every backward pass on tiny sizes: for a random direction v, the
/// directional derivative of L = Σ gY·f(x) by central differences must equal Σ gX·v.
struct GradientCheckTests {
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(generator.unit() * 2 - 1) * scale })
    }

    static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.values, b.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    static func moved(_ x: Tensor, _ v: Tensor, _ step: Float) -> Tensor {
        Tensor(shape: x.shape, values: zip(x.values, v.values).map { $0 + step * $1 })
    }

    /// Checks d/dt L(x + t v) at 0 against `analytic`.
    static func check(_ f: (Tensor) -> Tensor, at x: Tensor, gradY: Tensor, analytic: Tensor, seed: UInt64, tolerance: Double = 2e-3) {
        let v = random(x.shape, seed: seed)
        let step: Float = 1e-2
        let numeric = (dot(gradY, f(moved(x, v, step))) - dot(gradY, f(moved(x, v, -step)))) / (2 * Double(step))
        let exact = dot(analytic, v)
        #expect(abs(numeric - exact) <= tolerance * max(1, abs(exact)), "numeric \(numeric) vs analytic \(exact)")
    }

    @Test(arguments: [Conv2DGeometry(stride: 1, padding: 1, dilation: 1), Conv2DGeometry(stride: 2, padding: 0, dilation: 1),
                      Conv2DGeometry(stride: 1, padding: 2, dilation: 2)])
    func conv2d(_ geometry: Conv2DGeometry) {
        let x = Self.random([2, 3, 7, 6], seed: 1), w = Self.random([4, 3, 3, 3], seed: 2, scale: 0.5), b = Self.random([4], seed: 3)
        let y = Conv2D.forward(x, weight: w, bias: b, geometry: geometry)
        let gy = Self.random(y.shape, seed: 4)
        let grads = Conv2D.backward(x, weight: w, gradY: gy, geometry: geometry, hasBias: true)
        Self.check({ Conv2D.forward($0, weight: w, bias: b, geometry: geometry) }, at: x, gradY: gy, analytic: grads.gradX!, seed: 5)
        Self.check({ Conv2D.forward(x, weight: $0, bias: b, geometry: geometry) }, at: w, gradY: gy, analytic: grads.gradWeight, seed: 6)
        Self.check({ Conv2D.forward(x, weight: w, bias: $0, geometry: geometry) }, at: b, gradY: gy, analytic: grads.gradBias!, seed: 7)
        // 1x1 convolutions take their own oneDNN kernel.
        let w1 = Self.random([5, 3, 1, 1], seed: 8)
        let y1 = Conv2D.forward(x, weight: w1, bias: nil, geometry: Conv2DGeometry())
        let g1 = Conv2D.backward(x, weight: w1, gradY: Self.random(y1.shape, seed: 9), geometry: Conv2DGeometry(), hasBias: false)
        Self.check({ Conv2D.forward($0, weight: w1, bias: nil, geometry: Conv2DGeometry()) }, at: x, gradY: Self.random(y1.shape, seed: 9),
                   analytic: g1.gradX!, seed: 10)
    }

    @Test func batchnorm() {
        let x = Self.random([3, 2, 4, 3], seed: 11, scale: 2), w = Self.random([2], seed: 12), b = Self.random([2], seed: 13)
        func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> (Tensor, BatchNorm2D.Saved) {
            var mean = Tensor.zeros([2]), variance = Tensor(shape: [2], values: [1, 1])
            return BatchNorm2D.trainForward(x, weight: w, bias: b, runningMean: &mean, runningVar: &variance)
        }
        let (y, saved) = forward(x, w, b)
        let gy = Self.random(y.shape, seed: 14)
        let grads = BatchNorm2D.backward(gy, saved: saved, weight: w, bias: b)
        Self.check({ forward($0, w, b).0 }, at: x, gradY: gy, analytic: grads.gradX, seed: 15)
        Self.check({ forward(x, $0, b).0 }, at: w, gradY: gy, analytic: grads.gradWeight, seed: 16)
        Self.check({ forward(x, w, $0).0 }, at: b, gradY: gy, analytic: grads.gradBias, seed: 17)
    }

    @Test func maxpoolReluResize() {
        // Distinct values far apart, so small steps never change which input wins a window.
        var values = (0..<2 * 2 * 7 * 7).map { Float($0) * 0.37 }
        var generator = SplitMix64(seed: 18)
        values.shuffle(using: &generator)
        let x = Tensor(shape: [2, 2, 7, 7], values: values)
        let (y, workspace) = MaxPool2D.forward(x)
        let gy = Self.random(y.shape, seed: 19)
        Self.check({ MaxPool2D.forward($0).y }, at: x, gradY: gy, analytic: MaxPool2D.backward(gy, workspace: workspace, inputShape: x.shape), seed: 20)

        let r = Tensor(shape: [1, 1, 2, 3], values: [-2, -1, 0.5, 1, 2, -3])
        let ry = ReLU.forward(r)
        let rgy = Self.random(ry.shape, seed: 21)
        Self.check(ReLU.forward, at: r, gradY: rgy, analytic: ReLU.backward(rgy, output: ry), seed: 22)

        let z = Self.random([1, 2, 5, 4], seed: 23)
        for (h, w) in [(9, 7), (3, 2)] {
            let zy = BilinearResize2D.forward(z, height: h, width: w)
            let zgy = Self.random(zy.shape, seed: 24)
            Self.check({ BilinearResize2D.forward($0, height: h, width: w) }, at: z, gradY: zgy,
                       analytic: BilinearResize2D.backward(zgy, inputShape: z.shape), seed: 25)
        }
    }

    @Test func linearCrossEntropy() {
        let x = Self.random([4, 6], seed: 26), w = Self.random([3, 6], seed: 27), b = Self.random([3], seed: 28)
        let labels = [0, 2, 1, 2]
        func loss(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
            Tensor(shape: [1], values: [SoftmaxCrossEntropy.lossAndGradient(logits: Linear.forward(x, weight: w, bias: b), labels: labels).loss])
        }
        let (_, gradLogits) = SoftmaxCrossEntropy.lossAndGradient(logits: Linear.forward(x, weight: w, bias: b), labels: labels)
        let grads = Linear.backward(x, weight: w, gradY: gradLogits)
        let one = Tensor(shape: [1], values: [1])
        Self.check({ loss($0, w, b) }, at: x, gradY: one, analytic: grads.gradX, seed: 29)
        Self.check({ loss(x, $0, b) }, at: w, gradY: one, analytic: grads.gradWeight, seed: 30)
        Self.check({ loss(x, w, $0) }, at: b, gradY: one, analytic: grads.gradBias, seed: 31)
    }
}

/// Finite-difference checks of the bag and shape ops on the tape.
struct TapeGradientCheckTests {
    /// Runs `build` on a fresh tape with `x` as variable; returns Σ gY·output.
    static func objective(_ x: Tensor, _ gy: Tensor, _ build: (Tape, Tape.Variable) -> Tape.Variable) -> Tensor {
        let tape = Tape()
        return tape.value(build(tape, tape.variable(x)))
    }

    static func checkOp(_ x: Tensor, seed: UInt64, _ build: @escaping (Tape, Tape.Variable) -> Tape.Variable) {
        let tape = Tape()
        let vx = tape.variable(x)
        let y = build(tape, vx)
        let gy = GradientCheckTests.random(tape.value(y).shape, seed: seed)
        tape.backward(from: y, seed: gy)
        let analytic = tape.gradient(vx) ?? Tensor.zeros(x.shape)
        GradientCheckTests.check({ objective($0, gy, build) }, at: x, gradY: gy, analytic: analytic, seed: seed + 1)
    }

    /// Values spread far apart so a small step never changes which ones top-k selects.
    static func spread(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        var values = (0..<shape.reduce(1, *)).map { Float($0) * 0.25 - 3 }
        values.shuffle(using: &generator)
        return Tensor(shape: shape, values: values)
    }

    @Test func bagPools() {
        let x = Self.spread([5, 3, 3, 2], seed: 40)
        let theta = Tensor(shape: [4], values: [0.3, -0.2, 0.1, -0.7])
        for aggregation in [BagAggregation.topK(4), .mean, .max] {
            Self.checkOp(x, seed: 41) { tape, v in
                // Two "scales": the map itself and a slice-resized copy share channels and slices.
                let small = tape.resize(v, height: 2, width: 1)
                return tape.bagPool([v, small], bagSizes: [2, 3], aggregation: aggregation, theta: tape.constant(theta)).output
            }
        }
        // θ's gradient.
        Self.checkOp(theta, seed: 43) { tape, t in tape.bagPool([tape.constant(x)], bagSizes: [1, 4], aggregation: .topK(4), theta: t).output }
    }

    @Test func shapeOps() {
        let x = GradientCheckTests.random([4, 3, 2, 2], seed: 50)
        Self.checkOp(x, seed: 51) { tape, v in tape.concatChannels([v, tape.slice(v, rows: 0..<4), tape.relu(v)]) }
        Self.checkOp(x, seed: 52) { tape, v in tape.concatRows([tape.slice(v, rows: 1..<3), tape.slice(v, rows: 0..<2)]) }
        Self.checkOp(x, seed: 53) { tape, v in tape.mean(tape.globalAveragePool(v)) }
        let scale = GradientCheckTests.random([2, 5], seed: 54)
        Self.checkOp(x, seed: 55) { tape, v in tape.scaleChannels(v, by: tape.constant(scale), row: 1, offset: 2) }
        Self.checkOp(scale, seed: 56) { tape, s in tape.scaleChannels(tape.constant(x), by: s, row: 1, offset: 1) }
    }
}
