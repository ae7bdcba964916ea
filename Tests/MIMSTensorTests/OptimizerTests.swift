import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// SGD and Adam against PyTorch's update rules written out in float64, plus properties that do
/// not depend on the formulas (Adam's first step moves each weight by the learning rate).
struct OptimizerTests {
    static let groups = [ParameterGroup(prefix: "backbone.", learningRate: 0.005), ParameterGroup(prefix: "head.", learningRate: 0.01)]

    static func gradients(_ step: Int) -> [String: Tensor] {
        ["backbone.w": GradientCheckTests.random([3, 2], seed: UInt64(100 + step)),
         "head.w": GradientCheckTests.random([4], seed: UInt64(200 + step)),
         "other.w": GradientCheckTests.random([2], seed: UInt64(300 + step))]
    }

    static func store() -> ParameterStore {
        ParameterStore(["backbone.w": GradientCheckTests.random([3, 2], seed: 1), "head.w": GradientCheckTests.random([4], seed: 2),
                        "other.w": GradientCheckTests.random([2], seed: 3)])
    }

    @Test func sgdWithMomentumAndWeightDecay() {
        let store = Self.store(), initial = store.tensors
        var optimizer = Optimizer(.sgd(momentum: 0.9), groups: Self.groups, weightDecay: 1e-4)
        for step in 0..<4 { optimizer.update(store, gradients: Self.gradients(step)) }
        for (name, lr) in [("backbone.w", 0.005), ("head.w", 0.01)] {
            var p = initial[name]!.values.map(Double.init), buffer = [Double](repeating: 0, count: p.count)
            for step in 0..<4 {
                let g = Self.gradients(step)[name]!.values
                for i in p.indices {
                    let d = Double(g[i]) + 1e-4 * p[i]
                    buffer[i] = step == 0 ? d : 0.9 * buffer[i] + d
                    p[i] -= lr * buffer[i]
                }
            }
            for (a, b) in zip(store.tensors[name]!.values, p) { #expect(abs(Double(a) - b) < 1e-6, "\(name)") }
        }
        #expect(store.tensors["other.w"] == initial["other.w"], "no group covers other.*: frozen")
    }

    @Test func adam() {
        let store = Self.store(), initial = store.tensors
        var optimizer = Optimizer(.adam(), groups: Self.groups)
        optimizer.update(store, gradients: Self.gradients(0))
        // First step: m̂ = g and v̂ = g², so each weight moves by lr · sign(g) (up to eps).
        for (name, lr) in [("backbone.w", Float(0.005)), ("head.w", Float(0.01))] {
            for ((after, before), g) in zip(zip(store.tensors[name]!.values, initial[name]!.values), Self.gradients(0)[name]!.values) {
                #expect(abs((before - after) - lr * (g > 0 ? 1 : -1)) < 1e-5)
            }
        }
        for step in 1..<3 { optimizer.update(store, gradients: Self.gradients(step)) }
        var p = initial["head.w"]!.values.map(Double.init)
        var m = [Double](repeating: 0, count: 4), v = m
        for step in 0..<3 {
            let g = Self.gradients(step)["head.w"]!.values.map(Double.init)
            for i in 0..<4 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mHat = m[i] / (1 - pow(0.9, Double(step + 1))), vHat = v[i] / (1 - pow(0.999, Double(step + 1)))
                p[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for (a, b) in zip(store.tensors["head.w"]!.values, p) { #expect(abs(Double(a) - b) < 1e-6) }
    }

    @Test func stateRoundTripResumesExactly() {
        let a = Self.store(), b = Self.store()
        var first = Optimizer(.sgd(momentum: 0.9), groups: Self.groups, weightDecay: 1e-4)
        for step in 0..<2 { first.update(a, gradients: Self.gradients(step)) }
        var resumed = Optimizer(.sgd(momentum: 0.9), groups: Self.groups, weightDecay: 1e-4)
        b.tensors = a.tensors
        resumed.restore(first.stateTensors(), step: first.step)
        first.update(a, gradients: Self.gradients(2))
        resumed.update(b, gradients: Self.gradients(2))
        #expect(a.tensors == b.tensors)
    }
}
