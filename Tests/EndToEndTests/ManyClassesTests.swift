import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// Issue 17, "Many classes" and "Patient-level results", end to end through the binaries: a
/// synthetic three-class tile set is ingested, trained, evaluated and scored, and the printed and
/// stored AUROCs, the confusion matrix and the patient level are recomputed from the scores CSV by an
/// independent Python implementation (pairwise counting, no shared code).
struct ManyClassesTests {
    static let pipeline = """
    name: tiny3
    model: mims
    backbone: {depth: 18, feature_layer: layer2}
    input_size: [48, 48]
    msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}
    optimizer: {kind: adam, learning_rate: 0.001}
    training: {iterations: 30, batch: 8, eval_every: 30, checkpoint_every: 30, eval_split: test}
    """

    /// One-vs-rest AUROC by counting pairs (ties one half), macro averages, patient means, the
    /// argmax confusion matrix: from scores.csv, printed as JSON.
    static let recompute = """
    import csv, json, sys
    rows = list(csv.DictReader(open(sys.argv[1])))
    names = [k[2:] for k in rows[0] if k.startswith("p_")]
    def auroc(scores, positive):
        pos = [s for s, p in zip(scores, positive) if p]; neg = [s for s, p in zip(scores, positive) if not p]
        if not pos or not neg: return None
        return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg) / (len(pos) * len(neg))
    def macro(probabilities, labels):
        values = [auroc([p[c] for p in probabilities], [l == c for l in labels]) for c in range(len(names))]
        known = [v for v in values if v is not None]
        return values, sum(known) / len(known)
    probabilities = [[float(r["p_" + n]) for n in names] for r in rows]
    labels = [int(r["label"]) for r in rows]
    per_class, record_macro = macro(probabilities, labels)
    confusion = [[0] * len(names) for _ in names]
    for p, l in zip(probabilities, labels): confusion[l][max(range(len(p)), key=lambda c: (p[c], -c))] += 1
    patients = {}
    for r, p in zip(rows, probabilities): patients.setdefault(r["patient"], []).append((int(r["label"]), p))
    means = [[sum(p[c] for _, p in members) / len(members) for c in range(len(names))] for members in patients.values()]
    _, patient_macro = macro(means, [members[0][0] for members in patients.values()])
    print(json.dumps({"names": names, "per_class": per_class, "macro": record_macro, "confusion": confusion,
                      "patients": len(patients), "patient_macro": patient_macro,
                      "score_is_top": all(abs(float(r["score"]) - max(p)) < 1e-6 for r, p in zip(rows, probabilities))}))
    """

    @Test func threeClassesEndToEnd() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let synth = try runProduct("mims-ingest", ["synth", "--dataset", "crc-msi", "--classes", "3", "--count", "72", "--seed", "4", "--out", dir.path + "/src"])
        try #require(synth.status == 0, "synth: \(synth.output)")
        let manifest = try String(contentsOfFile: dir.path + "/src/manifest.yaml", encoding: .utf8)
        #expect(manifest.contains("classes: [MSS, MSIMUT, SUBTYPE2]"), "\(manifest)")
        let ingest = try runProduct("mims-ingest", ["run", dir.path + "/src/manifest.yaml", "--out", dir.path + "/shards", "--log-format", "text"])
        try #require(ingest.status == 0, "ingest: \(ingest.output)")
        try Self.pipeline.write(toFile: dir.path + "/tiny3.yaml", atomically: true, encoding: .utf8)
        let train = try runProduct("mims-train", ["--shards", dir.path + "/shards", "--pipeline", dir.path + "/tiny3.yaml", "--out", dir.path + "/run",
                                                  "--seed", "1", "--plain"])
        try #require(train.status == 0, "train: \(train.output)")
        let trainLines = train.output.split(separator: "\n").map(String.init)
        #expect(trainLines.contains { $0.hasPrefix("test AUROC (macro): ") }, "\(train.output)")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/run/report.html"))
        let report = try String(contentsOfFile: dir.path + "/run/report.md", encoding: .utf8)
        #expect(report.contains("| AUROC (macro) |") && report.contains("One-vs-rest AUROC per class"), "\(report)")

