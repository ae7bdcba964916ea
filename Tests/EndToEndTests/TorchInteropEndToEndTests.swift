import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// python/mims_torch (issue 15) against mims-train as a user runs it: a checkpoint trained by the
/// command is scored by `python -m mims_torch.predict` with the probabilities of
/// `mims-train predict`, for every variant.
///
/// These tests need torch, safetensors, PyYAML and h5py. Without them they fail (never skip):
/// a green suite then always means the two engines were compared.
struct TorchInteropEndToEndTests {
    struct Row: Equatable {
        var id: String, patient: String, label: String
        var score: Double
    }

    /// The CSV `predict` writes: id, patient, label, score; the ids of the synthetic data have
    /// no commas, so a plain split reads them.
    static func rows(_ path: String) throws -> (header: String, rows: [Row]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let rows = try lines.dropFirst().map { line -> Row in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let score = Double(fields[3]) else {
                throw NSError(domain: "csv", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path): bad row '\(line)'"])
            }
            return Row(id: fields[0], patient: fields[1], label: fields[2], score: score)
        }
        return (lines.first ?? "", rows)
    }

    /// The demo pipeline, and `mi-pre` made from it (no MSConv: top-k straight over the trunk).
    static func pipelines(_ dir: TemporaryDirectory) throws -> [(name: String, path: String)] {
        let demo = repositoryRoot + "/pipelines/demo-cirrus-small.yaml"
        let text = try String(contentsOfFile: demo, encoding: .utf8)
        var lines: [String] = [], inMSConv = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("msconv:") { inMSConv = true; continue }
            if inMSConv && line.hasPrefix("  ") { continue }
            inMSConv = false
            lines.append(line == "model: mims" ? "model: mi-pre" : line)
        }
        let miPre = dir.path + "/demo-mi-pre.yaml"
        try lines.joined(separator: "\n").write(toFile: miPre, atomically: true, encoding: .utf8)
        #expect(try Pipeline.load(path: miPre).variant == .miPre)
        return [("mims", demo), ("mi-pre", miPre)]
    }

    /// Swift trains 3 iterations; both engines score every record of test and train, record for
    /// record in the same order, the scores within 1e-4.
    @Test func torchScoresSwiftCheckpointsAsMimsTrainDoes() throws {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        for (model, pipeline) in try Self.pipelines(dir) {
            let run = dir.path + "/run-\(model)"
            let train = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", run,
                                                      "--iterations", "3", "--seed", "3", "--plain", "--no-report"])
            try #require(train.status == 0, "\(model): mims-train failed: \(train.output)")
            let checkpoint = run + "/checkpoint.safetensors"
            for split in ["test", "train"] {
                let swiftCSV = dir.path + "/swift-\(model)-\(split).csv", torchCSV = dir.path + "/torch-\(model)-\(split).csv"
                let swift = try runProduct("mims-train", ["predict", "--shards", shards, "--checkpoint", checkpoint, "--split", split, "--out", swiftCSV])
                try #require(swift.status == 0, "\(model) \(split): mims-train predict failed: \(swift.output)")
                let torch = try MimsTorch.python(["-m", "mims_torch.predict", "--shards", shards, "--checkpoint", checkpoint, "--split", split,
                                             "--out", torchCSV, "--workers", split == "train" ? "2" : "0"])
                try #require(torch.status == 0, "\(model) \(split): python -m mims_torch.predict failed: \(torch.error)")
                #expect(torch.output.contains("records"), "\(torch.output)")
                let expected = try Self.rows(swiftCSV), found = try Self.rows(torchCSV)
                #expect(found.header == "id,patient,label,score" && found.header == expected.header)
                try #require(expected.rows.count > 0 && found.rows.count == expected.rows.count,
                             "\(model) \(split): \(found.rows.count) rows from torch, \(expected.rows.count) from mims-train")
                for (e, f) in zip(expected.rows, found.rows) {
                    #expect(e.id == f.id && e.patient == f.patient && e.label == f.label, "\(model) \(split): row order or fields differ: \(e) vs \(f)")
                    #expect(abs(e.score - f.score) <= 1e-4, "\(model) \(split) \(e.id): mims-train \(e.score), torch \(f.score)")
                }
            }
        }
    }

    /// A small pipeline of `model` for the variant comparison: 64 x 64 input (3D) or 48 x 40 (2D),
    /// 2 iterations, 8 + 8 MSConv channels where the variant has MSConv.
    static func variantPipeline(model: String, msconv: String, aggregation: String = "topk", k: Int? = nil, volumes: Bool = true) -> String {
        """
        name: \(model)-\(aggregation)
        model: \(model)
        backbone: {\(model == "resnet34-scratch" ? "depth: 34" : "depth: 18"), feature_layer: \(model == "featpyra-4-5" ? "layer4" : "layer2"), weights: none}
        input_size: \(volumes ? "[64, 64]" : "[48, 40]")
        \(msconv.isEmpty ? "" : "msconv: " + msconv + "\n")pooling: {aggregation: \(aggregation)\(k.map { ", k: \($0)" } ?? "")}
        optimizer: {kind: adam, learning_rate: 0.001}
        training: {iterations: 2, batch: 2, class_balanced: true, eval_split: test\(volumes ? ", slices: [4, 6], central_slices: 10" : "")}
        """
    }

    /// Every variant of docs/MODEL.md's table and every aggregation, on volumes (Cirrus) and on
    /// RGB images resized to a non-square input (MMD): one checkpoint each, trained 2 iterations,
    /// scored by both engines on the train split within 1e-4.
    @Test func everyVariantScoresAsMimsTrain() throws {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let cirrus = try TrainingFixtures.shards(dir)
        let mmd = try TrainingFixtures.shards(.mmd, count: 12, dir)
        let groups = "{kernels: [[2, 8], [3, 8]]}"
        let cases: [(name: String, shards: String, text: String)] = [
            ("mims-top3", cirrus, Self.variantPipeline(model: "mims", msconv: "{kernels: [[2, 8], [3, 8]], scales: [0.5, 0.75, 1.0]}", k: 3)),
            ("mims-mean", cirrus, Self.variantPipeline(model: "mims", msconv: groups, aggregation: "mean")),
            ("mims-max", cirrus, Self.variantPipeline(model: "mims", msconv: groups, aggregation: "max")),
            ("mims-max-inst", cirrus, Self.variantPipeline(model: "mims", msconv: groups, aggregation: "max-inst")),
            ("mims-noresizing", cirrus, Self.variantPipeline(model: "mims-noresizing", msconv: groups)),
            ("mi-pre-conv", cirrus, Self.variantPipeline(model: "mi-pre-conv", msconv: groups)),
            ("mi-pre-trident", cirrus, Self.variantPipeline(model: "mi-pre-trident", msconv: groups)),
            ("pyramid-mi-pre", cirrus, Self.variantPipeline(model: "pyramid-mi-pre", msconv: "")),
            ("pyramid-mims", cirrus, Self.variantPipeline(model: "pyramid-mims", msconv: groups)),
            ("featpyra-4-5", cirrus, Self.variantPipeline(model: "featpyra-4-5", msconv: groups)),
            ("resnet34-scratch", cirrus, Self.variantPipeline(model: "resnet34-scratch", msconv: "")),
            ("mims-patchcls", cirrus, Self.variantPipeline(model: "mims-patchcls", msconv: "{kernels: [[2, 8], [3, 8]], scales: [0.5, 1.0]}")),
            ("mi-pre-conv-patchcls", cirrus, Self.variantPipeline(model: "mi-pre-conv-patchcls", msconv: groups)),
            ("mmd-mims", mmd, Self.variantPipeline(model: "mims", msconv: groups, volumes: false)),
            ("mmd-mi-pre", mmd, Self.variantPipeline(model: "mi-pre", msconv: "", volumes: false)),
        ]
        var jobs: [[String]] = []
        for (name, shards, text) in cases {
            let pipeline = dir.path + "/\(name).yaml", run = dir.path + "/run-\(name)"
            try text.write(toFile: pipeline, atomically: true, encoding: .utf8)
            let train = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", run, "--seed", "2", "--plain", "--no-report"])
            try #require(train.status == 0, "\(name): mims-train failed: \(train.output)\n\(text)")
            let checkpoint = run + "/checkpoint.safetensors"
            let swift = try runProduct("mims-train", ["predict", "--shards", shards, "--checkpoint", checkpoint, "--split", "train",
                                                      "--out", dir.path + "/swift-\(name).csv"])
            try #require(swift.status == 0, "\(name): mims-train predict failed: \(swift.output)")
            jobs.append(["--shards", shards, "--checkpoint", checkpoint, "--split", "train", "--out", dir.path + "/torch-\(name).csv"])
        }
        // One interpreter for all of them: importing torch is most of a run's time.
        let script = """
        import json, sys
        from mims_torch import predict
        sys.exit(max(predict.main(job) for job in json.loads(sys.argv[1])))
        """
        let torch = try MimsTorch.python(["-c", script, String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)])
        try #require(torch.status == 0, "mims_torch.predict failed: \(torch.error)")
        for (name, _, _) in cases {
            let expected = try Self.rows(dir.path + "/swift-\(name).csv"), found = try Self.rows(dir.path + "/torch-\(name).csv")
            #expect(found.header == expected.header, "\(name)")
            try #require(expected.rows.count > 0 && found.rows.count == expected.rows.count, "\(name): \(found.rows.count) vs \(expected.rows.count) rows")
            for (e, f) in zip(expected.rows, found.rows) {
                #expect(e.id == f.id && e.label == f.label, "\(name): row order differs: \(e) vs \(f)")
                #expect(abs(e.score - f.score) <= 1e-4, "\(name) \(e.id): mims-train \(e.score), torch \(f.score)")
            }
        }
    }
}
