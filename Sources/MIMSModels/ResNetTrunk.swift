import MIMSTensor

/// torchvision's ResNet-18/34/50/101 without the classifier ("ResNet without FC") as a layer
/// tree: the stem `conv1`/`bn1` and the blocks `layer1.0` ... `layer4.N`, so its tensors carry
/// torchvision's exact names and a converted state_dict or a timm `model.safetensors` loads as is.
public struct ResNetTrunk: Layer {
    public enum Depth: Int, Sendable, CaseIterable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50, resnet101 = 101
    }

    public let depth: Depth
    /// conv1 (7x7, stride 2) - bn1, before ReLU and the max-pool.
    public let stem: ConvBatchNorm
    /// The blocks of `layer1` ... `layer4`.
    public let layers: [[ResNetBlock]]

    public init(_ depth: Depth) {
        self.depth = depth
        stem = ConvBatchNorm(Conv2DLayer("conv1", inputs: 3, outputs: 64, kernel: 7, geometry: Conv2DGeometry(stride: 2, padding: 3)),
                             BatchNorm2DLayer("bn1", channels: 64))
        let blocksPerLayer = switch depth {
        case .resnet18: [2, 2, 2, 2]
        case .resnet34, .resnet50: [3, 4, 6, 3]
        case .resnet101: [3, 4, 23, 3]
        }
        let bottleneck = depth == .resnet50 || depth == .resnet101
        var inputs = 64
        layers = blocksPerLayer.enumerated().map { layer, count in
            (0..<count).map { block in
                let width = 64 << layer, outputs = bottleneck ? width * 4 : width
                let stride = block == 0 && layer > 0 ? 2 : 1
                let downsample = block == 0 && (layer > 0 || inputs != outputs)
                let name = "layer\(layer + 1).\(block)"
                defer { inputs = outputs }
                return bottleneck ? ResNetBlock.bottleneck(name, inputs: inputs, width: width, stride: stride, downsample: downsample)
                    : ResNetBlock.basic(name, inputs: inputs, width: width, stride: stride, downsample: downsample)
            }
        }
    }

    /// Channels out of `layerN` (1-based).
    public func channels(afterLayer layer: Int) -> Int { layers[layer - 1][0].outputs }

    public func parameters(prefix: String) -> [ParameterSpec] {
        stem.parameters(prefix: prefix) + layers.joined().flatMap { $0.parameters(prefix: prefix) }
    }

    /// Every parameter and buffer name with its shape, as torchvision's state_dict (without fc.*).
    public func parameterShapes() -> [String: [Int]] { parameters(prefix: "").shapes }

    /// torchvision's initialization: Kaiming-normal (fan_out, ReLU) convolutions, BN weight 1 and
    /// bias 0, running mean 0 and variance 1.
    public func initialize(_ store: ParameterStore, seed: UInt64) { parameters(prefix: "").initialize(store, seed: seed) }

    /// Loads every trunk tensor from a safetensors file (a timm `model.safetensors` or a converted
    /// torchvision state_dict) into `store` under `prefix`. `fc.*` is ignored; a missing
    /// `*.num_batches_tracked` is allowed; any other missing, extra or misshapen tensor is an
    /// error naming it.
    public func load(_ file: SafeTensorsFile, into store: ParameterStore, prefix: String = "") throws {
        let shapes = parameterShapes()
        for name in file.entries.keys.sorted() where !name.hasPrefix("fc.") && shapes[name] == nil {
            throw ModelError.unexpectedTensor(file: file.path, name: name)
        }
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let entry = file.entries[name] else {
                if name.hasSuffix("num_batches_tracked") {
                    store.tensors[prefix + name] = Tensor(shape: [], values: [0])
                    continue
                }
                throw ModelError.missingTensor(file: file.path, name: name)
            }
            guard entry.shape == shape else {
                throw ModelError.wrongShape(file: file.path, name: name, expected: shape, found: entry.shape)
            }
            store.tensors[prefix + name] = try file.tensor(name)
        }
    }

    /// conv1 - bn1 - relu - maxpool - layer1 ... up to `lastLayer` (4 for layer4, 3 for layer3).
    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable, lastLayer: Int = 4) -> Tape.Variable {
        self(parameters, x, outputs: [lastLayer])[0]
    }

    /// The outputs of the given layers (1-based, ascending), running only as far as the last one.
    /// Inside, activations are in the engine's blocked layout; the outputs are plain NCHW.
    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable, outputs wanted: [Int]) -> [Tape.Variable] {
        var out = parameters.tape.maxPool(stem(parameters, x, relu: true))
        var collected: [Tape.Variable] = []
        for (layer, blocks) in layers.enumerated().prefix(wanted.max() ?? 4) {
            for block in blocks { out = block(parameters, out) }
            if wanted.contains(layer + 1) { collected.append(parameters.tape.reorder(out, to: .nchw)) }
        }
        return collected
    }
}
