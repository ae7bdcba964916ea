import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// python/mims_torch (issue 15) against mims-train: a checkpoint trained here is scored by
/// `python -m mims_torch.predict` with the probabilities of `mims-train predict`, and the Python
/// pipeline reader and model agree with the Swift ones on names, shapes and errors.
///
/// These tests need torch, safetensors, PyYAML and h5py. Without them they fail (never skip):
/// a green suite then always means the two engines were compared.
struct TorchInteropTests {
    static let pythonPath = repositoryRoot + "/python"

    /// Runs `python3 args` with python/ on PYTHONPATH (and `environment` added): the exit status,
    /// standard output and error.
    static func python(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        environment["PYTHONPATH"] = pythonPath + (environment["PYTHONPATH"].map { ":" + $0 } ?? "")
        process.environment = environment
        // Standard error goes to a file, so that neither stream can fill its pipe and stall the child.
        let errors = try TemporaryDirectory()
        let errorPath = errors.path + "/stderr"
        guard FileManager.default.createFile(atPath: errorPath, contents: nil) else { throw PythonError(description: "cannot create \(errorPath)") }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errorFile
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try errorFile.close()
        let error = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output, error)
    }

    struct PythonError: Error, CustomStringConvertible {
        var description: String
    }

    /// Throws, naming what to install, when the Python side cannot run: the test then fails.
    static func requireTorch() throws {
        let probe = try python(["-c", "import torch, safetensors, yaml, h5py, numpy"])
        guard probe.status == 0 else {
            throw PythonError(description: "mims_torch needs torch, safetensors, PyYAML and h5py for python3: "
                                + "pip install torch safetensors pyyaml (make py-deps installs them). python3 said: \(probe.error)")
        }
    }

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
        try Self.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainerTests.shards(dir)
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
                let torch = try Self.python(["-m", "mims_torch.predict", "--shards", shards, "--checkpoint", checkpoint, "--split", split,
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
        try Self.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let cirrus = try TrainerTests.shards(dir)
        let mmd = try CheckpointCompatibilityTests.shards(.mmd, count: 12, dir)
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
        let torch = try Self.python(["-c", script, String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)])
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

    /// mims_torch.data under DataLoader workers (issue 15, test 5): ShardDataset through 4
    /// persistent workers per DistributedSampler rank, two epochs, and the training bags of 6
    /// iterations split over 2 ranks, give exactly the frames h5py reads itself (its own record
    /// table walk and central window), every record once per epoch; and no worker reads through
    /// the h5py handle the parent had opened before the workers were forked.
    @Test func datasetUnderWorkersReadsTheFramesH5pyReads() throws {
        try Self.requireTorch()
        let dir = try TemporaryDirectory()
        let shards = try TrainerTests.shards(dir)
        let script = """
        import glob, json, os, sys
        import h5py, numpy as np, torch
        from mims_torch import data, pipeline, schedule
        shards, p = sys.argv[1], pipeline.parse(sys.argv[2], "p.yaml")

        def direct(split):
            out = []
            for path in sorted(glob.glob(os.path.join(shards, split + "-*.h5"))):
                with h5py.File(path, "r") as f:
                    for start, n, label in zip(f["record_frame_start"][()], f["record_frame_count"][()], f["label"][()]):
                        count = min(p.central_slices, int(n))
                        first = int(start) + (int(n) - count) // 2
                        out.append({"central": f["frames"][first:first + count], "label": int(label), "path": path, "start": int(start)})
            return out

        def read_frames(record, slices):
            with h5py.File(record["path"], "r") as f:
                return np.stack([f["frames"][record["start"] + k] for k in slices])

        class Probe(data.ShardDataset):
            def __getitem__(self, index):
                frames, label, index = super().__getitem__(index)
                return frames, label, index, os.getpid(), id(self._file(self.records[index].shard))

        report = {"records": {}, "checked": 0, "mismatches": [], "inherited": 0, "pids": set()}
        for split in ("train", "test"):
            expected = direct(split)
            probe = Probe(shards, split, p, raw=True)
            report["records"][split] = len(probe)
            parent = probe[0][4]  # a handle this process opens before the workers fork
            for rank in range(2):
                sampler = torch.utils.data.DistributedSampler(probe, num_replicas=2, rank=rank, shuffle=False)
                loader = torch.utils.data.DataLoader(probe, batch_size=2, sampler=sampler, num_workers=4, persistent_workers=True,
                                                     collate_fn=lambda items: items)
                for epoch in range(2):
                    seen = []
                    for batch in loader:
                        for frames, label, index, pid, handle in batch:
                            seen.append(index)
                            report["checked"] += 1
                            report["pids"].add(pid)
                            report["inherited"] += int(pid == os.getpid() or handle == parent)
                            if not (np.array_equal(frames.numpy(), expected[index]["central"]) and label == expected[index]["label"]):
                                report["mismatches"].append(f"{split} record {index} rank {rank} epoch {epoch}")
                    if sorted(set(seen)) != sorted(set(sampler)):
                        report["mismatches"].append(f"{split} rank {rank} epoch {epoch}: records {sorted(set(seen))}")
            probe.close()
        train = data.ShardDataset(shards, "train", p, raw=True)
        expected = direct("train")
        plan = schedule.TrainingSchedule([r.label for r in train.records], [r.frame_count for r in train.records], 3, p.slices,
                                         p.central_slices, True, 2)
        for rank in range(2):
            bags = data.TrainingBags(train, plan, 6, rank, 2)
            loader = torch.utils.data.DataLoader(bags, batch_size=None, sampler=range(6), num_workers=4, collate_fn=lambda item: item)
            for iteration, item in zip(range(6), loader):
                mine = [plan.choices(iteration)[b] for b in schedule.TrainingSchedule.share(3, rank, 2)]
                read = np.concatenate([read_frames(expected[r], slices) for r, slices in mine])
                report["checked"] += 1
                if item["records"] != [r for r, _ in mine] or item["bags"] != 3 or not np.array_equal(item["input"].numpy(), read):
                    report["mismatches"].append(f"training bags of iteration {iteration}, rank {rank}")
        report["pids"] = len(report["pids"])
        print(json.dumps(report))
        """
        let result = try Self.python(["-c", script, shards, TorchTrainingTests.pipelineText])
        try #require(result.status == 0, "\(result.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)")
        let counts = try ["train", "test"].map { try ShardDataset(folder: shards, split: $0).records.count }
        #expect((report["records"] as? [String: Int]) == ["train": counts[0], "test": counts[1]])
        // Every record once per rank's share per epoch (DistributedSampler pads odd counts), plus 2 x 6 bag sets.
        let shares = counts.map { 2 * 2 * (($0 + 1) / 2) }.reduce(0, +)
        #expect(report["checked"] as? Int == shares + 12)
        #expect((report["mismatches"] as? [String]) == [], "\(report["mismatches"] ?? "")")
        #expect(report["inherited"] as? Int == 0, "a worker read through the parent's h5py handle")
        #expect((report["pids"] as? Int ?? 0) >= 2)
    }

    /// For every shipped pipeline, the torch model's state_dict has exactly the names and shapes
    /// of Network.parameterShapes (the checkpoint's tensors), so a checkpoint of any variant loads.
    @Test func torchModelsHaveTheCheckpointNamesOfEveryShippedPipeline() throws {
        try Self.requireTorch()
        let folder = repositoryRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        let script = """
        import json, sys
        from mims_torch import model, pipeline
        out = {}
        for path in sys.argv[1:]:
            net = model.build(pipeline.load(path))
            out[path] = {name: list(t.shape) for name, t in net.state_dict().items()}
        print(json.dumps(out))
        """
        let paths = files.map { folder + "/" + $0 }
        let result = try Self.python(["-c", script] + paths)
        try #require(result.status == 0, "\(result.error)")
        let decoded = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [String: [Int]]]
        let torch = try #require(decoded)
        for path in paths {
            let swift = Network(try Pipeline.load(path: path)).parameterShapes()
            let mine = try #require(torch[path], "\(path): no torch model")
            #expect(mine.keys.sorted() == swift.keys.sorted(),
                    "\(path): only in torch \(Set(mine.keys).subtracting(swift.keys).sorted()), only in Swift \(Set(swift.keys).subtracting(mine.keys).sorted())")
            for (name, shape) in swift where mine[name] != nil {
                #expect(mine[name] == shape, "\(path) \(name): torch \(mine[name]!), Swift \(shape)")
            }
        }
    }

    /// Pipelines the Swift reader refuses are refused by mims_torch with the same message (file,
    /// line, key, expectation); the good ones read to the same values.
    @Test func pipelineReaderAgreesWithSwift() throws {
        try Self.requireTorch()
        let base = "name: x\nmodel: mims\nbackbone: {depth: 18, feature_layer: layer2}\ninput_size: [64, 64]\n"
        let bad = [
            base + "msconv: {kernels: [[2, 8]]}\noptimizer: {learnig_rate: 0.1}\n",
            base + "msconv: {kernels: [[2, 8]]}\nfoo: 1\n",
            base,
            base.replacingOccurrences(of: "model: mims", with: "model: mi-pre") + "msconv: {kernels: [[2, 8]]}\n",
            base.replacingOccurrences(of: "model: mims", with: "model: mims-noresizing") + "msconv: {kernels: [[2, 8]], scales: [1.0]}\n",
            base + "msconv: {kernels: [[2, 8]]}\npooling: {aggregation: mean, k: 3}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {slices: [5, 3]}\n",
            base + "msconv: {kernels: [[9, 8]]}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {eval_split: dev}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {eval_split: test, select: best-val}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: newest}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {patience: 2}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: best-val, patience: 0}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: best-val, patience: soon}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {patiense: 2}\n",
            base + "msconv: {kernels: [[2, 8]]}\nprecision: fp16\n",
            base.replacingOccurrences(of: "depth: 18", with: "depth: 19"),
            base.replacingOccurrences(of: "[64, 64]", with: "[64]"),
        ]
        let good = base + "msconv: {kernels: [[2, 8], [3, 10]], scales: [0.5, 1]}\npooling: {k: 3}\noptimizer: {learning_rate: 1e-3}\n"
            + "training: {iterations: 12, class_balanced: yes, central_slices: 20, select: best-val, patience: 3}\n"
        let script = """
        import json, sys
        from mims_torch import pipeline
        texts = json.loads(sys.argv[1])
        out = []
        for text in texts:
            try:
                p = pipeline.parse(text, "p.yaml")
                out.append({"ok": [p.model, p.kernels, p.scales, p.k, p.learning_rate, p.backbone_learning_rate,
                                   p.iterations, p.eval_every, p.class_balanced, p.central_slices, p.volume_keys, p.select, p.patience]})
            except pipeline.PipelineError as error:
                out.append({"error": str(error)})
        print(json.dumps(out))
        """
        let texts = String(decoding: try JSONSerialization.data(withJSONObject: bad + [good]), as: UTF8.self)
        let result = try Self.python(["-c", script, texts])
        try #require(result.status == 0, "\(result.error)")
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        try #require(answers.count == bad.count + 1)
        for (text, answer) in zip(bad, answers) {
            do {
                _ = try Pipeline.parse(text, file: "p.yaml")
                Issue.record("Swift accepted \(text)")
            } catch {
                #expect(answer["error"] as? String == "\(error)", "\(text)\nSwift: \(error)\ntorch: \(answer)")
            }
        }
        let swift = try Pipeline.parse(good, file: "p.yaml")
        let values = try #require(answers.last?["ok"] as? [Any], "\(answers.last ?? [:])")
        #expect(values[0] as? String == swift.variant.rawValue)
        #expect(values[1] as? [[Int]] == swift.kernels && values[2] as? [Double] == swift.scales)
        #expect(values[3] as? Int == 3 && swift.aggregation == .topK(3))
        #expect((values[4] as? Double).map(Float.init) == swift.learningRate && (values[5] as? Double).map(Float.init) == swift.backboneLearningRate)
        #expect(values[6] as? Int == swift.iterations && values[7] as? Int == swift.evalEvery)
        #expect(values[8] as? Bool == swift.classBalanced && values[9] as? Int == swift.centralSlices)
        #expect(values[10] as? [String] == swift.volumeKeys)
        #expect(values[11] as? String == "best-val" && swift.selectsBestValidation)
        #expect(values[12] as? Int == 3 && swift.patience == 3)
    }
}
