import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSModels
@testable import MIMSTensor

/// Top-k pooling and the MIMS head (MSConv, magnitude normalization, top-k, classifier) against
/// the PyTorch-computed golden cases.
struct HeadGoldenTests {
    @Test(arguments: 0..<3)
    func topKPool(_ index: Int) throws {
        let file = try golden("topk_pool_\(index)")
        let k = try caseParameters(file)["k"] as! Int
        let values = try file.tensor("values"), theta = try file.tensor("theta")
        // [B, C, M] as bags of one slice with an M-long row per channel.
        let x = values.reshaped([values.shape[0], values.shape[1], 1, values.shape[2]])
        let tape = Tape()
        let vx = tape.variable(x), vt = tape.variable(theta)
        let y = tape.bagPool([vx], bagSizes: Array(repeating: 1, count: values.shape[0]), aggregation: .topK(k), theta: vt).output
        #expect(relativeError(tape.value(y), try file.tensor("y")) < 1e-4)
        tape.backward(from: y, seed: try file.tensor("grad_y"))
        #expect(relativeError(try #require(tape.gradient(vx)).reshaped(values.shape), try file.tensor("grad_values")) < 1e-4)
        #expect(relativeError(try #require(tape.gradient(vt)), try file.tensor("grad_theta")) < 1e-4)
    }

    @Test func topKInitialization() throws {
        let file = try golden("topk_pool_init")
        let store = ParameterStore()
        MIMSHead(inputChannels: [4], branches: [.init(scale: 1)], groups: []).initialize(store, seed: 1)
        #expect(relativeError(store.tensors["topk.theta"]!, try file.tensor("theta")) < 1e-6)
        let weights = BagPool.weights(store.tensors["topk.theta"]!, count: 5)
        #expect(relativeError(Tensor(shape: [5], values: weights), try file.tensor("weights")) < 1e-6)
    }

    /// The head with bf16 convolutions (MSConv) against PyTorch's float32: logits and loss to bf16's
    /// precision (8 significant bits in the convolutions' operands, float32 everywhere else).
    @Test(arguments: ["mims_head_small", "mims_head_2d", "mims_head_3d"])
    func headInBF16(_ name: String) throws {
        guard Engine.supportsBF16 else { return }
        let file = try golden(name)
        let p = try caseParameters(file)
        let kernels = (p["kernels"] as! [[Int]]).map { ($0[0], $0[1]) }
        let x = try file.tensor("x")
        let head = MIMSHead.mims(inputChannels: x.shape[1], kernels: kernels, scales: p["scales"] as! [Double], aggregation: .topK(p["k"] as! Int))
        var parameters: [String: Tensor] = [:]
        for entry in file.entries.keys where entry.hasPrefix("param.") { parameters["head." + entry.dropFirst(6)] = try file.tensor(entry) }
        let tape = Tape(training: true, precision: .bf16)
        let logits = head(ParameterBinding(ParameterStore(parameters), on: tape).under("head"), [tape.variable(x)],
                          bagSizes: try file.integers("bag_sizes").map(Int.init)).logits
        let error = relativeError(tape.value(logits), try file.tensor("logits"))
        #expect(error < 3e-2 && error > 0, "bf16 logits: relative error \(error)")
        let loss = tape.crossEntropy(logits, labels: try file.integers("labels").map(Int.init))
        #expect(relativeError(tape.value(loss), try file.tensor("loss")) < 3e-2)
    }

    @Test(arguments: ["mims_head_small", "mims_head_2d", "mims_head_3d"])
    func head(_ name: String) throws {
        let file = try golden(name)
        let p = try caseParameters(file)
        let kernels = (p["kernels"] as! [[Int]]).map { ($0[0], $0[1]) }
        let scales = p["scales"] as! [Double]
        let x = try file.tensor("x")
        let head = MIMSHead.mims(inputChannels: x.shape[1], kernels: kernels, scales: scales, aggregation: .topK(p["k"] as! Int))
        var parameters: [String: Tensor] = [:]
        for entry in file.entries.keys where entry.hasPrefix("param.") {
            parameters["head." + entry.dropFirst(6)] = try file.tensor(entry)
        }
        #expect(Set(parameters.keys) == Set(head.parameterShapes().keys.map { "head." + $0 }))
        for (name, shape) in head.parameterShapes() { #expect(parameters["head." + name]!.shape == shape, "\(name)") }
        let bagSizes = try file.integers("bag_sizes").map(Int.init), labels = try file.integers("labels").map(Int.init)
        let store = ParameterStore(parameters)

        let tape = Tape(training: true)
        let bound = ParameterBinding(store, on: tape)
        let vx = tape.variable(x)
        let logits = head(bound.under("head"), [vx], bagSizes: bagSizes).logits
        #expect(relativeError(tape.value(logits), try file.tensor("logits")) < 1e-4)
        let loss = tape.crossEntropy(logits, labels: labels)
        #expect(relativeError(tape.value(loss), try file.tensor("loss")) < 1e-4)
        tape.backward(from: loss)
        #expect(relativeError(try #require(tape.gradient(vx)), try file.tensor("grad_x")) < 1e-4)
        let lossGradients = bound.gradients
        for entry in file.entries.keys.sorted() where entry.hasPrefix("after.") {
            #expect(relativeError(store.tensors["head." + entry.dropFirst(6)]!, try file.tensor(entry)) < 1e-4, "\(entry)")
        }

        // Supplement C at the head's input: T = Σ_c x · dlogit[bag 0, class 1]/dx over bag 0's slices,
        // from a second backward pass on the same tape (training-mode BN over the stacked batch).
        tape.clearGradients()
        var seed = Tensor.zeros(tape.value(logits).shape)
        seed.values[1] = 1
        tape.backward(from: logits, seed: seed)
        let d = try #require(tape.gradient(vx))
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        var t = Tensor.zeros([bagSizes[0], x.shape[2], x.shape[3]])
        for s in 0..<bagSizes[0] { for ch in 0..<c { for i in 0..<plane {
            let at = (s * c + ch) * plane + i
            t.values[s * plane + i] += d.values[at] * x.values[at]
        } } }
        let positive = Tensor(shape: t.shape, values: t.values.map { max(0, $0) })
        #expect(relativeError(positive, try file.tensor("heatmap_T_bag0_class1")) < 1e-4)
        let quantized = HeatmapQuantizer.quantize(t.values), referenceP = try file.tensor("heatmap_P_bag0_class1")
        #expect(zip(quantized, referenceP.values).allSatisfy { abs(Float($0) - $1) <= 1 })
        #expect(quantized.contains(255))

        // The generator left the parameters' .grad accumulating over both passes (the loss, then
        // the heatmap's logit), so its grad.* are the sum of the two; grad_x is the loss's alone.
        for entry in file.entries.keys.sorted() where entry.hasPrefix("grad.") {
            let name = "head." + entry.dropFirst(5)
            var gradient = try #require(lossGradients[name], "no gradient for \(entry)")
            if let second = bound.gradient(of: name) { for i in 0..<gradient.count { gradient.values[i] += second.values[i] } }
            let reference = try file.tensor(entry)
            if norm(reference) < 1e-12 {
                // A conv bias feeding a training-mode BN has gradient exactly zero; float32 leaves
                // rounding noise, so the check is absolute against the other gradients' scale.
                #expect(norm(gradient) < 1e-5, "\(entry) \(gradient.values)")
            } else {
                #expect(relativeError(gradient, reference) < 1e-4, "\(entry) \(gradient.values.prefix(4)) vs \(reference.values.prefix(4))")
            }
        }
    }

    func norm(_ t: Tensor) -> Double { t.values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
}
