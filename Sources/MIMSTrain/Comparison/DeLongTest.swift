#if canImport(Glibc)
import Glibc
#endif

/// DeLong's test for the difference of two correlated AUROCs: two scorings of the same records
/// (DeLong, DeLong & Clarke-Pearson 1988), computed from midranks in O(N log N) (Sun & Xu 2014), so
/// it serves a 100,000-tile test set as well as 30 volumes.
public struct DeLongTest: Sendable, Equatable {
    public var aurocA: Double
    public var aurocB: Double
    /// aurocA − aurocB.
    public var difference: Double
    public var standardError: Double
    /// The 95% interval of the difference (normal approximation).
    public var lower: Double
    public var upper: Double
    /// Two-sided p-value of "no difference".
    public var p: Double

    /// Nil without both classes among `labels` (1 positive, anything else negative).
    public init?(scoresA rawA: [Double], scoresB rawB: [Double], labels: [Int]) {
        precondition(rawA.count == labels.count && rawB.count == labels.count, "two scorings of the same records")
        let a = Metrics.ordered(rawA), b = Metrics.ordered(rawB)
        let positives = labels.indices.filter { labels[$0] == 1 }, negatives = labels.indices.filter { labels[$0] != 1 }
        let (m, n) = (Double(positives.count), Double(negatives.count))
        guard m > 0, n > 0 else { return nil }
        func components(_ s: [Double]) -> (auroc: Double, v10: [Double], v01: [Double]) {
            let x = positives.map { s[$0] }, y = negatives.map { s[$0] }
            let (tx, ty, tz) = (Self.midranks(x), Self.midranks(y), Self.midranks(x + y))
            // V10: the share of negatives each positive outranks; V01: of positives above each negative.
            let v10 = x.indices.map { (tz[$0] - tx[$0]) / n }
            let v01 = y.indices.map { 1 - (tz[x.count + $0] - ty[$0]) / m }
            return (v10.reduce(0, +) / m, v10, v01)
        }
        let (ca, cb) = (components(a), components(b))
        func covariance(_ p: [Double], _ q: [Double]) -> Double {
            guard p.count > 1 else { return 0 }
            let (mp, mq) = (p.reduce(0, +) / Double(p.count), q.reduce(0, +) / Double(q.count))
            return zip(p, q).reduce(0) { $0 + ($1.0 - mp) * ($1.1 - mq) } / Double(p.count - 1)
        }
        let variance = (covariance(ca.v10, ca.v10) + covariance(cb.v10, cb.v10) - 2 * covariance(ca.v10, cb.v10)) / m
            + (covariance(ca.v01, ca.v01) + covariance(cb.v01, cb.v01) - 2 * covariance(ca.v01, cb.v01)) / n
        aurocA = ca.auroc
        aurocB = cb.auroc
        difference = ca.auroc - cb.auroc
        standardError = max(0, variance).squareRoot()
        lower = difference - 1.959963984540054 * standardError
        upper = difference + 1.959963984540054 * standardError
        // Identical scorings (or a difference with no spread) give no evidence of a difference.
        p = standardError > 0 ? erfc(abs(difference) / standardError / 2.0.squareRoot()) : (difference == 0 ? 1 : 0)
    }

    /// 1-based ranks with ties given their mean rank.
    static func midranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            for k in i...j { ranks[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return ranks
    }
}