        let checkpoint = dir.path + "/run/checkpoint.safetensors"
        let eval = try runProduct("mims-train", ["eval", "--shards", dir.path + "/shards", "--checkpoint", checkpoint])
        try #require(eval.status == 0, "eval: \(eval.output)")
        let lines = eval.output.split(separator: "\n").map(String.init)
        let last = try #require(lines.last), beforeLast = lines[lines.count - 2]
        #expect(last.hasPrefix("test AUROC (macro): "), "\(eval.output)")
        #expect(beforeLast.hasPrefix("patient-level AUROC (macro): "), "\(eval.output)")
        let json = try runProduct("mims-train", ["eval", "--shards", dir.path + "/shards", "--checkpoint", checkpoint, "--json"])
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        let predict = try runProduct("mims-train", ["predict", "--shards", dir.path + "/shards", "--checkpoint", checkpoint, "--out", dir.path + "/scores.csv"])
        try #require(predict.status == 0, "predict: \(predict.output)")
        let header = try String(contentsOfFile: dir.path + "/scores.csv", encoding: .utf8).split(separator: "\n")[0]
        #expect(header == "id,patient,label,score,p_MSS,p_MSIMUT,p_SUBTYPE2")

        let result = try MimsTorch.python(["-c", Self.recompute, dir.path + "/scores.csv"])
        try #require(result.status == 0, "recompute: \(result.error)")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let perClass = try #require(printed["auroc_per_class"] as? [String: Double])
        for (name, value) in zip(expected["names"] as! [String], expected["per_class"] as! [Double]) {
            #expect(abs((perClass[name] ?? -1) - value) < 2e-6, "\(name): printed \(perClass[name] ?? -1), recomputed \(value)")
        }
        #expect(abs((printed["auroc"] as! Double) - (expected["macro"] as! Double)) < 2e-6)
        #expect(abs((printed["patient_auroc"] as! Double) - (expected["patient_macro"] as! Double)) < 2e-6)
        #expect(printed["patients"] as? Int == expected["patients"] as? Int)
        #expect(expected["score_is_top"] as? Bool == true, "with more than two classes score is the predicted class's probability")
        #expect(last == "test AUROC (macro): " + String(format: "%.3f", expected["macro"] as! Double))

        // The run's eval-test.json holds the same confusion matrix as the scores' argmax.
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/run/eval-test.json"))) as? [String: Any])
        #expect(stored["classes"] as? Int == 3)
        #expect((stored["confusion"] as? [[Int]]) == (expected["confusion"] as? [[Int]]), "\(stored)")

        // max-inst scores the class-1 probability: refused with three classes, naming why.
        try Self.pipeline.replacingOccurrences(of: "optimizer:", with: "pooling: {aggregation: max-inst}\noptimizer:")
            .write(toFile: dir.path + "/maxinst.yaml", atomically: true, encoding: .utf8)
        let refused = try runProduct("mims-train", ["--shards", dir.path + "/shards", "--pipeline", dir.path + "/maxinst.yaml", "--out", dir.path + "/refused"])
        #expect(refused.status != 0 && refused.output.contains("needs two classes"), "\(refused.output)")
    }

    @Test func synthRefusesClassesItCannotMake() throws {
        let dir = try TemporaryDirectory()
        let cirrus = try runProduct("mims-ingest", ["synth", "--dataset", "cirrus", "--classes", "3", "--small", "--out", dir.path + "/c"])
        #expect(cirrus.status != 0 && cirrus.output.contains("cirrus is synthesized with 2 classes only"), "\(cirrus.output)")
        let many = try runProduct("mims-ingest", ["synth", "--dataset", "crc-msi", "--classes", "9", "--out", dir.path + "/h"])
        #expect(many.status != 0 && many.output.contains("2 to 7 classes"), "\(many.output)")
    }
}
