import Foundation
import MIMSCore
import MIMSTestSupport
import Testing
@testable import MIMSModels
@testable import MIMSTensor
@testable import MIMSTrain

/// The whole model (trunk + head of each variant) differentiated by the tape against central
/// finite differences of its loss, on tiny inputs.
struct NetworkGradientTests {
    static func pipeline(_ model: String, extra: String = "") throws -> Pipeline {
        // Each variant gets exactly the keys it uses: an unused key is an error.
        let variant = try #require(Pipeline.Variant(rawValue: model))
        let msconv = !variant.usesMSConv ? "" : variant.usesScales
            ? "msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}" : "msconv: {kernels: [[2, 3], [3, 4]]}"
        // resnet34-scratch is ResNet-34 and featpyra-4-5 runs to layer4 whatever a pipeline says,
        // and the parser refuses other values for them.
        let backbone = variant.spec.depth.map { "depth: \($0.rawValue), feature_layer: layer3" }
            ?? (variant.spec.featureLayers != nil ? "depth: 18, feature_layer: layer4" : "depth: 18, feature_layer: layer3")
        return try Pipeline.parse("""
        name: tiny
        model: \(model)
        backbone: {\(backbone)}
        input_size: [48, 40]
        \(msconv)
        \(extra)
        """, file: "tiny.yaml")
    }

    static func loss(_ network: Network, _ store: ParameterStore, _ input: Tensor, bagSizes: [Int], labels: [Int])
        -> (Double, ParameterBinding, Tape.Variable) {
        // Fresh running statistics each time: training-mode BN updates them, the loss does not read them.
        let parameters = ParameterBinding(ParameterStore(store.tensors), on: Tape(training: true)), tape = parameters.tape
        let x = tape.variable(input)
        let l = tape.crossEntropy(network.logits(parameters, x, bagSizes: bagSizes), labels: labels)
        return (Double(tape.value(l).values[0]), parameters, x)
    }

