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

    /// The checkpoint names' first component for the trunk's tensors and for the head's.
    static let trunkName = "backbone", headName = "head"

    /// Every parameter and buffer with its checkpoint name, shape and initialization.
    public var parameters: [ParameterSpec] {
        trunk.parameters(prefix: Self.trunkName + ".") + head.parameters(prefix: Self.headName + ".")
    }

    /// Every parameter and buffer with its checkpoint name and shape.
    public func parameterShapes() -> [String: [Int]] { parameters.shapes }

    /// A new model's tensors: the trunk's and the head's from two streams of `seed`, so a
    /// variant's head does not change the trunk it starts from.
    public func initialize(_ store: ParameterStore, seed: UInt64) {
        trunk.parameters(prefix: Self.trunkName + ".").initialize(store, seed: seed)
        head.parameters(prefix: Self.headName + ".").initialize(store, seed: seed &+ 0x9E37)
    }

    /// Loads the trunk from a torchvision/timm safetensors file (fc.* ignored).
    public func loadBackbone(_ file: SafeTensorsFile, into store: ParameterStore) throws {
        try trunk.load(file, into: store, prefix: Self.trunkName + ".")
    }

    /// The primary maps of a batch of slices [S, 3, H, W], one per pyramid level and feature layer.
    public func primaryMaps(_ parameters: ParameterBinding, _ input: Tape.Variable) -> [Tape.Variable] {
        trunkOutputs(parameters, input, explaining: nil).maps
    }

    /// The primary maps plus the output of trunk layer `layer` (1-based, at most the feature
    /// layer) at the full-scale pyramid level: the layer a heatmap explains.
    public func primaryMaps(_ parameters: ParameterBinding, _ input: Tape.Variable, explaining layer: Int)
        -> (maps: [Tape.Variable], layer: Tape.Variable) {
        precondition(layer >= 1 && layer <= featureLayers.max()!, "layer\(layer) is not computed by this trunk")
        let outputs = trunkOutputs(parameters, input, explaining: layer)
        return (outputs.maps, outputs.explained!)
    }

    private func trunkOutputs(_ parameters: ParameterBinding, _ input: Tape.Variable, explaining layer: Int?)
        -> (maps: [Tape.Variable], explained: Tape.Variable?) {
        let tape = parameters.tape, backbone = parameters.under(Self.trunkName)
        let shape = tape.value(input).shape
        var maps: [Tape.Variable] = []
        var explained: Tape.Variable?
        for factor in pyramid {
            let level = tape.resize(input, height: MIMSHead.scaled(shape[2], factor), width: MIMSHead.scaled(shape[3], factor))
            let extra = factor == 1 ? layer.map { [$0] } ?? [] : []
            let wanted = Array(Set(featureLayers + extra)).sorted()
            let byLayer = Dictionary(uniqueKeysWithValues: zip(wanted, trunk(backbone, level, outputs: wanted)))
            maps += featureLayers.map { byLayer[$0]! }
            if factor == 1, let layer { explained = byLayer[layer] }
        }
        return (maps, explained)
    }

    /// Logits [bags, 2] for `bagSizes` (slices of each bag, in order).
    public func logits(_ parameters: ParameterBinding, _ input: Tape.Variable, bagSizes: [Int]) -> Tape.Variable {
        logits(parameters, maps: primaryMaps(parameters, input), bagSizes: bagSizes)
    }

    /// Evaluation-mode logits with bounded memory: the trunk runs on `chunk` slices at a time
    /// (running BatchNorm statistics make slices independent), each chunk on a tape of its own
    /// that is freed before the next, then the head runs on the collected maps.
    public func inferenceLogits(_ input: Tensor, store: ParameterStore, bagSizes: [Int], chunk: Int = 8) -> Tensor {
        let slices = input.shape[0], perSlice = input.count / slices
        func inference() -> ParameterBinding {
            ParameterBinding(store, on: Tape(training: false, recordsGradients: false, precision: pipeline.precision))
        }
        var collected: [[Tensor]] = []
        for start in stride(from: 0, to: slices, by: chunk) {
            let end = min(start + chunk, slices)
            let part = Tensor(shape: [end - start] + input.shape.dropFirst(), values: Array(input.values[start * perSlice..<end * perSlice]))
            let parameters = inference()
            collected.append(primaryMaps(parameters, parameters.tape.constant(part)).map(parameters.tape.value))
        }
        let parameters = inference(), tape = parameters.tape
        let maps = collected[0].indices.map { m in
            tape.constant(Tensor(shape: [slices] + collected[0][m].shape.dropFirst(), values: collected.flatMap { $0[m].values }))
        }
        return tape.value(logits(parameters, maps: maps, bagSizes: bagSizes))
    }

    public func logits(_ parameters: ParameterBinding, maps: [Tape.Variable], bagSizes: [Int]) -> Tape.Variable {
        logitsAndSelections(parameters, maps: maps, bagSizes: bagSizes).logits
    }

    /// The head's logits and the values its top-k or max poolings chose (heatmap slice ranking).
    public func logitsAndSelections(_ parameters: ParameterBinding, maps: [Tape.Variable], bagSizes: [Int])
        -> (logits: Tape.Variable, selections: [BagSelection]) {
        head(parameters.under(Self.headName), maps, bagSizes: bagSizes)
    }
}
