import Foundation
import MIMSShards

extension Pipeline {
    /// SHA-256 of the pipeline's YAML text as read: what a run records, so `--resume` can tell
    /// that the file changed since the run started.
    public var sha256: String { Self.sha256(of: text) }

    static func sha256(of text: String) -> String {
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        return hasher.finalizeHex()
    }

    /// Every setting by its YAML key, as text, so two pipelines can be compared key by key.
    var settings: [(key: String, value: String)] {
        let aggregationText: String = switch aggregation {
        case let .topK(k): "topk (k \(k))"
        case .mean: "mean"
        case .max: "max"
        case .maxInstance: "max-inst"
        }
        return [
            ("name", name), ("model", variant.rawValue), ("backbone.depth", String(depth.rawValue)),
            ("backbone.feature_layer", "layer\(featureLayer)"), ("backbone.weights", weights ?? "(absent)"),
            ("backbone.trainable", String(trainsBackbone)),
            ("input_size", "\(inputSize)"), ("msconv.kernels", "\(kernels)"), ("msconv.scales", "\(scales)"),
            ("pooling", aggregationText), ("optimizer.kind", optimizer.rawValue),
            ("optimizer.learning_rate", "\(learningRate)"), ("optimizer.backbone_learning_rate", "\(backboneLearningRate)"),
            ("optimizer.momentum", "\(momentum)"), ("optimizer.weight_decay", "\(weightDecay)"),
            ("training.iterations", String(iterations)), ("training.batch", String(batch)),
            ("training.slices", "[\(slicesPerBag.lowerBound), \(slicesPerBag.upperBound)]"),
            ("training.central_slices", String(centralSlices)), ("training.class_balanced", String(classBalanced)),
            ("training.eval_every", String(evalEvery)), ("training.checkpoint_every", String(checkpointEvery)),
            ("training.eval_split", evalSplit), ("training.select", selectsBestValidation ? "best-val" : "last"), ("precision", precision.rawValue),
        ]
    }

    /// The settings that differ from `earlier`, as "key old -> new", in YAML order; empty when
    /// only comments or layout changed.
    public func differences(from earlier: Pipeline) -> [String] {
        let before = Dictionary(earlier.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        return settings.compactMap { key, value in
            guard let old = before[key], old != value else { return nil }
            return "\(key) \(old) -> \(value)"
        }
    }
}
