import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// Student's t distribution and the mean ± sd summary against scipy.stats.t and Python's statistics
/// module, and against the printed two-sided 95% table.
struct StudentTTests {
    static let freedoms: [Double] = [1, 2, 3, 4, 5, 7, 9, 10, 19, 29, 30, 60, 100, 1000, 2.5]
    static let probabilities: [Double] = [0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.25, 0.025]

    @Test func quantilesAndCDFMatchScipy() throws {
        let script = """
        import json, sys
        from scipy.stats import t
        df, ps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
        print(json.dumps({"ppf": [[t.ppf(p, v) for p in ps] for v in df], "cdf": [[t.cdf(x, v) for x in (-3.1, -0.4, 0.0, 0.7, 2.2, 8.0)] for v in df]}))
        """
        func json(_ v: [Double]) -> String { "[" + v.map { String($0) }.joined(separator: ",") + "]" }
        let output = try run(["python3", "-c", script, json(Self.freedoms), json(Self.probabilities)])
        let scipy = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [[Double]]])
        for (i, nu) in Self.freedoms.enumerated() {
            for (j, p) in Self.probabilities.enumerated() {
                let expected = scipy["ppf"]![i][j], ours = StudentT.quantile(p, degreesOfFreedom: nu)
                #expect(abs(ours - expected) <= 1e-9 * max(1, abs(expected)), "t.ppf(\(p), \(nu)): \(ours) against \(expected)")
            }
            for (j, x) in [-3.1, -0.4, 0.0, 0.7, 2.2, 8.0].enumerated() {
                let expected = scipy["cdf"]![i][j], ours = StudentT.cdf(x, degreesOfFreedom: nu)
                #expect(abs(ours - expected) <= 1e-12, "t.cdf(\(x), \(nu)): \(ours) against \(expected)")
            }
        }
        // The printed table every statistics text carries (two-sided 95%, three decimals).
        for (nu, printed) in [(1.0, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045)] {
            #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: nu) - printed) < 0.0005)
        }
    }

    @Test func summaryMatchesPythonStatistics() throws {
        let values = [0.912, 0.874, 0.955, 0.801, 0.93]
        let script = """
        import json, statistics, sys
        from scipy.stats import t
        v = json.loads(sys.argv[1]); n = len(v); m = statistics.mean(v); s = statistics.stdev(v)
        h = t.ppf(0.975, n - 1) * s / n ** 0.5
        print(json.dumps([m, s, m - h, m + h]))
        """
        let output = try run(["python3", "-c", script, "[" + values.map { String($0) }.joined(separator: ",") + "]"])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [Double])
        let summary = try #require(Metrics.summary(values))
        let interval = try #require(summary.interval)
        for (ours, theirs) in zip([summary.mean, summary.sd!, interval.lowerBound, interval.upperBound], expected) {
            #expect(abs(ours - theirs) <= 1e-12, "\(ours) against \(theirs)")
        }
        #expect(summary.count == 5 && summary.level == 0.95)
        // One value: a mean but no spread and no interval; none: nothing.
        #expect(Metrics.summary([0.7]) == Metrics.Summary(count: 1, mean: 0.7, sd: nil, interval: nil, level: 0.95))
        #expect(Metrics.summary([]) == nil)
    }
}
