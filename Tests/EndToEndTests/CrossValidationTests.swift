import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// `mims-train cv` (issue 17, "Cross-validation") through the binaries: the folds cover every
/// record once and keep patients whole, equal `mims-split make --folds`'s with the same seed, each
/// fold's run tests exactly its held-out records, and the pooled out-of-fold predictions are the
/// union of the folds' with the AUROC an independent Python computation gives.
struct CrossValidationTests {
    static let pooledAUROC = """
    import csv, json, sys
    rows = list(csv.DictReader(open(sys.argv[1])))
    pos = [float(r["score"]) for r in rows if r["label"] == "1"]; neg = [float(r["score"]) for r in rows if r["label"] != "1"]
    print(json.dumps(sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg) / (len(pos) * len(neg))))
    """

    static func rows(_ path: String) throws -> [String: String] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        return Dictionary(uniqueKeysWithValues: lines.map { (String($0.split(separator: ",")[0]), String($0)) })
    }

    @Test func threeFoldsPoolToTheirUnion() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let cv = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/cv",
                                               "--folds", "3", "--fold-seed", "5", "--iterations", "2", "--plain", "--no-report"])
        try #require(cv.status == 0, "cv: \(cv.output)")

        let folds = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/cv/folds.json"))) as? [String: Int])
        let all = try ShardDataset(folder: shards, splits: ["train", "val", "test"], name: "all") { _ in true }
        #expect(Set(folds.keys) == Set(all.records.map(\.info.id)) && Set(folds.values) == [0, 1, 2])
        var foldOfPatient: [String: Int] = [:]
        for record in all.records {
            let fold = folds[record.info.id]!
            #expect(foldOfPatient[record.info.patient, default: fold] == fold, "patient \(record.info.patient) in two folds")
            foldOfPatient[record.info.patient] = fold
        }

        var union: [String: String] = [:]
        for fold in 0..<3 {
            let tested = try Self.rows(dir.path + "/cv/fold-\(fold)/scores-test.csv")
            #expect(Set(tested.keys) == Set(folds.filter { $0.value == fold }.keys), "fold \(fold) tested other records than it held out")
            union.merge(tested) { a, _ in a }
            // The same fold from mims-split make, copied into a shard set of its own.
            let made = try runProduct("mims-split", ["make", shards, "--folds", "3", "--fold", String(fold), "--seed", "5", "--out", dir.path + "/fold\(fold)"])
            try #require(made.status == 0, "mims-split make: \(made.output)")
            let test = try ShardDataset(folder: dir.path + "/fold\(fold)", split: "test")
            #expect(Set(test.records.map(\.info.id)) == Set(tested.keys), "fold \(fold): mims-split make --folds holds out other records")
        }
        let pooled = try Self.rows(dir.path + "/cv/scores-oof.csv")
        #expect(pooled == union, "the out-of-fold scores are not the union of the folds' test scores")

        let independent = try MimsTorch.python(["-c", Self.pooledAUROC, dir.path + "/cv/scores-oof.csv"])
        try #require(independent.status == 0, "\(independent.error)")
        let expected = try #require(Double(independent.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/cv/eval-oof.json"))) as? [String: Any])
        #expect(abs((summary["auroc"] as! Double) - expected) < 2e-6)
        let last = try #require(cv.output.split(separator: "\n").last.map(String.init))
        #expect(last == "out-of-fold AUROC (pooled, \(all.records.count) records): " + String(format: "%.3f", expected), "\(cv.output)")

        // More folds than the rarest class has patients: refused before any training.
        let tooMany = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/cv9",
                                                    "--folds", "9", "--iterations", "2", "--plain"])
        #expect(tooMany.status != 0 && tooMany.output.contains("fewer than the 9 folds"), "\(tooMany.output)")
    }
}

