import MIMSCore
#if canImport(Glibc)
import Glibc
#endif
import MIMSTensor

/// torchvision's ResNet-18/34/50/101 without the classifier ("ResNet without FC"), on a tape, with
/// torchvision's exact parameter names so a converted state_dict or a timm `model.safetensors`
/// loads as is.
public struct ResNetTrunk: Sendable {
    public enum Depth: Int, Sendable, CaseIterable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50, resnet101 = 101
    }

    public let depth: Depth

    public init(_ depth: Depth) { self.depth = depth }

    var blocksPerLayer: [Int] {
        switch depth {
        case .resnet18: [2, 2, 2, 2]
        case .resnet34, .resnet50: [3, 4, 6, 3]
        case .resnet101: [3, 4, 23, 3]
        }
    }

    var usesBottleneck: Bool { depth == .resnet50 || depth == .resnet101 }

    /// Channels out of `layerN` (1-based).
    public func channels(afterLayer layer: Int) -> Int { 64 * (1 << (layer - 1)) * (usesBottleneck ? 4 : 1) }

    /// Every parameter and buffer name with its shape, as torchvision's state_dict (without fc.*).
    public func parameterShapes() -> [String: [Int]] {
        var shapes: [String: [Int]] = ["conv1.weight": [64, 3, 7, 7]]
        func batchNorm(_ prefix: String, _ c: Int) {
            for suffix in ["weight", "bias", "running_mean", "running_var"] { shapes[prefix + "." + suffix] = [c] }
            shapes[prefix + ".num_batches_tracked"] = []
        }
        batchNorm("bn1", 64)
        var inputs = 64
        for (layer, count) in blocksPerLayer.enumerated() {
            let width = 64 << layer, outputs = usesBottleneck ? width * 4 : width
            for block in 0..<count {
                let p = "layer\(layer + 1).\(block)."
                if usesBottleneck {
                    shapes[p + "conv1.weight"] = [width, inputs, 1, 1]; batchNorm(p + "bn1", width)
                    shapes[p + "conv2.weight"] = [width, width, 3, 3]; batchNorm(p + "bn2", width)
                    shapes[p + "conv3.weight"] = [outputs, width, 1, 1]; batchNorm(p + "bn3", outputs)
                } else {
                    shapes[p + "conv1.weight"] = [width, inputs, 3, 3]; batchNorm(p + "bn1", width)
                    shapes[p + "conv2.weight"] = [width, width, 3, 3]; batchNorm(p + "bn2", width)
                }
                if block == 0 && (layer > 0 || inputs != outputs) {
                    shapes[p + "downsample.0.weight"] = [outputs, inputs, 1, 1]; batchNorm(p + "downsample.1", outputs)
                }
                inputs = outputs
            }
        }
        return shapes
    }

    /// torchvision's initialization: Kaiming-normal (fan_out, ReLU) convolutions, BN weight 1 and
    /// bias 0, running mean 0 and variance 1.
    public func initialize(_ store: ParameterStore, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for (name, shape) in parameterShapes().sorted(by: { $0.key < $1.key }) {
            let count = shape.reduce(1, *)
            if name.hasSuffix("conv1.weight") || name.hasSuffix("conv2.weight") || name.hasSuffix("conv3.weight") || name.hasSuffix("downsample.0.weight") {
                let std = (2.0 / Double(shape[0] * shape[2] * shape[3])).squareRoot()
                store.tensors[name] = Tensor(shape: shape, values: (0..<count).map { _ in Float(std * Self.gaussian(&random)) })
            } else {
                let one = name.hasSuffix(".weight") || name.hasSuffix("running_var")
                store.tensors[name] = Tensor(shape: shape, values: [Float](repeating: one ? 1 : 0, count: count))
            }
        }
    }

    static func gaussian(_ random: inout SplitMix64) -> Double {
        // Box-Muller.
        let u = max(random.unit(), 1e-300), v = random.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Loads every trunk tensor from a safetensors file (a timm `model.safetensors` or a converted
    /// torchvision state_dict). `fc.*` is ignored; a missing `*.num_batches_tracked` is allowed;
    /// any other missing, extra or misshapen tensor is an error naming it.
    public func load(_ file: SafeTensorsFile, into store: ParameterStore) throws {
        let shapes = parameterShapes()
        for name in file.entries.keys.sorted() where !name.hasPrefix("fc.") && shapes[name] == nil {
            throw ModelError.unexpectedTensor(file: file.path, name: name)
        }
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let entry = file.entries[name] else {
                if name.hasSuffix("num_batches_tracked") {
                    store.tensors[name] = Tensor(shape: [], values: [0])
                    continue
                }
                throw ModelError.missingTensor(file: file.path, name: name)
            }
            guard entry.shape == shape else {
                throw ModelError.wrongShape(file: file.path, name: name, expected: shape, found: entry.shape)
            }
            store.tensors[name] = try file.tensor(name)
        }
    }

    /// conv1 - bn1 - relu - maxpool - layer1 ... up to `lastLayer` (4 for layer4, 3 for layer3).
    public func forward(_ tape: Tape, _ x: Tape.Variable, lastLayer: Int = 4) -> Tape.Variable {
        forward(tape, x, outputs: [lastLayer])[0]
    }

    /// The outputs of the given layers (1-based, ascending), running only as far as the last one.
    /// Inside, activations are in the engine's blocked layout; the outputs are plain NCHW.
    public func forward(_ tape: Tape, _ x: Tape.Variable, outputs layers: [Int]) -> [Tape.Variable] {
        let lastLayer = layers.max() ?? 4
        var collected: [Tape.Variable] = []
        var out = tape.maxPool(ResNetBlocks.unit(tape, x, "conv1.weight", "bn1", Conv2DGeometry(stride: 2, padding: 3), relu: true))
        var inputs = 64
        for (layer, count) in blocksPerLayer.enumerated().prefix(lastLayer) {
            let outputs = channels(afterLayer: layer + 1)
            for block in 0..<count {
                let stride = block == 0 && layer > 0 ? 2 : 1
                let downsample = block == 0 && (layer > 0 || inputs != outputs)
                let prefix = "layer\(layer + 1).\(block)"
                out = usesBottleneck ? ResNetBlocks.bottleneck(tape, out, prefix: prefix, stride: stride, downsample: downsample)
                    : ResNetBlocks.basic(tape, out, prefix: prefix, stride: stride, downsample: downsample)
                inputs = outputs
            }
            if layers.contains(layer + 1) { collected.append(tape.reorder(out, to: .nchw)) }
        }
        return collected
    }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingTensor(file: String, name: String)
    case unexpectedTensor(file: String, name: String)
    case wrongShape(file: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missingTensor(file, name): "\(file): missing tensor '\(name)'"
        case let .unexpectedTensor(file, name): "\(file): unexpected tensor '\(name)' (not part of the trunk)"
        case let .wrongShape(file, name, expected, found): "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}
