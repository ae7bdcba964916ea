import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// The report of a `--seeds` run as a reviewer reads it, checked by Python against each seed's
/// own files (Tests/Interop/report_figures.py).
struct SeedReportTests {
    @Test func severalSeedsReport() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let seeds = ["1", "2", "3"]
        let train = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/run",
                                                  "--seeds", seeds.joined(separator: ","), "--iterations", "4", "--plain"])
        try #require(train.status == 0, "train: \(train.output)")
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/report_figures.py", dir.path + "/run"] + seeds)
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])

        // One confusion matrix per seed, inline as SVG, each holding the counts of that seed's scores.
        let confusion = try #require(facts["confusion"] as? [String: [String: Any]])
        for seed in seeds {
            let entry = try #require(confusion[seed])
            #expect(entry["charts"] as? Int == 1, "seed \(seed): \(entry)")
            let shown = try #require(entry["svg"] as? [[Int]], "seed \(seed): \(entry)")
            #expect(shown == entry["csv"] as? [[Int]], "seed \(seed): \(entry)")
            #expect(shown.flatMap { $0 }.reduce(0, +) > 0)
            #expect(FileManager.default.fileExists(atPath: dir.path + "/run/plots/confusion-seed-\(seed).png"))
        }

        // Mean ± sd over the seeds and the Student-t 95% interval of the mean, as statistics.stdev and
        // scipy's t quantile give them from the seeds' eval-test.json (the table prints 3 decimals).
        let summary = try #require(facts["summary"] as? [String: Any])
        let shown = try #require(summary["report"] as? [String: Double], "no mean ± sd / interval rows in report.md: \(summary)")
        let recomputed = try #require(summary["recomputed"] as? [String: Double])
        #expect(shown["count"] == 3 && shown["df"] == 2)
        for key in ["mean", "sd", "low", "high"] {
            #expect(abs(shown[key]! - recomputed[key]!) <= 0.0005 + 1e-9, "\(key): \(shown[key]!) against \(recomputed[key]!)")
        }
        // The AUROC chart's mean line and ± 1 sd band at every evaluation, from the seeds' metrics.jsonl.
        let curve = try #require(facts["mean_curve"] as? [String: Any])
        let line = try #require(curve["svg"] as? [[Double]]), expected = try #require(curve["recomputed"] as? [[Double]])
        #expect(line.count == expected.count && !line.isEmpty, "\(curve)")
        for (a, b) in zip(line, expected) {
            #expect(a[0] == b[0])
            // Hover values print 4 significant digits.
            for k in 1...3 { #expect(abs(a[k] - b[k]) <= 5e-4 * max(1, abs(b[k])), "iteration \(b[0]): \(a) against \(b)") }
        }
        #expect((curve["auroc_bands"] as? Int ?? 0) >= 1 && (curve["loss_bands"] as? Int ?? 0) >= 1, "\(curve)")
    }
}
