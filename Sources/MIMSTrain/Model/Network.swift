import MIMSModels
import MIMSTensor

/// A whole model of docs/MODEL.md's table: a ResNet trunk (parameters under `backbone.`) and a
/// ``MIMSHead`` (under `head.`), with the variant's input pyramid, feature layers and scoring.
public struct Network: Sendable {
    public let pipeline: Pipeline
    public let trunk: ResNetTrunk
    public let head: MIMSHead
    /// Input resize factors; [1] except for the pyramid variants.
    public let pyramid: [Double]
    /// Trunk layers the head reads (1-based).
    public let featureLayers: [Int]

    /// The model of `pipeline` classifying into `classes` classes (the shard set's, at least 2).
    public init(_ pipeline: Pipeline, classes: Int = 2) {
        precondition(classes >= 2, "a classifier needs at least two classes")
        self.pipeline = pipeline
        // Everything that differs by variant is its row of the variant table.
        let spec = pipeline.variant.spec
        trunk = ResNetTrunk(spec.depth ?? pipeline.depth)
        pyramid = spec.pyramid
        featureLayers = spec.featureLayers ?? [pipeline.featureLayer]
        let aggregation: BagAggregation = switch pipeline.aggregation {
        case .topK(let k): .topK(k)
        case .mean: .mean
        case .max: .max
        // max-inst makes every slice a bag of one (BagScoring); top-k pools within its map.
        case .maxInstance: .topK(5)
        }
        // Local copies: a closure may not capture self before every member is set.
        let builtTrunk = trunk, layers = featureLayers
        let mapChannels = spec.pyramid.flatMap { _ in layers.map { builtTrunk.channels(afterLayer: $0) } }
        head = spec.head(VariantSpec.HeadInputs(mapChannels: mapChannels, kernels: pipeline.kernels, scales: pipeline.scales,
                                                aggregation: aggregation, classes: classes))
    }

    /// How bags become losses and scores for this pipeline: its variant's rule
    /// (``VariantSpec/bagScoring(_:)``), shared by the trainer, the evaluator and the heatmaps.
    public var scoring: BagScoring { BagScoring(pipeline) }

    /// Whether the head sees each slice as a bag of one (patch classifiers, max-instance pooling).
    public var slicesAreBags: Bool { scoring.slicesAreBags }

    /// Every parameter and buffer with its checkpoint name and shape.
    public func parameterShapes() -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for (name, shape) in trunk.parameterShapes() { shapes["backbone." + name] = shape }
        for (name, shape) in head.parameterShapes() { shapes["head." + name] = shape }
        return shapes
    }

    public func initialize(_ store: ParameterStore, seed: UInt64) {
        let backbone = ParameterStore(), headStore = ParameterStore()
        trunk.initialize(backbone, seed: seed)
        head.initialize(headStore, seed: seed &+ 0x9E37)
        for (name, tensor) in backbone.tensors { store.tensors["backbone." + name] = tensor }
        for (name, tensor) in headStore.tensors { store.tensors["head." + name] = tensor }
    }

    /// Loads the trunk from a torchvision/timm safetensors file (fc.* ignored).
    public func loadBackbone(_ file: SafeTensorsFile, into store: ParameterStore) throws {
        let backbone = ParameterStore()
        try trunk.load(file, into: backbone)
        for (name, tensor) in backbone.tensors { store.tensors["backbone." + name] = tensor }
    }

    /// The primary maps of a batch of slices [S, 3, H, W], one per pyramid level and feature layer.
    public func primaryMaps(_ tape: Tape, _ input: Tape.Variable) -> [Tape.Variable] {
        trunkOutputs(tape, input, explaining: nil).maps
    }

    /// The primary maps plus the output of trunk layer `layer` (1-based, at most the feature
    /// layer) at the full-scale pyramid level: the layer a heatmap explains.
    public func primaryMaps(_ tape: Tape, _ input: Tape.Variable, explaining layer: Int) -> (maps: [Tape.Variable], layer: Tape.Variable) {
        precondition(layer >= 1 && layer <= featureLayers.max()!, "layer\(layer) is not computed by this trunk")
        let outputs = trunkOutputs(tape, input, explaining: layer)
        return (outputs.maps, outputs.explained!)
    }

    private func trunkOutputs(_ tape: Tape, _ input: Tape.Variable, explaining layer: Int?) -> (maps: [Tape.Variable], explained: Tape.Variable?) {
        tape.namePrefix = "backbone."
        defer { tape.namePrefix = "" }
        let shape = tape.value(input).shape
        var maps: [Tape.Variable] = []
        var explained: Tape.Variable?
        for factor in pyramid {
            let level = tape.resize(input, height: MIMSHead.scaled(shape[2], factor), width: MIMSHead.scaled(shape[3], factor))
            let extra = factor == 1 ? layer.map { [$0] } ?? [] : []
            let wanted = Array(Set(featureLayers + extra)).sorted()
            let byLayer = Dictionary(uniqueKeysWithValues: zip(wanted, trunk.forward(tape, level, outputs: wanted)))
            maps += featureLayers.map { byLayer[$0]! }
            if factor == 1, let layer { explained = byLayer[layer] }
        }
        return (maps, explained)
    }

    /// Logits [bags, 2] for `bagSizes` (slices of each bag, in order).
    public func logits(_ tape: Tape, _ input: Tape.Variable, bagSizes: [Int]) -> Tape.Variable {
        logits(tape, maps: primaryMaps(tape, input), bagSizes: bagSizes)
    }

    /// Evaluation-mode logits with bounded memory: the trunk runs on `chunk` slices at a time
    /// (running BatchNorm statistics make slices independent), each chunk on a tape of its own
    /// that is freed before the next, then the head runs on the collected maps.
    public func inferenceLogits(_ input: Tensor, store: ParameterStore, bagSizes: [Int], chunk: Int = 8) -> Tensor {
        let slices = input.shape[0], perSlice = input.count / slices
        var collected: [[Tensor]] = []
        for start in stride(from: 0, to: slices, by: chunk) {
            let end = min(start + chunk, slices)
            let part = Tensor(shape: [end - start] + input.shape.dropFirst(), values: Array(input.values[start * perSlice..<end * perSlice]))
            let tape = Tape(store: store, training: false, recordsGradients: false, precision: pipeline.precision)
            collected.append(primaryMaps(tape, tape.constant(part)).map(tape.value))
        }
        let tape = Tape(store: store, training: false, recordsGradients: false, precision: pipeline.precision)
        let maps = collected[0].indices.map { m in
            tape.constant(Tensor(shape: [slices] + collected[0][m].shape.dropFirst(), values: collected.flatMap { $0[m].values }))
        }
        return tape.value(logits(tape, maps: maps, bagSizes: bagSizes))
    }

    public func logits(_ tape: Tape, maps: [Tape.Variable], bagSizes: [Int]) -> Tape.Variable {
        tape.namePrefix = "head."
        defer { tape.namePrefix = "" }
        return head.forward(tape, maps, bagSizes: bagSizes)
    }
}
