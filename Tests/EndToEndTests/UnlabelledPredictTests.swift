import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// Issue 17, "Inference on new data", end to end through the binaries: a model trained on labelled
/// shards scores (a) the same exports ingested again with `labels: none` and (b) the exports
/// themselves through `predict --files`; both must give the scores the labelled shards give, since
/// the frames are made by the same recipe. h5py reads the unlabelled shards independently.
struct UnlabelledPredictTests {
    static let volumePipeline = """
    name: tiny-volumes
    model: mims
    backbone: {depth: 18, feature_layer: layer2}
    input_size: [48, 48]
    msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}
    optimizer: {kind: adam, learning_rate: 0.001}
    training: {iterations: 4, batch: 2, eval_every: 4, checkpoint_every: 4, eval_split: test}
    """

    static let tilePipeline = """
    name: tiny-tiles
    model: mims
    backbone: {depth: 18, feature_layer: layer2}
    input_size: [48, 48]
    msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}
    optimizer: {kind: adam, learning_rate: 0.001}
    training: {iterations: 6, batch: 8, eval_every: 6, checkpoint_every: 6, eval_split: test}
    """

    /// The manifest with its labels section replaced by `labels: none` and its split, patient and
    /// official-split sections removed.
    static func unlabelled(_ manifest: String) -> String {
        var out: [String] = [], skipping = false
        for line in manifest.components(separatedBy: "\n") {
            if ["labels:", "split:", "patient:", "official_split:"].contains(where: line.hasPrefix) {
                skipping = true
                if line.hasPrefix("labels:") { out.append("labels: none") }
                continue
            }
            if skipping && (line.hasPrefix(" ") || line.hasPrefix("\t")) { continue }
            skipping = false
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    /// id -> row of a scores CSV (no quoted fields in these ids). Scores are printed to 6
    /// decimals and a bag scored alone may differ from one scored in a batch of 4 in the last
    /// float bits, so equal scores agree within one unit of the 6th decimal.
    static func rows(_ path: String) throws -> (header: String, rows: [String: [String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var rows: [String: [String]] = [:]
        for line in lines.dropFirst() {
            let fields = line.components(separatedBy: ",")
            rows[fields[0]] = fields
        }
        return (lines[0], rows)
    }

    static let h5Check = """
    import glob, h5py, json, sys
    labels, recipes = [], set()
    for path in sorted(glob.glob(sys.argv[1] + "/*.h5")):
        with h5py.File(path, "r") as f:
            labels += [int(v) for v in f["label"][:]]
            recipes.add(f.attrs["frame_recipe"] if isinstance(f.attrs["frame_recipe"], str) else f.attrs["frame_recipe"].decode())
            assert f.attrs["split"] in ("test", b"test"), f.attrs["split"]
    assert len(recipes) == 1, recipes
    print(json.dumps({"labels": labels, "recipe": json.loads(recipes.pop())}))
    """

    @Test func unlabelledVolumesScoreAsTheirLabelledShards() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let synth = try runProduct("mims-ingest", ["synth", "--dataset", "spectralis", "--small", "--count", "8", "--seed", "3", "--out", dir.path + "/src"])
        try #require(synth.status == 0, "synth: \(synth.output)")
        let manifest = try String(contentsOfFile: dir.path + "/src/manifest.yaml", encoding: .utf8)
        let ingest = try runProduct("mims-ingest", ["run", dir.path + "/src/manifest.yaml", "--out", dir.path + "/shards", "--log-format", "text"])
        try #require(ingest.status == 0, "ingest: \(ingest.output)")
        try Self.volumePipeline.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let train = try runProduct("mims-train", ["--shards", dir.path + "/shards", "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/run",
                                                  "--seed", "1", "--plain", "--no-report"])
        try #require(train.status == 0, "train: \(train.output)")
        let checkpoint = dir.path + "/run/checkpoint.safetensors"
        let labelled = try runProduct("mims-train", ["predict", "--shards", dir.path + "/shards", "--checkpoint", checkpoint, "--split", "all",
                                                     "--out", dir.path + "/labelled.csv"])
        try #require(labelled.status == 0, "predict: \(labelled.output)")

        // (a) The same files with labels: none: every record in test, label -1 in the shards.
        try Self.unlabelled(manifest).write(toFile: dir.path + "/src/unlabelled.yaml", atomically: true, encoding: .utf8)
        let ingestUnlabelled = try runProduct("mims-ingest", ["run", dir.path + "/src/unlabelled.yaml", "--out", dir.path + "/unlabelled",
                                                              "--log-format", "text"])
        try #require(ingestUnlabelled.status == 0, "ingest: \(ingestUnlabelled.output)")
        let h5 = try MimsTorch.python(["-c", Self.h5Check, dir.path + "/unlabelled"])
        try #require(h5.status == 0, "h5py: \(h5.error)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(h5.output.utf8)) as? [String: Any])
        #expect((facts["labels"] as? [Int]) == Array(repeating: -1, count: 8))
        let recipe = try #require(facts["recipe"] as? [String: Any])
        #expect(recipe["reader"] as? String == "spectralis-vol" && recipe["central_slices"] as? Int == 30 && recipe["channels"] as? Int == 1
                && recipe["size"] as? [Int] == [224, 224] && recipe["intensity"] as? String == "fourth-root" && recipe["kind"] as? String == "volume3d",
                "\(recipe)")
        let check = try runProduct("mims-split", ["check", dir.path + "/unlabelled"])
        #expect(check.status == 0, "check: \(check.output)")
        let report = try runProduct("mims-split", ["report", dir.path + "/unlabelled"])
        #expect(report.status == 0 && report.output.contains("unlabelled"), "report: \(report.output)")

        let fromShards = try runProduct("mims-train", ["predict", "--shards", dir.path + "/unlabelled", "--checkpoint", checkpoint, "--split", "all",
                                                       "--out", dir.path + "/unlabelled.csv"])
        try #require(fromShards.status == 0, "predict: \(fromShards.output)")
        // (b) The exports themselves, a folder and a file named directly.
        let oneFile = try #require(try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/src").filter { $0.hasSuffix(".vol") }.sorted().first)
        let fromFiles = try runProduct("mims-train", ["predict", "--checkpoint", checkpoint, "--files", dir.path + "/src", dir.path + "/src/" + oneFile,
                                                      "--out", dir.path + "/files.csv"])
        try #require(fromFiles.status == 0, "predict --files: \(fromFiles.output)")
        #expect(fromFiles.output.contains("left out: "), "the manifests and lesions.json beside the exports are named: \(fromFiles.output)")

        let reference = try Self.rows(dir.path + "/labelled.csv").rows
        let (unlabelledHeader, unlabelledRows) = try Self.rows(dir.path + "/unlabelled.csv")
        let (filesHeader, fileRows) = try Self.rows(dir.path + "/files.csv")
        #expect(unlabelledHeader == "id,patient,label,score" && filesHeader == unlabelledHeader)
        #expect(reference.count == 8 && Set(unlabelledRows.keys) == Set(reference.keys))
        let fileLines = try String(contentsOfFile: dir.path + "/files.csv", encoding: .utf8).split(separator: "\n").count - 1
        #expect(fileLines == 9 && fileRows.count == 8, "8 from the folder and the one named again: \(fileRows.keys.sorted())")
        for (id, row) in reference {
            let scored = try #require(unlabelledRows[id])
            #expect(scored[2] == "", "an unlabelled record's label is empty: \(scored)")
            #expect(abs(Double(scored[3])! - Double(row[3])!) <= 1.5e-6, "\(id): \(scored[3]) from the unlabelled shards, \(row[3]) labelled")
            let file = try #require(fileRows[dir.path + "/src/" + id + ".vol"], "no row for \(id) in \(fileRows.keys.sorted())")
            #expect(file[1] == "" && file[2] == "", "\(file)")
            #expect(abs(Double(file[3])! - Double(row[3])!) <= 1.5e-6, "\(id): \(file[3]) from the file, \(row[3]) from its shard")
        }
        #expect(Set(reference.values.map { $0[3] }).count > 1, "the model gives different records different scores")

        let eval = try runProduct("mims-train", ["eval", "--shards", dir.path + "/unlabelled", "--checkpoint", checkpoint])
        #expect(eval.status != 0 && eval.output.contains("unlabelled (the manifest said labels: none)"), "eval: \(eval.output)")
        let trainUnlabelled = try runProduct("mims-train", ["--shards", dir.path + "/unlabelled", "--pipeline", dir.path + "/tiny.yaml",
                                                            "--out", dir.path + "/run2", "--plain"])
        #expect(trainUnlabelled.status != 0 && trainUnlabelled.output.contains("nothing to train on"), "train: \(trainUnlabelled.output)")
        try Data("not an export".utf8).write(to: URL(fileURLWithPath: dir.path + "/broken.vol"))
        let broken = try runProduct("mims-train", ["predict", "--checkpoint", checkpoint, "--files", dir.path + "/broken.vol", dir.path + "/src/" + oneFile,
                                                   "--out", dir.path + "/broken.csv"])
        #expect(broken.status != 0 && broken.output.contains("broken.vol") && broken.output.contains("1 of 2 files could not be scored"), "\(broken.output)")
        #expect(try Self.rows(dir.path + "/broken.csv").rows.count == 1)
    }

    /// 2D tiles, three classes: a folder of PNG tiles given to `predict --files` scores every tile
    /// as its shard does, with the checkpoint's class names as columns.
    @Test func tileFoldersScoreAsTheirShards() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let synth = try runProduct("mims-ingest", ["synth", "--dataset", "crc-msi", "--classes", "3", "--count", "36", "--seed", "5", "--out", dir.path + "/src"])
        try #require(synth.status == 0, "synth: \(synth.output)")
        let ingest = try runProduct("mims-ingest", ["run", dir.path + "/src/manifest.yaml", "--out", dir.path + "/shards", "--log-format", "text"])
        try #require(ingest.status == 0, "ingest: \(ingest.output)")
        try Self.tilePipeline.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let train = try runProduct("mims-train", ["--shards", dir.path + "/shards", "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/run",
                                                  "--seed", "2", "--plain", "--no-report"])
        try #require(train.status == 0, "train: \(train.output)")
        let checkpoint = dir.path + "/run/checkpoint.safetensors"
        let shards = try runProduct("mims-train", ["predict", "--shards", dir.path + "/shards", "--checkpoint", checkpoint, "--split", "all",
                                                   "--out", dir.path + "/shards.csv"])
        try #require(shards.status == 0, "predict: \(shards.output)")
        let files = try runProduct("mims-train", ["predict", "--checkpoint", checkpoint, "--files", dir.path + "/src", "--out", dir.path + "/files.csv"])
        try #require(files.status == 0, "predict --files: \(files.output)")
        let (shardHeader, reference) = try Self.rows(dir.path + "/shards.csv")
        let (fileHeader, fileRows) = try Self.rows(dir.path + "/files.csv")
        #expect(shardHeader == "id,patient,label,score,p_MSS,p_MSIMUT,p_SUBTYPE2" && fileHeader == shardHeader)
        #expect(reference.count == 36 && fileRows.count == 36)
        for (id, row) in reference {
            let file = try #require(fileRows[dir.path + "/src/" + id + ".png"], "no row for \(id)")
            for column in 3..<7 {
                #expect(abs(Double(file[column])! - Double(row[column])!) <= 1.5e-6, "\(id) column \(column): \(file[column]) against \(row[column])")
            }
        }
    }
}
