import Foundation
import MIMSConfig
import MIMSModels
import MIMSTensor

/// One training configuration (`pipelines/*.yaml`, docs/PIPELINES.md): the model variant, its
/// backbone and head settings, the optimizer and the training schedule. Every key is checked;
/// an unknown or misspelt key is an error naming it and its line.
public struct Pipeline: Equatable, Sendable {
    // `Variant`, the model variant, is declared beside its table in Model/VariantSpec.swift.

    public enum Aggregation: Equatable, Sendable {
        case topK(Int), mean, max, maxInstance
    }

    public enum OptimizerKind: String, Sendable { case sgd, adam }

    public var name: String
    public var variant: Variant
    public var depth: ResNetTrunk.Depth
    /// 2, 3 or 4: the trunk ends at layer2 (small demos), layer3 or layer4.
    public var featureLayer: Int
    /// `backbone.weights`: "imagenet" (a file must come with --backbone-weights), "none", or nil
    /// when the key is absent.
    public var weights: String?
    /// `backbone.trainable` (default true); false (or `mims-train --freeze-backbone`) trains the head
    /// alone on trunk features computed once per record and cached beside the run (``FeatureCache``).
    public var trainsBackbone = true
    public var inputSize: [Int]
    public var kernels: [[Int]]
    public var scales: [Double]
    public var aggregation: Aggregation
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var backboneLearningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var iterations: Int
    /// Images per batch (2D) or volumes per iteration (3D).
    public var batch: Int
    public var slicesPerBag: ClosedRange<Int>
    public var centralSlices: Int
    public var classBalanced: Bool
    public var evalEvery: Int
    public var checkpointEvery: Int
    public var evalSplit: String
    /// `precision`: the convolutions' arithmetic (fp32, or bf16 with float32 master weights,
    /// gradients and statistics); `mims-train --precision` overrides it.
    public var precision: Precision = .fp32
    /// `training.select: best-val`: the test split is scored with the weights of the periodic
    /// evaluation on the val split that reached the best AUROC (`RUN/best.safetensors`), not the
    /// last ones; `last` (the default) keeps the last.
    public var selectsBestValidation = false
    /// `training.patience: N` (with `select: best-val`): training stops once N val evaluations in a
    /// row have not improved on the best; nil trains every iteration.
    public var patience: Int?
    /// The volume-only training keys the file sets (`slices`, `central_slices`): on 2D shards
    /// they have no effect, and the run says so.
    public var volumeKeys: [String] = []
    /// The YAML text as read, stored in checkpoints.
    public var text: String

    /// The slice sampler the training settings describe.
    public var sampler: SliceSampler { SliceSampler(perBag: slicesPerBag, central: centralSlices) }

