import Foundation
import MIMSIngest
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// mims_torch in a study (issues 15 and 17): the results files of a run (`scores-test.csv`,
/// `eval-test.json` with the patient level), `--seeds`, `training.patience` and the refusals of
/// leaking or unlabelled shards, each against mims-train on the same shards, and the evaluation
/// files recomputed independently in Python from the run's own scores (AUROC by counting pairs).
struct TorchStudyTests {
    /// Two classes at 32 x 32, 3 SGD iterations of 4 tiles: the mims-train run every torch run starts from.
    static let pipelineText = """
    name: tiny2
    model: mims
    backbone: {depth: 18, feature_layer: layer2}
    input_size: [32, 32]
    msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}
    optimizer: {kind: sgd, learning_rate: 0.01}
    training: {iterations: 3, batch: 4, eval_every: 3, checkpoint_every: 3, eval_split: test}
    """

    /// TorchManyClassesTests' best-val pipeline with `patience: 2` and 8 iterations. From its
    /// initial checkpoint with seed 2 the val AUROCs (macro) of iterations 1 to 6 are 0.451, 0.398,
    /// 0.523, 0.599, 0.594, 0.578 in both engines (measured), so the run stops at 6 of 8 with
    /// iteration 4 selected: a stop that needs two evaluations counted, the second after a resume.
    static let patienceText = TorchManyClassesTests.bestText
        .replacingOccurrences(of: "{iterations: 6, batch: 4, eval_every: 1, checkpoint_every: 2, eval_split: val, select: best-val}",
                              with: "{iterations: 8, batch: 4, eval_every: 1, checkpoint_every: 2, eval_split: val, select: best-val, patience: 2}")

    /// Recomputes an eval-<split>.json from its scores CSV without mims code: AUROC as the share of
    /// (positive, negative) pairs ranked right (ties one half), one-vs-rest and macro with more
    /// than two classes, accuracy and confusion (0.5 or the most probable class, the lowest on
    /// ties), and the patients' mean probabilities (patients whose records disagree left out).
    static let independent = """
    import csv, json, sys
    rows = list(csv.DictReader(open(sys.argv[1], newline="")))
    classes = json.load(open(sys.argv[2]))["classes"]
    names = json.load(open(sys.argv[2])).get("class_names")
    def pairs(scores, positive):
        pos = [s for s, p in zip(scores, positive) if p]; neg = [s for s, p in zip(scores, positive) if not p]
        if not pos or not neg: return None
        return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg) / (len(pos) * len(neg))
    def measure(probs, labels):
        if classes == 2:
            return pairs([p[1] for p in probs], [l == 1 for l in labels]), None, [1 if p[1] >= 0.5 else 0 for p in probs]
        per = [pairs([p[c] for p in probs], [l == c for l in labels]) for c in range(classes)]
        known = [v for v in per if v is not None]
        return sum(known) / len(known), per, [max(range(classes), key=lambda c: (p[c], -c)) for p in probs]
    labels = [int(r["label"]) for r in rows]
    probs = [[1 - float(r["score"]), float(r["score"])] for r in rows] if classes == 2 else [[float(r["p_" + n]) for n in names] for r in rows]
    auroc, per, predicted = measure(probs, labels)
    groups = {}
    for r, p in zip(rows, probs): groups.setdefault(r["patient"], []).append((int(r["label"]), p))
    kept = [groups[k] for k in sorted(groups) if len({l for l, _ in groups[k]}) == 1]
    patient_auroc, _, _ = measure([[sum(p[c] for _, p in g) / len(g) for c in range(classes)] for g in kept], [g[0][0] for g in kept])
    print(json.dumps({"records": len(rows), "auroc": auroc, "per_class": per, "patients": len(kept), "patient_auroc": patient_auroc,
                      "accuracy": sum(1 for l, q in zip(labels, predicted) if l == q) / len(rows),
                      "confusion": [[sum(1 for l, q in zip(labels, predicted) if l == a and q == b) for b in range(classes)] for a in range(classes)]}))
    """

