import MIMSTensor

/// How a bag becomes a loss and a score (docs/MODEL.md, "Classifier" and "Variants"): the one rule
/// the trainer, the evaluator and the heatmaps share, decided once from the pipeline.
public enum BagScoring: Sendable, Equatable {
    /// The head pools the bag's slices together; the score is the class-1 softmax probability,
    /// the loss the bags' cross-entropy.
    case pooled
    /// Patch classifiers: every slice is its own bag labelled with its volume's label; the score
    /// is the mean of the slices' class-1 probabilities.
    case sliceMean
    /// `max-inst`: every slice is classified; the score is the largest slice probability (the
    /// first slice on ties), the loss the binary cross-entropy of those scores.
    case sliceMax

    public init(_ pipeline: Pipeline) {
        if pipeline.variant.isPatchClassifier {
            self = .sliceMean
        } else if pipeline.aggregation == .maxInstance {
            self = .sliceMax
        } else {
            self = .pooled
        }
    }

    /// Whether the head sees each slice as a bag of one.
    public var slicesAreBags: Bool { self != .pooled }

    /// The bag sizes the head pools over for bags of `bagSizes` slices.
    public func headBagSizes(_ bagSizes: [Int]) -> [Int] {
        slicesAreBags ? Array(repeating: 1, count: bagSizes.reduce(0, +)) : bagSizes
    }

    /// The training loss from the head's logits (over ``headBagSizes(_:)``).
    public func loss(_ tape: Tape, logits: Tape.Variable, bagSizes: [Int], labels: [Int]) -> Tape.Variable {
        switch self {
        case .pooled:
            return tape.crossEntropy(logits, labels: labels)
        case .sliceMean:
            var sliceLabels: [Int] = []
            for (size, label) in zip(bagSizes, labels) { sliceLabels += Array(repeating: label, count: size) }
            return tape.crossEntropy(logits, labels: sliceLabels)
        case .sliceMax:
            return tape.maxInstanceLoss(logits, bagSizes: bagSizes, labels: labels)
        }
    }

    /// One score per bag from the head's class-1 probabilities (over ``headBagSizes(_:)``).
    public func scores(_ probabilities: [Float], bagSizes: [Int]) -> [Double] {
        guard slicesAreBags else { return probabilities.map(Double.init) }
        var start = 0
        return bagSizes.map { size in
            defer { start += size }
            let mine = probabilities[start..<start + size].map(Double.init)
            return self == .sliceMean ? mine.reduce(0, +) / Double(size) : mine.max()!
        }
    }
}
