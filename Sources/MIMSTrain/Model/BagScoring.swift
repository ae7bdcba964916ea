import MIMSTensor

/// How a bag becomes a loss and a score (docs/MODEL.md, "Classifier" and "Variants"): the one rule
/// the trainer, the evaluator and the heatmaps share, picked by the variant table (``VariantSpec``).
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

    /// The rule of `pipeline`'s variant (``VariantSpec/scoring``) with its `pooling.aggregation`.
    public init(_ pipeline: Pipeline) {
        self = pipeline.variant.spec.bagScoring(pipeline.aggregation)
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
        bagProbabilities(probabilities.map { [1 - $0, $0] }, bagSizes: bagSizes).map { $0[1] }
    }

    /// Each bag's class probabilities from the head's rows of probabilities (over
    /// ``headBagSizes(_:)``): the pooled bag's own, the mean of its slices' (patch classifiers), or
    /// for `max-inst` (two classes only) the slice of largest class-1 probability's.
    public func bagProbabilities(_ rows: [[Float]], bagSizes: [Int]) -> [[Double]] {
        guard slicesAreBags else { return rows.map { $0.map(Double.init) } }
        var start = 0
        return bagSizes.map { size in
            defer { start += size }
            let mine = rows[start..<start + size]
            if self == .sliceMax {
                // The first slice wins ties, as in the loss.
                var best = mine.startIndex
                for s in mine.indices where mine[s][1] > mine[best][1] { best = s }
                return mine[best].map(Double.init)
            }
            var mean = [Double](repeating: 0, count: mine.first?.count ?? 0)
            for row in mine { for c in row.indices { mean[c] += Double(row[c]) } }
            return mean.map { $0 / Double(size) }
        }
    }
}
