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
        let shards = try TrainerTests.shards(dir)
        try TrainerTests.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
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

        let independent = try TorchInteropTests.python(["-c", Self.pooledAUROC, dir.path + "/cv/scores-oof.csv"])
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