/// `mims-train cv --seeds`: every fold trained once per seed, each seed pooled on its own, and
/// the mean ± sd over the seeds' pooled AUROCs, each recomputed in Python from its CSV.
struct CrossValidationSeedsTests {
    @Test func seedsPoolSeparatelyAndAverage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let cv = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/cv",
                                               "--folds", "2", "--seeds", "1,2", "--iterations", "2", "--plain", "--no-report"])
        try #require(cv.status == 0, "cv: \(cv.output)")
        let folds = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/cv/folds.json"))) as? [String: Int])
        var pooled: [Double] = []
        for seed in [1, 2] {
            var union: [String: String] = [:]
            for fold in 0..<2 {
                let tested = try CrossValidationTests.rows(dir.path + "/cv/fold-\(fold)/seed-\(seed)/scores-test.csv")
                #expect(Set(tested.keys) == Set(folds.filter { $0.value == fold }.keys))
                union.merge(tested) { a, _ in a }
            }
            let oof = dir.path + "/cv/seed-\(seed)/scores-oof.csv"
            #expect(try CrossValidationTests.rows(oof) == union, "seed \(seed): the out-of-fold scores are not its folds' union")
            let independent = try MimsTorch.python(["-c", CrossValidationTests.pooledAUROC, oof])
            try #require(independent.status == 0, "\(independent.error)")
            pooled.append(try #require(Double(independent.output.trimmingCharacters(in: .whitespacesAndNewlines))))
        }
        #expect(try CrossValidationTests.rows(dir.path + "/cv/seed-1/scores-oof.csv") != CrossValidationTests.rows(dir.path + "/cv/seed-2/scores-oof.csv"),
                "two seeds gave identical scores")
        let mean = (pooled[0] + pooled[1]) / 2
        let sd = (((pooled[0] - mean) * (pooled[0] - mean) + (pooled[1] - mean) * (pooled[1] - mean)) / 1).squareRoot()
        let last = try #require(cv.output.split(separator: "\n").last.map(String.init))
        #expect(last == "out-of-fold AUROC (pooled, \(folds.count) records, mean ± sd over 2 seeds): " + String(format: "%.3f ± %.3f", mean, sd), "\(cv.output)")
    }

    /// `cv --val-fold`: fold K's run tests on fold K, picks its checkpoint on fold (K + 1) mod 3,
    /// and trains on the remaining fold; `select: best-val` works inside folds only so.
    @Test func valFoldSelectsInsideEachFold() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = TrainingFixtures.pipelineText.replacingOccurrences(of: "eval_split: test", with: "eval_split: val, select: best-val")
            .replacingOccurrences(of: "eval_every: 3", with: "eval_every: 1")
        try pipeline.write(toFile: dir.path + "/best.yaml", atomically: true, encoding: .utf8)
        let refused = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/best.yaml", "--out", dir.path + "/refused",
                                                    "--folds", "3", "--iterations", "2", "--plain", "--no-report"])
        #expect(refused.status != 0 && refused.output.contains("cv --val-fold"), "\(refused.output)")
        let cv = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/best.yaml", "--out", dir.path + "/cv",
                                               "--folds", "3", "--val-fold", "--iterations", "3", "--plain", "--no-report"])
        try #require(cv.status == 0, "cv: \(cv.output)")
        let folds = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/cv/folds.json"))) as? [String: Int])
        for fold in 0..<3 {
            let size = { (k: Int) in folds.values.filter { $0 == k }.count }
            let val = (fold + 1) % 3, train = (fold + 2) % 3
            #expect(cv.output.contains("fold \(fold + 1) of 3: \(size(train)) records to train on, \(size(val)) for val (fold \(val)), \(size(fold)) held out"), "\(cv.output)")
            let tested = try CrossValidationTests.rows(dir.path + "/cv/fold-\(fold)/scores-test.csv")
            #expect(Set(tested.keys) == Set(folds.filter { $0.value == fold }.keys))
            let metrics = try String(contentsOfFile: dir.path + "/cv/fold-\(fold)/metrics.jsonl", encoding: .utf8)
            #expect(metrics.contains("\"split\": \"val\"") && !metrics.contains("\"split\": \"test\""), "periodic evaluations on val: \(metrics)")
            #expect(FileManager.default.fileExists(atPath: dir.path + "/cv/fold-\(fold)/best.safetensors"))
        }
        let two = try runProduct("mims-train", ["cv", "--shards", shards, "--pipeline", dir.path + "/best.yaml", "--out", dir.path + "/two",
                                                "--folds", "2", "--val-fold", "--plain", "--no-report"])
        #expect(two.status != 0 && two.output.contains("--val-fold needs at least 3 folds"), "\(two.output)")
    }
}