    /// Every variant's head on smooth random maps (no ReLU zeros, so no top-k ties that finite
    /// differences would straddle): d loss along a random direction of the maps and of θ.
    @Test(arguments: Pipeline.Variant.allCases.map(\.rawValue))
    func headDirectionalDerivative(_ model: String) throws {
        let network = Network(try Self.pipeline(model))
        let store = ParameterStore()
        network.initialize(store, seed: 5)
        var random = SplitMix64(seed: 6)
        let channels = network.head.inputChannels
        // Layer3 maps of 48x40 inputs are 3x3, layer4 2x2; pyramid levels shrink with the input.
        let sizes: [[Int]] = network.featureLayers == [3, 4] ? [[3, 3], [2, 2]] : network.pyramid.map { f in
            [MIMSHead.scaled(3, f), MIMSHead.scaled(3, f)] }
        // Within a channel the values of every map sit on one shuffled grid 0.1 apart, so the
        // small steps below never change which values top-k selects.
        var maps = zip(channels, sizes).map { c, hw in Tensor.zeros([3, c, hw[0], hw[1]]) }
        for channel in 0..<channels[0] {
            let total = maps.reduce(0) { $0 + 3 * $1.shape[2] * $1.shape[3] }
            var grid = (0..<total).map { Float($0) * 0.1 - Float(total) * 0.05 }
            grid.shuffle(using: &random)
            for m in maps.indices where channel < maps[m].shape[1] {
                let (c, plane) = (maps[m].shape[1], maps[m].shape[2] * maps[m].shape[3])
                for s in 0..<3 { for i in 0..<plane { maps[m].values[(s * c + channel) * plane + i] = grid.removeLast() } }
            }
        }
        for m in maps.indices where maps[m].shape[1] > channels[0] {
            for i in 0..<maps[m].count { maps[m].values[i] = Float(random.unit() * 4 - 2) }
        }
        let bagSizes = [2, 1], labels = [1, 0]
        func loss(_ maps: [Tensor]) -> (Double, ParameterBinding, [Tape.Variable], Tape.Variable) {
            let parameters = ParameterBinding(ParameterStore(store.tensors), on: Tape(training: true)), tape = parameters.tape
            let vs = maps.map(tape.variable)
            let l = tape.crossEntropy(network.logits(parameters, maps: vs, bagSizes: bagSizes), labels: labels)
            return (Double(tape.value(l).values[0]), parameters, vs, l)
        }
        let (_, parameters, vs, l) = loss(maps)
        let tape = parameters.tape
        tape.backward(from: l)
        let directions = maps.map { m in (0..<m.count).map { _ in Float(random.unit() * 2 - 1) } }
        let step: Float = 1e-3
        func moved(_ sign: Float) -> [Tensor] {
            zip(maps, directions).map { m, d in Tensor(shape: m.shape, values: zip(m.values, d).map { $0 + sign * step * $1 }) }
        }
        let numeric = (loss(moved(1)).0 - loss(moved(-1)).0) / (2 * Double(step))
        var exact = 0.0
        for (v, d) in zip(vs, directions) {
            let g = try #require(tape.gradient(v))
            exact += zip(g.values, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(abs(numeric - exact) <= 0.01 * max(abs(exact), 1e-2), "\(model): numeric \(numeric) analytic \(exact)")
        // Every head parameter received a gradient.
        for name in network.head.parameterShapes().keys where !name.contains("running") && !name.contains("num_batches") {
            #expect(parameters.gradient(of: "head." + name) != nil, "\(model): no gradient for head.\(name)")
        }
    }

    @Test(arguments: ["mims"])
    func directionalDerivative(_ model: String) throws {
        let network = Network(try Self.pipeline(model))
        let store = ParameterStore()
        network.initialize(store, seed: 3)
        var random = SplitMix64(seed: 4)
        let input = Tensor(shape: [3, 3, 48, 40], values: (0..<3 * 3 * 48 * 40).map { _ in Float(random.unit() * 2 - 1) })
        let (bagSizes, labels) = ([2, 1], [1, 0])
        let (_, parameters, x) = Self.loss(network, store, input, bagSizes: bagSizes, labels: labels)
        let (lossValue, _, _) = Self.loss(network, store, input, bagSizes: bagSizes, labels: labels)
        let tape = parameters.tape
        tape.backward(from: tape.crossEntropy(network.logits(parameters, x, bagSizes: bagSizes), labels: labels))
        _ = lossValue

        // Input direction.
        let gx = try #require(tape.gradient(x))
        let v = (0..<input.count).map { _ in Float(random.unit() * 2 - 1) }
        let step: Float = 1e-3
        func moved(_ sign: Float) -> Tensor { Tensor(shape: input.shape, values: zip(input.values, v).map { $0 + sign * step * $1 }) }
        let numeric = (Self.loss(network, store, moved(1), bagSizes: bagSizes, labels: labels).0
                       - Self.loss(network, store, moved(-1), bagSizes: bagSizes, labels: labels).0) / (2 * Double(step))
        let exact = zip(gx.values, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(numeric - exact) <= 0.02 * max(abs(exact), 1e-3), "input: numeric \(numeric) analytic \(exact)")

        // A backbone and a head parameter.
        for name in ["backbone.layer1.0.conv1.weight", "head.fc.weight"] {
            let g = try #require(parameters.gradient(of: name), "no gradient for \(name)")
            let p = store.tensors[name]!
            let w = (0..<p.count).map { _ in Float(random.unit() * 2 - 1) }
            func with(_ sign: Float) -> ParameterStore {
                let s = ParameterStore(store.tensors)
                s.tensors[name] = Tensor(shape: p.shape, values: zip(p.values, w).map { $0 + sign * step * $1 })
                return s
            }
            let n = (Self.loss(network, with(1), input, bagSizes: bagSizes, labels: labels).0
                     - Self.loss(network, with(-1), input, bagSizes: bagSizes, labels: labels).0) / (2 * Double(step))
            let e = zip(g.values, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(n - e) <= 0.02 * max(abs(e), 1e-3), "\(name): numeric \(n) analytic \(e)")
        }
    }

    /// max-inst: the bag score is the largest slice probability; its cross-entropy's gradient
    /// against central differences (distinct slice probabilities, so the max never switches).
    @Test func maxInstanceLoss() throws {
        let logits = Tensor(shape: [5, 2], values: [0.3, -0.2, 1.1, 0.4, -0.5, 0.9, 0.0, 0.1, 0.7, -0.8])
        let bagSizes = [3, 2], labels = [1, 0]
        func loss(_ t: Tensor) -> Double {
            let tape = Tape()
            return Double(tape.value(tape.maxInstanceLoss(tape.constant(t), bagSizes: bagSizes, labels: labels)).values[0])
        }
        let tape = Tape()
        let v = tape.variable(logits)
        tape.backward(from: tape.maxInstanceLoss(v, bagSizes: bagSizes, labels: labels))
        let g = try #require(tape.gradient(v))
        for i in 0..<logits.count {
            var up = logits, down = logits
            up.values[i] += 1e-3
            down.values[i] -= 1e-3
            let numeric = (loss(up) - loss(down)) / 2e-3
            #expect(abs(numeric - Double(g.values[i])) < 2e-3, "logit \(i): numeric \(numeric) analytic \(g.values[i])")
        }
        // Only each bag's most probable slice receives gradient.
        // Class-1 probabilities 0.38, 0.33, 0.80 | 0.52, 0.18: slices 2 and 3 win.
        #expect([0, 1, 2, 3, 8, 9].allSatisfy { g.values[$0] == 0 } && [4, 5, 6, 7].allSatisfy { g.values[$0] != 0 })
    }
}