    public static func load(path: String) throws -> Pipeline {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw TrainingError.pipelineFile(path: path, reason: "no such file (the shipped pipelines are in pipelines/, docs/PIPELINES.md describes the keys)")
        }
        guard !isFolder.boolValue else { throw TrainingError.pipelineFile(path: path, reason: "is a folder; --pipeline wants a YAML file such as pipelines/demo-cirrus-small.yaml") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.pipelineFile(path: path, reason: "cannot read this file (permissions)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Pipeline {
        let top = try Field.document(text, file: file)
        try top.allow(["name", "model", "backbone", "input_size", "msconv", "pooling", "optimizer", "training", "precision"])
        let name = try top.required("name").string()
        let variantField = try top.required("model")
        guard let variant = Variant(rawValue: try variantField.string()) else {
            throw variantField.error("one of \(Variant.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        // Which variant-dependent keys and values this model takes is its row of the variant table.
        let spec = variant.spec

        let backbone = try top.required("backbone")
        try backbone.allow(["depth", "feature_layer", "weights", "trainable"])
        let depthField = try backbone.required("depth")
        guard let depth = ResNetTrunk.Depth(rawValue: try depthField.integer()) else { throw depthField.error("18, 34, 50 or 101") }
        // A variant defined with a fixed depth or fixed feature layers takes no other value, so a
        // pipeline cannot say one thing and train another.
        if let fixed = spec.depth, fixed != depth {
            throw depthField.error("\(fixed.rawValue): \(variant.rawValue) is ResNet-\(fixed.rawValue) by definition")
        }
        var featureLayer = 4
        if let layer = try backbone.optional("feature_layer") {
            switch try layer.string() {
            case "layer2": featureLayer = 2
            case "layer3": featureLayer = 3
            case "layer4": featureLayer = 4
            default: throw layer.error("layer2, layer3 or layer4")
            }
            if let fixed = spec.featureLayers, featureLayer != fixed.max()! {
                throw layer.error("layer\(fixed.max()!) (or nothing): \(variant.rawValue) reads layers \(fixed.map(String.init).joined(separator: " and ")), so its trunk runs to layer\(fixed.max()!)")
            }
        }
        let weightsField = try backbone.optional("weights")
        let weights = try weightsField?.string()
        if let weightsField, let weights, !["imagenet", "none"].contains(weights) {
            throw weightsField.error("imagenet (pass the file with --backbone-weights) or none")
        }

        let sizeField = try top.required("input_size")
        let inputSize = try sizeField.integers()
        guard inputSize.count == 2, inputSize.allSatisfy({ $0 >= 32 && $0 <= 4096 }) else { throw sizeField.error("[height, width], each 32...4096") }

        var kernels: [[Int]] = [], scales: [Double] = [1]
        if let msconv = try top.optional("msconv") {
            guard spec.reads.contains(.kernels) else {
                throw msconv.error("nothing: model \(variant.rawValue) has no MSConv layers; remove the msconv block")
            }
            try msconv.allow(["kernels", "scales"])
            if let scalesField = try msconv.optional("scales"), !spec.reads.contains(.scales) {
                throw scalesField.error("nothing: model \(variant.rawValue) does not resize its feature maps (only \(Variant.readers(of: .scales)) use msconv.scales); remove the key")
            }
            let kernelsField = try msconv.required("kernels")
            guard let sequence = kernelsField.node.sequence, !sequence.isEmpty else { throw kernelsField.error("a list of [size, channels] pairs") }
            kernels = try sequence.enumerated().map { index, node in
                let pair = try Field(node: node, path: kernelsField.path + "[\(index)]", file: file).integers()
                guard pair.count == 2, (1...7).contains(pair[0]), (1...4096).contains(pair[1]) else {
                    throw kernelsField.error("[size 1...7, channels 1...4096] pairs such as [[2, 8], [3, 10]]")
                }
                return pair
            }
            let scalesField = try msconv.optional("scales")
            scales = try scalesField?.numbers() ?? [0.5, 0.75, 1.0]
            if let scalesField, scales.isEmpty || !scales.allSatisfy({ $0 > 0 && $0 <= 4 }) { throw scalesField.error("a list of factors in (0, 4]") }
        }
        if spec.reads.contains(.kernels) && kernels.isEmpty {
            throw top.missing("msconv", expected: "msconv.kernels for model \(variant.rawValue)")
        }

        var aggregation = Aggregation.topK(5)
        if let pooling = try top.optional("pooling") {
            try pooling.allow(["aggregation", "k"])
            let k = try pooling.optional("k")?.integer() ?? 5
            if k < 1 { throw try pooling.required("k").error("a whole number >= 1") }
            let aggregationText = try pooling.optional("aggregation")?.string() ?? "topk"
            if aggregationText != "topk", let kField = try pooling.optional("k") {
                throw kField.error("nothing: pooling.k is the k of topk, and aggregation is \(aggregationText); remove the key")
            }
            switch aggregationText {
            case "topk": aggregation = .topK(k)
            case "mean": aggregation = .mean
            case "max": aggregation = .max
            case "max-inst": aggregation = .maxInstance
            default: throw try pooling.required("aggregation").error("topk, mean, max or max-inst")
            }
            // A patch classifier's score is the mean of its slices' probabilities (its scoring rule);
            // max-inst, the largest slice's, would be silently ignored.
            if aggregation == .maxInstance && spec.scoring == .sliceMean {
                throw try pooling.required("aggregation").error("topk, mean or max: model \(variant.rawValue) scores a volume by the mean of its slices' probabilities, so max-inst (the largest slice's) does not apply")
            }
        }

        let optimizerField = try top.optional("optimizer")
        try optimizerField?.allow(["kind", "learning_rate", "backbone_learning_rate", "momentum", "weight_decay"])
        let kindText = try optimizerField?.optional("kind")?.string() ?? "sgd"
        guard let optimizer = OptimizerKind(rawValue: kindText) else { throw try optimizerField!.required("kind").error("sgd or adam") }
        let learningRate = Float(try optimizerField?.optional("learning_rate")?.number() ?? 0.01)
        let backboneLearningRate = Float(try optimizerField?.optional("backbone_learning_rate")?.number() ?? Double(learningRate) / 2)
        let momentum = Float(try optimizerField?.optional("momentum")?.number() ?? 0.9)
        let weightDecay = Float(try optimizerField?.optional("weight_decay")?.number() ?? 0)

        let training = try top.optional("training")
        try training?.allow(["iterations", "batch", "slices", "central_slices", "class_balanced", "eval_every", "checkpoint_every", "eval_split", "select", "patience"])
        let iterations = try training?.optional("iterations")?.integer() ?? 1000
        let batch = try training?.optional("batch")?.integer() ?? 1
        var slices = 12...18
        if let field = try training?.optional("slices") {
            let pair = try field.integers()
            guard pair.count == 2, pair[0] >= 1, pair[0] <= pair[1] else { throw field.error("[fewest, most] slices per bag, e.g. [12, 18]") }
            slices = pair[0]...pair[1]
        }
        let central = try training?.optional("central_slices")?.integer() ?? 30
        let evalSplit = try training?.optional("eval_split")?.string() ?? "val"
        guard ["train", "val", "test"].contains(evalSplit) else {
            throw try training!.required("eval_split").error("one of val, test or train (the shard splits)")
        }
        let volumeKeys = try ["slices", "central_slices"].filter { try training?.optional($0) != nil }
        guard iterations >= 1, batch >= 1, central >= 1 else {
            throw (training ?? top).error("iterations, batch and central_slices of at least 1")
        }
        var precision = Precision.fp32
        if let field = try top.optional("precision") {
            guard let value = Precision(rawValue: try field.string()) else { throw field.error("fp32 or bf16") }
            precision = value
        }
        var pipeline = Pipeline(name: name, variant: variant, depth: depth, featureLayer: featureLayer, weights: weights, inputSize: inputSize, kernels: kernels,
                        scales: scales, aggregation: aggregation, optimizer: optimizer, learningRate: learningRate,
                        backboneLearningRate: backboneLearningRate, momentum: momentum, weightDecay: weightDecay, iterations: iterations,
                        batch: batch, slicesPerBag: slices, centralSlices: central,
                        classBalanced: try training?.optional("class_balanced")?.bool() ?? false,
                        evalEvery: try training?.optional("eval_every")?.integer() ?? max(1, iterations / 5),
                        checkpointEvery: try training?.optional("checkpoint_every")?.integer() ?? max(1, iterations / 5),
                        evalSplit: evalSplit, volumeKeys: volumeKeys, text: text)
        pipeline.precision = precision
        pipeline.trainsBackbone = try backbone.optional("trainable")?.bool() ?? true
        if let field = try training?.optional("select") {
            switch try field.string() {
            case "last": break
            case "best-val":
                guard evalSplit == "val" else { throw field.error("best-val with eval_split: val (the checkpoint is chosen on val, then tested on test)") }
                pipeline.selectsBestValidation = true
            default: throw field.error("last or best-val")
            }
        }
        if let field = try training?.optional("patience") {
            guard pipeline.selectsBestValidation else { throw field.error("nothing without select: best-val (patience counts val evaluations that do not beat the best)") }
            let patience = try field.integer()
            guard patience >= 1 else { throw field.error("a positive number of evaluations") }
            pipeline.patience = patience
        }
        return pipeline
    }
}