/// `training.select: best-val` (issue 17): the test split is scored with the weights of the best
/// val evaluation, which `RUN/best.safetensors` holds.
struct BestValidationTests {
    @Test func testScoresComeFromTheBestValEvaluation() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = TrainingFixtures.pipelineText.replacingOccurrences(of: "eval_split: test", with: "eval_split: val, select: best-val")
            .replacingOccurrences(of: "eval_every: 3", with: "eval_every: 1")
        try pipeline.write(toFile: dir.path + "/best.yaml", atomically: true, encoding: .utf8)
        let refused = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/best.yaml", "--out", dir.path + "/refused", "--plain"])
        #expect(refused.status != 0 && refused.output.contains("best-val needs a val split"), "\(refused.output)")

        let split = try runProduct("mims-split", ["make", shards, "--policy", "ratio", "--train", "0.5", "--val", "0.25", "--test", "0.25",
                                                  "--seed", "3", "--out", dir.path + "/withval"])
        try #require(split.status == 0, "mims-split make: \(split.output)")
        let train = try runProduct("mims-train", ["--shards", dir.path + "/withval", "--pipeline", dir.path + "/best.yaml", "--out", dir.path + "/run",
                                                  "--plain", "--no-report", "--allow-leakage"])
        try #require(train.status == 0, "train: \(train.output)")
        // The first eval line with the highest val AUROC, read here from metrics.jsonl.
        let lines = try String(contentsOfFile: dir.path + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        var best: (iteration: Int, auroc: Double)?
        for line in lines {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["type"] as? String == "eval",
                  let auroc = o["auroc"] as? Double, !auroc.isNaN else { continue }
            if auroc > best?.auroc ?? -1 { best = (o["iteration"] as! Int, auroc) }
        }
        let chosen = try #require(best)
        #expect(chosen.iteration < 6, "this setting's best val evaluation (iteration 4) is not the last, or the test shows nothing")
        let checkpoint = try Checkpoint.read(dir.path + "/run/best.safetensors")
        #expect(checkpoint.metadata["iteration"] == String(chosen.iteration) && checkpoint.metadata["selected"] == "best-val")
        #expect(train.output.contains("selected iteration \(chosen.iteration) (best val AUROC"), "\(train.output)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/run/eval-test.json"))) as? [String: Any])
        #expect(summary["iteration"] as? Int == chosen.iteration)
        // The same test AUROC through mims-train eval of best.safetensors.
        let eval = try runProduct("mims-train", ["eval", "--shards", dir.path + "/withval", "--checkpoint", dir.path + "/run/best.safetensors", "--json"])
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any], "\(eval.output)")
        #expect((printed["auroc"] as? Double).map { abs($0 - (summary["auroc"] as! Double)) < 1e-6 } ?? (summary["auroc"] is NSNull), "\(printed) \(summary)")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/run/checkpoint.safetensors"), "the last checkpoint stays for --resume")
    }

    /// `training.patience: N` stops once N val evaluations in a row have not beaten the best: at
    /// the iteration this test computes from the full run's own val curve (same seed, same curve),
    /// with the best weights kept, and a resume does not train on.
    @Test func patienceStopsWhereTheValCurveStalls() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let split = try runProduct("mims-split", ["make", shards, "--policy", "ratio", "--train", "0.5", "--val", "0.25", "--test", "0.25",
                                                  "--seed", "3", "--out", dir.path + "/withval"])
        try #require(split.status == 0, "mims-split make: \(split.output)")
        let base = TrainingFixtures.pipelineText.replacingOccurrences(of: "eval_split: test", with: "eval_split: val, select: best-val")
            .replacingOccurrences(of: "eval_every: 3", with: "eval_every: 1").replacingOccurrences(of: "iterations: 6", with: "iterations: 10")
        try base.write(toFile: dir.path + "/full.yaml", atomically: true, encoding: .utf8)
        let full = try runProduct("mims-train", ["--shards", dir.path + "/withval", "--pipeline", dir.path + "/full.yaml", "--out", dir.path + "/full",
                                                 "--plain", "--no-report", "--allow-leakage"])
        try #require(full.status == 0, "train: \(full.output)")
        func valCurve(_ run: String) throws -> [(iteration: Int, auroc: Double)] {
            try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
                guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["type"] as? String == "eval",
                      o["split"] as? String == "val" else { return nil }
                return (o["iteration"] as! Int, (o["auroc"] as? Double) ?? .nan)
            }
        }
        let curve = try valCurve(dir.path + "/full")
        // The first iteration (before the last) at which `patience` evaluations in a row did not beat the best.
        func stop(patience: Int) -> Int? {
            var best = -1.0, since = 0
            for point in curve {
                if !point.auroc.isNaN && point.auroc > best { best = point.auroc; since = 0 } else { since += 1 }
                if since >= patience && point.iteration < 10 { return point.iteration }
            }
            return nil
        }
        let patience = try #require((1...3).first { stop(patience: $0) != nil }, "the val curve never stalls: \(curve)")
        let expected = stop(patience: patience)!
        try base.replacingOccurrences(of: "select: best-val", with: "select: best-val, patience: \(patience)")
            .write(toFile: dir.path + "/patient.yaml", atomically: true, encoding: .utf8)
        let run = dir.path + "/patient"
        let early = try runProduct("mims-train", ["--shards", dir.path + "/withval", "--pipeline", dir.path + "/patient.yaml", "--out", run,
                                                  "--plain", "--no-report", "--allow-leakage"])
        try #require(early.status == 0, "train: \(early.output)")
        #expect(early.output.contains("stopping early at iteration \(expected) of 10"), "\(early.output)")
        let earlyCurve = try valCurve(run)
        #expect(earlyCurve.map(\.iteration) == curve.prefix { $0.iteration <= expected }.map(\.iteration))
        #expect(zip(earlyCurve, curve).allSatisfy { $0.auroc == $1.auroc || ($0.auroc.isNaN && $1.auroc.isNaN) }, "same seed, same curve")
        #expect(try Checkpoint.read(run + "/checkpoint.safetensors").metadata["iteration"] == String(expected))
        let best = try Checkpoint.read(run + "/best.safetensors").metadata["iteration"]
        var bestUpToStop: (iteration: Int, auroc: Double)?
        for point in curve where point.iteration <= expected && !point.auroc.isNaN && point.auroc > bestUpToStop?.auroc ?? -1 { bestUpToStop = point }
        #expect(best == bestUpToStop.map { String($0.iteration) }, "best.safetensors holds the best of the curve up to the stop")
        let metricsBefore = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        #expect(metricsBefore.contains("\"type\": \"stop\""), "\(metricsBefore)")
        let resumed = try runProduct("mims-train", ["--shards", dir.path + "/withval", "--pipeline", dir.path + "/patient.yaml", "--out", run,
                                                    "--plain", "--no-report", "--allow-leakage", "--resume"])
        try #require(resumed.status == 0, "resume: \(resumed.output)")
        #expect(try Checkpoint.read(run + "/checkpoint.safetensors").metadata["iteration"] == String(expected), "a stopped run stays stopped")
        let trainLines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"type\": \"train\"") }.count
        #expect(trainLines == expected, "\(trainLines) training steps logged, the run stopped after \(expected)")
        // patience without best-val is refused by its line.
        try TrainingFixtures.pipelineText.replacingOccurrences(of: "eval_split: test", with: "eval_split: test, patience: 2")
            .write(toFile: dir.path + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/bad.yaml", "--out", dir.path + "/bad", "--plain"])
        #expect(bad.status != 0 && bad.output.contains("'training.patience': nothing without select: best-val"), "\(bad.output)")
    }
}
