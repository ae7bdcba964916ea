/// Classification metrics: on class-1 scores for two classes, one-vs-rest on class probabilities
/// for more.
public enum Metrics {
    /// Mean and sample standard deviation (n − 1) of AUROCs over seeds or folds; the sd is nil
    /// for fewer than two values, both are nil for none.
    public static func meanAndSD(_ values: [Double]) -> (mean: Double?, sd: Double?) {
        guard !values.isEmpty else { return (nil, nil) }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = values.count > 1 ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot() : nil
        return (mean, sd)
    }

    /// The mean of a few values (seeds, folds) with its sample standard deviation and the two-sided
    /// Student-t interval of the mean at `level`: mean ± t((1 + level) / 2, n − 1) · sd / √n.
    public struct Summary: Sendable, Equatable {
        public var count: Int
        public var mean: Double
        /// Nil for a single value, as is the interval.
        public var sd: Double?
        public var interval: ClosedRange<Double>?
        public var level: Double
    }

    /// Nil without values.
    public static func summary(_ values: [Double], level: Double = 0.95) -> Summary? {
        let (mean, sd) = meanAndSD(values)
        guard let mean else { return nil }
        let interval = sd.map { sd -> ClosedRange<Double> in
            let half = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(values.count - 1)) * sd / Double(values.count).squareRoot()
            return (mean - half)...(mean + half)
        }
        return Summary(count: values.count, mean: mean, sd: sd, interval: interval, level: level)
    }

    /// A diverged model can score NaN; it ranks below every number instead of breaking the sort.
    static func ordered(_ scores: [Double]) -> [Double] { scores.map { $0.isNaN ? -.infinity : $0 } }

    /// Area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting one half (Mann-Whitney U with mid-ranks). Nil without both classes.
    public static func auroc(scores raw: [Double], labels: [Int]) -> Double? {
        precondition(raw.count == labels.count)
        let scores = ordered(raw)
        let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] == 1 { rankSum += midRank }
            i = j + 1
        }
        return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }

    /// Share of records whose predicted class (score >= threshold means 1) equals the label.
    public static func accuracy(scores: [Double], labels: [Int], threshold: Double = 0.5) -> Double {
        guard !scores.isEmpty else { return 0 }
        return Double(zip(scores, labels).filter { ($0 >= threshold ? 1 : 0) == $1 }.count) / Double(scores.count)
    }

    /// [[true negatives, false positives], [false negatives, true positives]] at `threshold`.
    public static func confusion(scores: [Double], labels: [Int], threshold: Double = 0.5) -> [[Int]] {
        var m = [[0, 0], [0, 0]]
        for (s, l) in zip(scores, labels) { m[l == 1 ? 1 : 0][s >= threshold ? 1 : 0] += 1 }
        return m
    }

    /// ROC points (false-positive rate, true-positive rate) from the highest threshold down.
    public static func rocCurve(scores raw: [Double], labels: [Int]) -> [(fpr: Double, tpr: Double)] {
        let scores = ordered(raw)
        let positives = Double(labels.filter { $0 == 1 }.count), negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [(0.0, 0.0)], tp = 0.0, fp = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { if labels[order[k]] == 1 { tp += 1 } else { fp += 1 } }
            points.append((fp / negatives, tp / positives))
            i = j + 1
        }
        return points
    }

    /// One-vs-rest AUROC of each class c: the probabilities of c ranked against "label is c".
    /// Nil for a class absent from the labels (or present in all of them).
    public static func oneVsRestAUROC(probabilities: [[Double]], labels: [Int], classes: Int) -> [Double?] {
        (0..<classes).map { c in auroc(scores: probabilities.map { $0[c] }, labels: labels.map { $0 == c ? 1 : 0 }) }
    }

    /// The mean of the classes' AUROCs that exist (macro average); nil when none does.
    public static func macroAverage(_ aurocs: [Double?]) -> Double? {
        let known = aurocs.compactMap { $0 }
        return known.isEmpty ? nil : known.reduce(0, +) / Double(known.count)
    }

    /// The class of highest probability (the lowest index on ties).
    public static func predictedClass(_ probabilities: [Double]) -> Int {
        var best = 0
        for c in probabilities.indices where probabilities[c] > probabilities[best] { best = c }
        return best
    }

    /// counts[label][predicted] over `classes` classes (rows: true class, columns: predicted).
    public static func confusion(predicted: [Int], labels: [Int], classes: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (p, l) in zip(predicted, labels) where (0..<classes).contains(l) && (0..<classes).contains(p) { m[l][p] += 1 }
        return m
    }
}
