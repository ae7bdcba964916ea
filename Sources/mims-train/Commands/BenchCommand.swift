import ArgumentParser
import Foundation
import MIMSBLAS
import MIMSCore
import MIMSModels
import MIMSTensor

/// The tensor engine's benchmark: one ResNet training step (forward, backward, SGD update) on a
/// random batch, the time its convolution GEMMs take by themselves, and forward-only evaluation.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a ResNet training step, its convolution GEMMs and forward-only evaluation.",
        discussion: """
        A step of ResNet-101 on 16 x 3 x 224 x 224 counts as 3 x 15.6 GFLOP per image (forward, and a \
        backward twice its cost), about 750 GFLOP. Compare with bench/baselines/train_step.py (PyTorch).
        """)

    @Option(help: "ResNet depth: 18, 34, 50 or 101.") var depth = 101
    @Option(help: "Images per step.") var batch = 16
    @Option(help: "Input height and width.") var size = 224
    @Option(help: "Timed steps after one warm-up step; the best is reported.") var repeats = 2
    @Flag(help: "Print every timed step.") var verbose = false

    func run() throws {
        guard let depth = ResNetTrunk.Depth(rawValue: depth) else { throw ValidationError("--depth must be 18, 34, 50 or 101") }
        print(BLASRuntime.summary)
        let trunk = ResNetTrunk(depth)
        let store = ParameterStore()
        trunk.initialize(store, seed: 1)
        let channels = trunk.channels(afterLayer: 4)
        store.tensors["fc.weight"] = Tensor(shape: [1000, channels], values: (0..<1000 * channels).map { Float($0 % 13) * 1e-3 })
        store.tensors["fc.bias"] = Tensor.zeros([1000])
        var random = SplitMix64(seed: 2)
        let input = Tensor(shape: [batch, 3, size, size], values: (0..<batch * 3 * size * size).map { _ in Float(random.unit() * 2 - 1) })
        let labels = (0..<batch).map { $0 % 1000 }
        var optimizer = Optimizer(.sgd(momentum: 0.9), groups: [ParameterGroup(prefix: "", learningRate: 1e-4)], weightDecay: 1e-4)
        let name = "resnet\(depth.rawValue)"
        let gflop = Self.forwardGFLOP(depth: depth, size: size) * Double(batch)

        func step() -> Double {
            let start = Date()
            let tape = Tape(store: store, training: true)
            let features = tape.globalAveragePool(trunk.forward(tape, tape.constant(input)))
            let loss = tape.crossEntropy(tape.linear(features, weight: tape.parameter("fc.weight"), bias: tape.parameter("fc.bias")), labels: labels)
            tape.backward(from: loss)
            var gradients: [String: Tensor] = [:]
            for name in tape.parameterNames { if let g = tape.gradient(of: name) { gradients[name] = g } }
            optimizer.update(store, gradients: gradients)
            return Date().timeIntervalSince(start)
        }
        _ = step()
        var best = Double.infinity, gemm = Double.infinity
        for _ in 0..<max(1, repeats) {
            ConvGEMMClock.seconds = 0
            ConvGEMMClock.enabled = true
            let faults = Self.minorFaults()
            let seconds = step()
            ConvGEMMClock.enabled = false
            if verbose { print(String(format: "  step %.2f s, GEMMs %.2f s, %d page faults", seconds, ConvGEMMClock.seconds, Self.minorFaults() - faults)) }
            if seconds < best { best = seconds; gemm = ConvGEMMClock.seconds }
        }
        print(String(format: "%@ train-step %dx%d: %.2f s (%.1f GFLOPS)", name, batch, size, best, 3 * gflop / best))
        print(String(format: "%@ conv GEMMs of that step: %.2f s (%.1f GFLOPS); step / GEMMs = %.2f", name, gemm, 3 * gflop / gemm, best / gemm))

        var forward = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = Date()
            // As evaluation runs it: running statistics, nothing recorded for a backward pass.
            let tape = Tape(store: store, training: false, recordsGradients: false)
            _ = trunk.forward(tape, tape.constant(input))
            forward = min(forward, Date().timeIntervalSince(start))
        }
        print(String(format: "%@ forward-only (eval) %dx%d: %.2f s, %.1f images/s (%.1f GFLOPS)", name, batch, size, forward,
                     Double(batch) / forward, gflop / forward))
        print(String(format: "peak memory: %.2f GiB", Double(Self.peakResidentBytes()) / Double(1 << 30)))
    }

    /// Forward GFLOP (2 x multiply-adds) of the trunk's convolutions and fc for one image.
    static func forwardGFLOP(depth: ResNetTrunk.Depth, size: Int) -> Double {
        // ResNet multiply-adds at 224 x 224 (torchvision's published figures), scaled by area.
        let macs: [ResNetTrunk.Depth: Double] = [.resnet18: 1.81, .resnet34: 3.66, .resnet50: 4.09, .resnet101: 7.80]
        return 2 * macs[depth]! * Double(size * size) / Double(224 * 224)
    }

    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }
}
