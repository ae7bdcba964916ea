import Foundation
import MIMSCore
import MIMSShards
import MIMSTensor
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// Frozen-feature training (issue 17): `--freeze-backbone` / `backbone.trainable: false` computes
/// each record's trunk features once, caches them in RUN/features-<split>.h5 and trains the head
/// from the cache. Checked against PyTorch's trunk (python/mims_torch) on the cached rows, against
/// the untouched initial trunk, against `mims-train predict` of the checkpoint, and by resume.
struct FrozenBackboneTests {
    /// The cache's rows are the trunk's maps of each record's central slices as PyTorch computes
    /// them from the checkpoint and the shards (h5py reads both files), in record order.
    @Test func cachedRowsAreTheTrunkFeaturesPyTorchComputes() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        try MimsTorch.requireTorch()
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.replacingOccurrences(of: "iterations: 6", with: "iterations: 2")
            .write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let run = dir.path + "/run"
        let trained = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", run,
                                                    "--freeze-backbone", "--plain", "--no-report"])
        try #require(trained.status == 0, "train: \(trained.output)")
        #expect(trained.output.contains("computing the trunk features of"), "\(trained.output)")
        let script = """
        import sys, h5py, numpy as np, torch
        from mims_torch import data, model
        shards, checkpoint, cache = sys.argv[1:4]
        loaded = model.load_checkpoint(checkpoint)
        net = loaded.network.eval()
        dataset = data.ShardDataset(shards, "train", loaded.pipeline)
        f = h5py.File(cache, "r")
        ids = [i.decode() for i in f["records/id"][:]]
        assert ids == [r.id for r in dataset.records], (ids, [r.id for r in dataset.records])
        worst, rows = 0.0, 0
        with torch.no_grad():
            for index in range(len(dataset)):
                window = dataset.slices(index)
                assert f["records/first_frame"][index] == window.start and f["records/rows"][index] == len(window)
                first = int(f["records/first_row"][index])
                inputs, _, _ = dataset[index]
                for m, expected in enumerate(net.primary_maps(inputs)):
                    found = f["maps"][str(m)][first:first + len(window)]
                    assert found.shape == tuple(expected.shape), (found.shape, expected.shape)
                    error = np.abs(found - expected.numpy()).max() / max(1e-6, np.abs(expected.numpy()).max())
                    worst = max(worst, float(error))
                rows += len(window)
        assert rows == f["maps"]["0"].shape[0]
        print(worst, rows)
        """
        let compared = try MimsTorch.python(["-c", script, shards, run + "/checkpoint.safetensors", run + "/features-train.h5"])
        try #require(compared.status == 0, "python: \(compared.error)")
        let fields = compared.output.split(separator: " ")
        let worst = try #require(Double(fields.first ?? ""), "\(compared.output)")
        #expect(worst < 1e-4, "largest relative difference of a cached map from torch's: \(worst)")
        #expect(Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0 > 8, "\(compared.output)")
    }

    /// A frozen run leaves the trunk as it was initialized (bit for bit) and trains the head; its
    /// test scores are those `mims-train predict` gives its checkpoint through the whole network;
    /// a run stopped at iteration 3 and resumed reuses its cache and ends bit-identical to an
    /// uninterrupted one; a resume that would unfreeze is refused; a damaged cache is rebuilt.
    @Test func frozenRunKeepsTheTrunkScoresLikeItsCheckpointAndResumesExactly() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = dir.path + "/tiny.yaml"
        try TrainingFixtures.pipelineText.replacingOccurrences(of: "feature_layer: layer2}", with: "feature_layer: layer2, trainable: false}")
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        func train(_ run: String, _ extra: [String] = []) throws -> String {
            let result = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", run, "--seed", "11", "--plain", "--no-report"] + extra)
            try #require(result.status == 0, "train \(extra): \(result.output)")
            return result.output
        }
        let straight = dir.path + "/straight"
        _ = try train(straight)
        let final = try Checkpoint.read(straight + "/checkpoint.safetensors")
        #expect(final.metadata["backbone_trainable"] == "false")

        let initial = ParameterStore()
        let network = Network(try Pipeline.load(path: pipeline))
        network.initialize(initial, seed: 11)
        var backbone = 0, changedHead = 0
        for (name, tensor) in initial.tensors {
            let stored = try #require(final.parameters[name], "\(name) missing from the checkpoint")
            if name.hasPrefix("backbone.") {
                #expect(stored.values == tensor.reordered(to: .nchw).values, "\(name) changed in a frozen run")
                backbone += 1
            } else if stored.values != tensor.reordered(to: .nchw).values {
                changedHead += 1
            }
        }
        #expect(backbone > 50 && changedHead > 3, "\(backbone) trunk tensors kept, \(changedHead) head tensors trained")

        // The scores from cached features are the whole network's on the checkpoint.
        let predicted = try runProduct("mims-train", ["predict", "--shards", shards, "--checkpoint", straight + "/checkpoint.safetensors", "--out", dir.path + "/predict.csv"])
        try #require(predicted.status == 0, "predict: \(predicted.output)")
        let fromCache = try scores(straight + "/scores-test.csv"), fromNetwork = try scores(dir.path + "/predict.csv")
        try #require(fromCache.count > 0 && fromCache.keys.sorted() == fromNetwork.keys.sorted())
        for (id, score) in fromCache { #expect(abs(score - fromNetwork[id]!) <= 2e-6, "\(id): cache \(score), network \(fromNetwork[id]!)") }

        // mims_torch reads the frozen pipeline's checkpoint (same scores) and refuses to train it.
        try MimsTorch.requireTorch()
        let torchPredict = try MimsTorch.python(["-m", "mims_torch.predict", "--shards", shards, "--checkpoint", straight + "/checkpoint.safetensors",
                                                         "--out", dir.path + "/torch.csv"])
        try #require(torchPredict.status == 0, "mims_torch.predict: \(torchPredict.error)")
        for (id, score) in try scores(dir.path + "/torch.csv") { #expect(abs(score - fromNetwork[id]!) <= 1e-4, "\(id): torch \(score)") }
        let torchTrain = try MimsTorch.python(["-m", "mims_torch.train", "--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/torch-run"])
        #expect(torchTrain.status != 0 && torchTrain.error.contains("backbone.trainable: false (frozen-feature training) is mims-train's"), "\(torchTrain.error)")

        // The report says the trunk was frozen.
        let report = try runProduct("mims-train", ["report", "--run", straight, "--shards", shards])
        try #require(report.status == 0, "report: \(report.output)")
        #expect(try String(contentsOfFile: straight + "/report.md", encoding: .utf8).contains("| backbone | frozen: the head trained alone"))

        // `--freeze-backbone` on the plain pipeline, stopped after its iteration-3 checkpoint and
        // resumed: the same weights as the pipeline key's uninterrupted run.
        let plain = dir.path + "/plain.yaml"
        try TrainingFixtures.pipelineText.write(toFile: plain, atomically: true, encoding: .utf8)
        let interrupted = dir.path + "/interrupted"
        func resume(_ extra: [String]) throws -> (status: Int32, output: String) {
            try runProduct("mims-train", ["--shards", shards, "--pipeline", plain, "--out", interrupted, "--seed", "11", "--plain", "--no-report", "--resume"] + extra)
        }
        let first = try runProduct("mims-train", ["--shards", shards, "--pipeline", plain, "--out", interrupted, "--seed", "11", "--plain", "--no-report",
                                                  "--iterations", "3", "--freeze-backbone"])
        try #require(first.status == 0, "\(first.output)")
        let refused = try resume([])
        #expect(refused.status != 0 && refused.output.contains("cannot resume: the run trained the head on a frozen backbone"), "\(refused.output)")
        let resumed = try resume(["--freeze-backbone"])
        try #require(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("reusing the trunk features of train"), "\(resumed.output)")
        let again = try Checkpoint.read(interrupted + "/checkpoint.safetensors")
        #expect(again.parameters == final.parameters, "resumed frozen run differs from the uninterrupted one")

        // A damaged cache is named and computed again, with the same result.
        try Data("not an HDF5 file".utf8).write(to: URL(fileURLWithPath: straight + "/features-test.h5"))
        let evaluated = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", straight, "--seed", "11", "--plain", "--no-report", "--resume"])
        try #require(evaluated.status == 0, "\(evaluated.output)")
        #expect(evaluated.output.contains("features-test.h5: trunk feature cache: cannot read it") && evaluated.output.contains("computing the trunk features again"),
                "\(evaluated.output)")
        for (id, score) in try scores(straight + "/scores-test.csv") { #expect(score == fromCache[id], "\(id)") }
    }

    /// The bound, on the demo as `make demo` runs it (80 synthetic Cirrus cubes, seed 7,
    /// pipelines/demo-cirrus-small.yaml, 120 iterations): the head trained on cached trunk features
    /// reaches a test AUROC within 0.05 of full training at the same iterations and seed. Both
    /// AUROCs are recomputed here from the runs' scores-test.csv by pair counting.
    @Test func frozenTrainingOnTheDemoIsWithinTheBoundOfFullTraining() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        for (tool, arguments) in [("mims-ingest", ["synth", "--dataset", "cirrus", "--small", "--count", "80", "--seed", "7", "--out", dir.path + "/source"]),
                                  ("mims-ingest", ["run", dir.path + "/source/manifest.yaml", "--out", dir.path + "/shards", "--log-format", "text"])] {
            let result = try runProduct(tool, arguments)
            try #require(result.status == 0, "\(tool) \(arguments[0]): \(result.output)")
        }
        func aurocOfRun(_ extra: [String]) throws -> Double {
            let run = dir.path + "/run" + extra.joined()
            let result = try runProduct("mims-train", ["--shards", dir.path + "/shards", "--pipeline", repositoryRoot + "/pipelines/demo-cirrus-small.yaml",
                                                       "--out", run, "--seed", "1", "--plain", "--no-report"] + extra)
            try #require(result.status == 0, "train \(extra): \(result.output)")
            var positives: [Double] = [], negatives: [Double] = []
            for fields in CSVText.rows(try String(contentsOfFile: run + "/scores-test.csv", encoding: .utf8)).dropFirst() where fields.count >= 4 {
                let (label, score) = (Int(fields[2])!, Double(fields[3])!)
                if label == 1 { positives.append(score) } else { negatives.append(score) }
            }
            try #require(!positives.isEmpty && !negatives.isEmpty)
            let wins = positives.reduce(0.0) { total, p in total + negatives.reduce(0.0) { $0 + (p > $1 ? 1 : p == $1 ? 0.5 : 0) } }
            return wins / Double(positives.count * negatives.count)
        }
        let full = try aurocOfRun([]), frozen = try aurocOfRun(["--freeze-backbone"])
        #expect(abs(full - frozen) <= 0.05, "full training \(full), frozen backbone \(frozen)")
        #expect(full > 0.8, "the demo's full training should learn the cysts: \(full)")
    }

    func scores(_ path: String) throws -> [String: Double] {
        var result: [String: Double] = [:]
        let table = CSVText.rows(try String(contentsOfFile: path, encoding: .utf8))
        let header = try #require(table.first)
        let id = try #require(header.firstIndex(of: "id")), score = try #require(header.firstIndex(of: "score"))
        for row in table.dropFirst() { result[row[id]] = Double(row[score]) }
        return result
    }
}
