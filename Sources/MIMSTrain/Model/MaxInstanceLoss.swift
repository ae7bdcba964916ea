#if canImport(Glibc)
import Glibc
#endif
import MIMSTensor

/// The `max-inst` aggregation (docs/MODEL.md): a bag's score is the largest class-1 probability of its
/// slices; the loss is the mean binary cross-entropy of those scores against the bag labels.
extension Tape {
    public func maxInstanceLoss(_ sliceLogits: Variable, bagSizes: [Int], labels: [Int]) -> Variable {
        let logits = value(sliceLogits)
        let probabilities = Scoring.classOneProbabilities(logits)
        var loss = 0.0
        var chosen: [(slice: Int, p: Float)] = []
        var start = 0
        for (bag, size) in bagSizes.enumerated() {
            // The first slice wins ties, as top-k does.
            var best = start
            for s in start..<start + size where probabilities[s] > probabilities[best] { best = s }
            let p = min(max(probabilities[best], 1e-7), 1 - 1e-7)
            loss -= labels[bag] == 1 ? log(Double(p)) : log(Double(1 - p))
            chosen.append((best, p))
            start += size
        }
        let count = Float(bagSizes.count)
        return record([sliceLogits], output: Tensor(shape: [1], values: [Float(loss) / count])) { gy in
            var g = Tensor.zeros(logits.shape)
            for (bag, pick) in chosen.enumerated() {
                let y = Float(labels[bag]), p = pick.p
                // dL/dp · dp/dz1 with dp/dz1 = p(1 − p) = −dp/dz0
                let dp = -(y / p - (1 - y) / (1 - p)) / count * gy.values[0]
                g.values[pick.slice * 2 + 1] += dp * p * (1 - p)
                g.values[pick.slice * 2] -= dp * p * (1 - p)
            }
            return [g]
        }
    }
}

/// Turning logits into probabilities: the softmax of each row; with two classes AUROC ranks by the
/// class-1 probability.
public enum Scoring {
    /// Softmax probabilities of every row of [rows, classes] logits (in double, then rounded).
    public static func probabilities(_ logits: Tensor) -> [[Float]] {
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            let z = (0..<classes).map { Double(logits.values[row * classes + $0]) }
            let top = z.max()!
            let e = z.map { exp($0 - top) }
            let total = e.reduce(0, +)
            return e.map { Float($0 / total) }
        }
    }

    public static func classOneProbabilities(_ logits: Tensor) -> [Float] { probabilities(logits).map { $0[1] } }
}
