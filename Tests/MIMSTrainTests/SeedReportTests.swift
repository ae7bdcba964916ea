import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// The report of a `--seeds` run as a reviewer reads it, checked by Python against each seed's
/// own files (Tests/Interop/report_figures.py).
struct SeedReportTests {
    @Test func severalSeedsReport() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainerTests.shards(dir)
        try TrainerTests.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
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
    }
}
