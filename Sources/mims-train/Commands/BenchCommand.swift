import ArgumentParser
import Foundation
import MIMSBLAS
import MIMSCore
import MIMSModels
import MIMSTensor

/// The tensor engine's benchmark: one ResNet training step (forward, backward, SGD update) on a
/// random batch and forward-only evaluation, in each precision, and the process's peak memory.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a ResNet training step and forward-only evaluation in fp32 and bf16.",
        discussion: """
        A step of ResNet-101 on 16 x 3 x 224 x 224 counts as 3 x 15.6 GFLOP per image (forward, and a \
        backward twice its cost), about 750 GFLOP. Compare with bench/baselines/train_step.py (PyTorch), \
        which times the same step in fp32 NCHW, fp32 channels_last and bf16 autocast.
        """)

    @Option(help: "ResNet depth: 18, 34, 50 or 101.") var depth = 101
    @Option(help: "Images per step.") var batch = 16
    @Option(help: "Input height and width.") var size = 224
    @Option(help: "Timed steps after one warm-up step; the best is reported.") var repeats = 2
    @Option(help: "Precisions to time: fp32, bf16 or both (bf16 only where the CPU has it).") var precision = "both"
    @Option(help: "Threads (default: every core).") var threads: Int?
    @Flag(help: "Train 3x3 stride-1 fp32 convolutions with direct convolution instead of Winograd (for comparison).") var direct = false
    @Flag(help: "Print every timed step.") var verbose = false

    func run() throws {
        guard let depth = ResNetTrunk.Depth(rawValue: depth) else { throw ValidationError("--depth must be 18, 34, 50 or 101") }
        let precisions: [Precision]
        switch precision {
        case "both": precisions = Engine.supportsBF16 ? [.fp32, .bf16] : [.fp32]
        case "fp32": precisions = [.fp32]
        case "bf16": precisions = [.bf16]; try Precision.bf16.checkSupported()
        default: throw ValidationError("--precision must be fp32, bf16 or both, not '\(precision)'")
        }
        if let threads { Engine.setThreads(threads) }
        Conv2D.winograd = !direct
        print(Engine.summary)
        print(BLASRuntime.summary)
        let peak = Engine.corePeak()
        print(String(format: "core peak: fp32 FMA %.1f GFLOPS, bf16 dot product %.1f GFLOPS (%.2fx)", peak.fp32, peak.bf16,
                     peak.fp32 > 0 ? peak.bf16 / peak.fp32 : 0))
        let trunk = ResNetTrunk(depth)
        let store = ParameterStore()
        trunk.initialize(store, seed: 1)
        let channels = trunk.channels(afterLayer: 4), classifier = LinearLayer("fc", inputs: channels, outputs: 1000)
        store.tensors["fc.weight"] = Tensor(shape: [1000, channels], values: (0..<1000 * channels).map { Float($0 % 13) * 1e-3 })
        store.tensors["fc.bias"] = Tensor.zeros([1000])
        var random = SplitMix64(seed: 2)
        let input = Tensor(shape: [batch, 3, size, size], values: (0..<batch * 3 * size * size).map { _ in Float(random.unit() * 2 - 1) })
        let labels = (0..<batch).map { $0 % 1000 }
        var optimizer = Optimizer(.sgd(momentum: 0.9), groups: [ParameterGroup(prefix: "", learningRate: 1e-4)], weightDecay: 1e-4)
        let name = "resnet\(depth.rawValue)"
        let gflop = Self.forwardGFLOP(depth: depth, size: size) * Double(batch)

        func step(_ precision: Precision) -> Double {
            let start = Date()
            let tape = Tape(training: true, precision: precision)
            let parameters = ParameterBinding(store, on: tape)
            let features = tape.globalAveragePool(trunk(parameters, tape.constant(input)))
            let loss = tape.crossEntropy(classifier(parameters, features), labels: labels)
            tape.backward(from: loss)
            optimizer.update(store, gradients: parameters.gradients)
            return Date().timeIntervalSince(start)
        }
        for precision in precisions {
            _ = step(precision)
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let faults = Self.minorFaults()
                let seconds = step(precision)
                if verbose { print(String(format: "  step %.2f s, %d page faults", seconds, Self.minorFaults() - faults)) }
                best = min(best, seconds)
            }
            print(String(format: "%@ train-step %dx%d %@: %.2f s (%.1f GFLOPS)", name, batch, size, precision.rawValue, best, 3 * gflop / best))
        }
        for precision in precisions {
            var forward = Double.infinity
            for _ in 0..<max(1, repeats) + 1 {
                let start = Date()
                // As evaluation runs it: running statistics, nothing recorded for a backward pass.
                let tape = Tape(training: false, recordsGradients: false, precision: precision)
                _ = trunk(ParameterBinding(store, on: tape), tape.constant(input))
                forward = min(forward, Date().timeIntervalSince(start))
            }
            print(String(format: "%@ forward %dx%d %@: %.2f s, %.1f images/s (%.1f GFLOPS)", name, batch, size, precision.rawValue, forward,
                         Double(batch) / forward, gflop / forward))
        }
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