    static func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], "\(path)")
    }

    /// The run's eval-test.json against the independent recomputation from its scores-test.csv.
    static func expectRecomputed(_ run: String) throws {
        let result = try MimsTorch.python(["-c", Self.independent, run + "/scores-test.csv", run + "/eval-test.json"])
        try #require(result.status == 0, "independent evaluation of \(run): \(result.error)")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let found = try Self.json(run + "/eval-test.json")
        let classes = found["classes"] as? Int ?? 0
        #expect(found["records"] as? Int == expected["records"] as? Int && found["patients"] as? Int == expected["patients"] as? Int, "\(run): \(found)")
        #expect((found["patients"] as? Int ?? 0) > 1 && found["patient_aggregation"] as? String == "mean", "\(run): no patient level in \(found)")
        for key in ["auroc", "patient_auroc", "accuracy"] {
            let (a, b) = (found[key] as? Double ?? -1, expected[key] as? Double ?? -2)
            #expect(abs(a - b) <= 1e-6, "\(run) \(key): eval-test.json \(a), recomputed \(b)")
        }
        #expect(found[classes == 2 ? "confusion_at_0.5" : "confusion"] as? [[Int]] == expected["confusion"] as? [[Int]], "\(run): \(found)")
        if classes > 2 {
            let names = found["class_names"] as? [String] ?? []
            let perClass = found["auroc_per_class"] as? [String: Double] ?? [:]
            for (name, value) in zip(names, expected["per_class"] as? [Double] ?? []) {
                #expect(abs((perClass[name] ?? -1) - value) <= 1e-6, "\(run) \(name) vs rest: \(perClass[name] ?? -1), recomputed \(value)")
            }
        }
    }

    /// Two eval files field by field: the same keys and counts, numbers within 1e-6.
    static func expectSameSummary(_ a: String, _ b: String) throws {
        let x = try Self.json(a), y = try Self.json(b)
        #expect(Set(x.keys) == Set(y.keys), "\(a): \(x.keys.sorted()), \(b): \(y.keys.sorted())")
        for key in x.keys {
            if let u = x[key] as? [String: Double], let v = y[key] as? [String: Double] {
                #expect(Set(u.keys) == Set(v.keys) && u.allSatisfy { abs($0.value - (v[$0.key] ?? -1)) <= 1e-6 }, "\(key): \(a) \(u), \(b) \(v)")
            } else if let u = x[key] as? Double, let v = y[key] as? Double, !(x[key] is Int) {
                #expect(abs(u - v) <= 1e-6, "\(key): \(a) \(u), \(b) \(v)")
            } else {
                #expect("\(x[key]!)" == "\(y[key] ?? "-")", "\(key): \(a) \(x[key]!), \(b) \(y[key] ?? "-")")
            }
        }
    }

    /// 1. Synthetic CRC-MSI tiles of 12 patients, two classes. mims_torch with `--seeds 1,2` from a
    ///    mims-train checkpoint writes `seed-S/scores-test.csv` and `eval-test.json`, recomputed
    ///    independently, with the patient level; seed 1's eval file equals that of mims-train
    ///    training the same 2 iterations from the same checkpoint, and that of `mims-train report
    ///    --run` scoring the torch weights. It prints mims-train's last lines (patient level, test,
    ///    each seed, the mean) with the files' numbers. 2. `mims-train compare` puts the torch
    ///    run beside the mims-train run: the torch cell is the mean of its eval files. 3.
    ///    `mims_torch.predict --run` writes a run's files again, byte for byte.
    @Test func evaluationFilesSeedsAndCompareAsMimsTrain() throws {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 48, seed: 4).write(to: dir.path + "/src")
        _ = try IngestRunner(manifest: try ManifestParser.load(path: dir.path + "/src/manifest.yaml"), output: dir.path + "/shards",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
        let shards = dir.path + "/shards"
        try Self.pipelineText.write(toFile: dir.path + "/tiny2.yaml", atomically: true, encoding: .utf8)
        try Self.pipelineText.replacingOccurrences(of: "name: tiny2", with: "name: tiny2-torch").write(toFile: dir.path + "/torch.yaml", atomically: true, encoding: .utf8)
        let swift = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/tiny2.yaml", "--out", dir.path + "/swift",
                                                  "--seed", "1", "--plain", "--no-report"])
        try #require(swift.status == 0, "mims-train: \(swift.output)")
        let initial = dir.path + "/swift/checkpoint.safetensors"
        let same = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/torch.yaml", "--out", dir.path + "/swift-same",
                                                 "--init-from", initial, "--seed", "1", "--iterations", "2", "--plain", "--no-report"])
        try #require(same.status == 0, "mims-train --init-from: \(same.output)")
        let torch = try TorchTrainingTests.torchJobs([("train", ["--shards", shards, "--pipeline", dir.path + "/torch.yaml", "--out", dir.path + "/torch",
                                                                  "--init-from", initial, "--seeds", "1,2", "--iterations", "2", "--workers", "0", "--threads", "2"])])[0]
        try #require(torch.status == 0, "mims_torch --seeds: \(torch.error)")

        var aurocs: [Double] = []
        for seed in [1, 2] {
            let run = dir.path + "/torch/seed-\(seed)"
            try Self.expectRecomputed(run)
            let summary = try Self.json(run + "/eval-test.json")
            #expect(summary["iteration"] as? Int == 2 && summary["split"] as? String == "test" && summary["classes"] as? Int == 2)
            let auroc = try #require(summary["auroc"] as? Double), patients = try #require(summary["patient_auroc"] as? Double)
            aurocs.append(auroc)
            #expect(try TorchInteropEndToEndTests.rows(run + "/scores-test.csv").header == "id,patient,label,score")
            let lines = torch.output.components(separatedBy: "training tiny2-torch (mims, ResNet-18) on \(shards), seed \(seed), 2 iterations -> \(run)\n")
            try #require(lines.count == 2, "no training line for seed \(seed): \(torch.output)")
            #expect(lines[1].contains(String(format: "patient-level AUROC: %.3f\ntest AUROC: %.3f\n", patients, auroc)), "\(torch.output)")
        }
        let last = torch.output.split(separator: "\n").suffix(3).map(String.init)
        #expect(last == [String(format: "seed 1: AUROC %.3f", aurocs[0]), String(format: "seed 2: AUROC %.3f", aurocs[1]),
                         String(format: "mean AUROC over 2 seeds: %.3f", (aurocs[0] + aurocs[1]) / 2)], "\(torch.output)")

        // The same training in mims-train, and mims-train scoring the torch weights.
        try Self.expectSameSummary(dir.path + "/swift-same/eval-test.json", dir.path + "/torch/seed-1/eval-test.json")
        try FileManager.default.copyItem(atPath: dir.path + "/torch/seed-1", toPath: dir.path + "/reported")
        let report = try runProduct("mims-train", ["report", "--run", dir.path + "/reported"])
        try #require(report.status == 0, "mims-train report --run: \(report.output)")
        try Self.expectSameSummary(dir.path + "/reported/eval-test.json", dir.path + "/torch/seed-1/eval-test.json")

        // compare: the torch --seeds parent beside the mims-train run.
        let compared = try runProduct("mims-train", ["compare", dir.path + "/swift", dir.path + "/torch", "--format", "csv"])
        try #require(compared.status == 0, "compare: \(compared.output)")
        let rows = compared.output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let torchRow = try #require(rows.first { $0.first == "auroc" && $0[2] == "tiny2-torch" }, "\(compared.output)")
        let swiftRow = try #require(rows.first { $0.first == "auroc" && $0[2] == "tiny2" }, "\(compared.output)")
        #expect(torchRow[4] == "2" && abs(Double(torchRow[5])! - (aurocs[0] + aurocs[1]) / 2) <= 1e-6, "\(torchRow) against \(aurocs)")
        #expect(abs(Double(swiftRow[5])! - (try Self.json(dir.path + "/swift/eval-test.json")["auroc"] as? Double ?? -1)) <= 1e-6, "\(swiftRow)")
        #expect(rows.contains { $0.first == "pair" && $0[2] == "tiny2" && $0[3] == "tiny2-torch" }, "\(compared.output)")

        // predict --run: the files of a run written again from its weights.
        let again = dir.path + "/again"
        try FileManager.default.copyItem(atPath: dir.path + "/torch/seed-2", toPath: again)
        for name in ["eval-test.json", "scores-test.csv"] { try FileManager.default.removeItem(atPath: again + "/" + name) }
        let predict = try TorchTrainingTests.torchJobs([("predict", ["--run", again])])[0]
        try #require(predict.status == 0, "predict --run: \(predict.error)")
        for name in ["eval-test.json", "scores-test.csv"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/" + name)) == Data(contentsOf: URL(fileURLWithPath: dir.path + "/torch/seed-2/" + name)), "\(name)")
        }
        #expect(predict.output.hasSuffix(String(format: "test AUROC: %.3f\n", aurocs[1])), "\(predict.output)")
    }

    /// `training.patience` and `select: best-val` over three classes against mims-train from one
    /// checkpoint (seed 2): the same val AUROCs, the same stop line in metrics.jsonl and the same
    /// early-stop message at iteration 6 of 8, the checkpoint of 6, the best of 4 scoring the test
    /// split into an eval file equal to mims-train's and to the independent recomputation. A run
    /// trained to 5 and resumed restores the count of evaluations since the best from its metrics
    /// and stops at 6 with the same files; resumed again it stays stopped, as mims-train's does.
    @Test func patienceStopsWhereMimsTrainStops() throws {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = dir.path + "/withval"
        let split = try runProduct("mims-split", ["make", try TorchManyClassesTests.shards(dir), "--policy", "ratio", "--train", "0.5", "--val", "0.25",
                                                  "--test", "0.25", "--seed", "3", "--out", shards])
        try #require(split.status == 0, "mims-split make: \(split.output)")
        try TorchManyClassesTests.pipelineText.write(toFile: dir.path + "/tiny3.yaml", atomically: true, encoding: .utf8)
        try #require(Self.patienceText.contains("patience: 2"), "TorchManyClassesTests.bestText changed: \(Self.patienceText)")
        try Self.patienceText.write(toFile: dir.path + "/patience.yaml", atomically: true, encoding: .utf8)
        let start = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/tiny3.yaml", "--out", dir.path + "/init",
                                                  "--seed", "1", "--plain", "--no-report"])
        try #require(start.status == 0, "mims-train: \(start.output)")
        let common = ["--shards", shards, "--pipeline", dir.path + "/patience.yaml", "--init-from", dir.path + "/init/checkpoint.safetensors", "--seed", "2"]
        let swift = try runProduct("mims-train", common + ["--out", dir.path + "/swift", "--plain", "--no-report"])
        try #require(swift.status == 0, "mims-train patience: \(swift.output)")
        let swiftAgain = try runProduct("mims-train", common + ["--out", dir.path + "/swift", "--plain", "--no-report", "--resume"])
        try #require(swiftAgain.status == 0, "mims-train patience --resume: \(swiftAgain.output)")
        let torchArguments = common + ["--workers", "0", "--threads", "2"]
        let jobs = try TorchTrainingTests.torchJobs([("train", torchArguments + ["--out", dir.path + "/torch"]),
                                                     ("train", torchArguments + ["--out", dir.path + "/resumed", "--iterations", "5"]),
                                                     ("train", torchArguments + ["--out", dir.path + "/resumed", "--resume"]),
                                                     ("train", torchArguments + ["--out", dir.path + "/resumed", "--resume"])])
        for (index, job) in jobs.enumerated() { try #require(job.status == 0, "mims_torch job \(index): \(job.error)") }

        let message = "stopping early at iteration 6 of 8: val AUROC has not improved on 0.599 (iteration 4) for 2 evaluations (training.patience)"
        #expect(swift.output.contains(message), "mims-train: \(swift.output)")
        #expect(jobs[0].error.contains(message) && jobs[2].error.contains(message), "mims_torch: \(jobs[0].error)\n\(jobs[2].error)")
        #expect(jobs[2].error.contains("resuming \(dir.path)/resumed at iteration 5"), "\(jobs[2].error)")
        #expect(!jobs[3].error.contains("stopping early") && !jobs[3].error.contains("iteration 7/"), "a stopped run trained on: \(jobs[3].error)")
        let selected = "selected iteration 4 (best val AUROC (macro) 0.599) -> "
        #expect(TorchManyClassesTests.line(jobs[0].output, prefix: "selected iteration ") == selected + dir.path + "/torch/best.safetensors")

        let expected = try TorchManyClassesTests.metrics(dir.path + "/swift", type: "eval")
        for run in ["torch", "resumed"] {
            let folder = dir.path + "/" + run
            let evals = try TorchManyClassesTests.metrics(folder, type: "eval")
            // A resume of the stopped run evaluates once more at 6, as Trainer.run does (mims-train's
            // run was resumed once too, the torch "resumed" run once after its stop).
            try #require(expected.count == 7 && evals.count == (run == "torch" ? 6 : 7), "\(run): \(evals.count) eval lines, mims-train \(expected.count)")
            for (s, t) in zip(expected, evals) {
                #expect(s["iteration"] as? Int == t["iteration"] as? Int && abs((s["auroc"] as? Double ?? -1) - (t["auroc"] as? Double ?? -2)) <= 1e-6,
                        "\(run) eval line \(t), mims-train \(s)")
            }
            let stops = try TorchManyClassesTests.metrics(folder, type: "stop")
            #expect(stops.count == 1 && stops.first?["iteration"] as? Int == 6 && stops.first?["reason"] as? String == "patience", "\(run): \(stops)")
            let lines = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
            #expect(lines.contains("{\"iteration\": 6, \"reason\": \"patience\", \"type\": \"stop\"}\n"), "\(run): \(lines)")
            #expect(try Checkpoint.read(folder + "/checkpoint.safetensors").iteration == 6)
            #expect(try Checkpoint.read(folder + "/best.safetensors").iteration == 4)
            try Self.expectSameSummary(dir.path + "/swift/eval-test.json", folder + "/eval-test.json")
            try Self.expectRecomputed(folder)
            try TorchManyClassesTests.expectSameScores(dir.path + "/swift/scores-test.csv", folder + "/scores-test.csv", tolerance: 1e-4, run)
        }
        #expect(try TorchManyClassesTests.metrics(dir.path + "/swift", type: "stop").count == 1)
        let summary = try Self.json(dir.path + "/torch/eval-test.json")
        #expect(summary["iteration"] as? Int == 4 && summary["class_names"] as? [String] == TorchManyClassesTests.classNames, "\(summary)")
    }

    /// The error text after `Error: ` (mims-train) or `error: ` (mims_torch), every line of it.
    static func errorText(_ text: String) -> String? {
        guard let range = text.range(of: "Error: ") ?? text.range(of: "error: ") else { return nil }
        return text[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Shards that fail `mims-split check` (a patient moved to test, an image copied into test) and
    /// an unlabelled set (`labels: none`) are refused by both engines in the same words, every
    /// problem listed; `--allow-leakage` trains on the leaking shards anyway.
    @Test func leakingAndUnlabelledShardsRefusedAsMimsTrain() throws {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        try TrainingFixtures.writeLeakingShards(dir, to: dir.path + "/leaking")
        let check = try runProduct("mims-split", ["check", dir.path + "/leaking"])
        #expect(check.status != 0, "mims-split check passed the leaking shards: \(check.output)")

        let volumes = dir.path + "/volumes"
        _ = try SyntheticDatasetWriter(dataset: .spectralis, count: 4, seed: 3, small: true).write(to: volumes)
        let unlabelledManifest = volumes + "/unlabelled.yaml"
        try UnlabelledPredictTests.unlabelled(try String(contentsOfFile: volumes + "/manifest.yaml", encoding: .utf8))
            .write(toFile: unlabelledManifest, atomically: true, encoding: .utf8)
        _ = try IngestRunner(manifest: try ManifestParser.load(path: unlabelledManifest), output: dir.path + "/unlabelled",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()

        let pipeline = dir.path + "/tiny2.yaml"
        try Self.pipelineText.replacingOccurrences(of: "iterations: 3,", with: "iterations: 1,").write(toFile: pipeline, atomically: true, encoding: .utf8)
        let cases = [("leaking", dir.path + "/leaking"), ("unlabelled", dir.path + "/unlabelled")]
        let torch = try TorchTrainingTests.torchJobs(cases.map { ("train", ["--shards", $0.1, "--pipeline", pipeline, "--out", dir.path + "/torch-" + $0.0]) }
            + [("train", ["--shards", dir.path + "/leaking", "--pipeline", pipeline, "--out", dir.path + "/allowed", "--allow-leakage", "--workers", "0"])])
        for (c, t) in zip(cases, torch) {
            let swift = try runProduct("mims-train", ["--shards", c.1, "--pipeline", pipeline, "--out", dir.path + "/swift-" + c.0, "--plain", "--no-report"])
            let expected = try #require(Self.errorText(swift.output), "\(c.0): mims-train said \(swift.output)")
            #expect(swift.status != 0 && t.status == 1 && Self.errorText(t.error) == expected, "\(c.0): mims-train said\n\(expected)\nmims_torch said\n\(t.error)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/torch-" + c.0), "\(c.0): refused runs leave no folder")
        }
        let leak = Self.errorText(torch[0].error) ?? ""
        #expect(leak.contains("patient overlap between train and test") && leak.contains("duplicate image across splits") && leak.contains("--allow-leakage"), "\(leak)")
        #expect(Self.errorText(torch[1].error)?.contains("the records are unlabelled (the manifest said labels: none), so there is nothing to train on") == true)
        #expect(torch[2].status == 0 && FileManager.default.fileExists(atPath: dir.path + "/allowed/eval-test.json"), "--allow-leakage: \(torch[2].error)")
    }
}
