import Foundation
import MIMSModels
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTensor
@testable import MIMSTrain

/// `python -m mims_torch.train` against mims-train (issue 15): from one checkpoint, five fp32 SGD
/// iterations in each engine with the same seed must give the same weights and BatchNorm running
/// statistics, and mims-train must read the torch checkpoint and evaluate it as torch did.
///
/// The setting is TrainerTests' tiny pipeline at 64 x 64 and learning rate 0.001, seed 4: there the
/// engines differ by at most 2.3e-6 relative L2 per tensor (measured), and the tolerance 2e-5 leaves
/// a margin of about 8, while a head learning rate 1% off in Python moves tensors by about 1e-2.
/// In other settings five steps are enough for rounding to change a discrete choice (a ReLU sign, a
/// top-k member) and the runs part by about 1e-2: that happens to torch float32 against float64 as
/// often as to mims-train (python/README.md), so no tolerance would separate the engines there. The
/// initial checkpoint comes from mims-train, so an engine change that moves it by rounding can make
/// a seed chaotic (seed 2 did when BatchNorm's statistics moved to double sums): the test requires
/// torch float32 and float64 to agree within 1e-4 first, and says so when they do not.
struct TorchTrainingTests {
    static let tolerance = 2e-5
    static let seed = 4

    static let pipelineText = TrainingFixtures.pipelineText
        .replacingOccurrences(of: "input_size: [40, 40]", with: "input_size: [64, 64]")
        .replacingOccurrences(of: "learning_rate: 0.01", with: "learning_rate: 0.001")

    /// The shards, the pipeline file and a mims-train checkpoint (1 iteration, seed 3) both engines start from.
    static func fixture(_ dir: TemporaryDirectory) throws -> (shards: String, pipeline: String, initial: String) {
        try MimsTorch.requireTorch()
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = dir.path + "/tiny64.yaml"
        try Self.pipelineText.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let start = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/init",
                                                  "--iterations", "1", "--seed", "3", "--plain", "--no-report"])
        try #require(start.status == 0, "mims-train (initial checkpoint) failed: \(start.output)")
        return (shards, pipeline, dir.path + "/init/checkpoint.safetensors")
    }

    /// The lines of RUN/metrics.jsonl.
    static func metrics(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func fiveSGDStepsMatchMimsTrain() throws {
        let dir = try TemporaryDirectory()
        let (shards, pipeline, initial) = try Self.fixture(dir)
        let swift = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/swift", "--init-from", initial,
                                                  "--iterations", "5", "--seed", String(Self.seed), "--plain", "--no-report"])
        try #require(swift.status == 0, "mims-train --init-from failed: \(swift.output)")
        let torch = try MimsTorch.python(["-m", "mims_torch.train", "--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/torch",
                                                  "--init-from", initial, "--iterations", "5", "--seed", String(Self.seed), "--threads", "2"])
        try #require(torch.status == 0, "python -m mims_torch.train failed: \(torch.error)")
        // The same run in float64, printed only: the two float32 engines follow each other far more
        // closely than either follows float64 in chaotic settings, so it is a check of the setting, not a bound.
        let wide = try MimsTorch.python(["-m", "mims_torch.train", "--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/torch64",
                                                 "--init-from", initial, "--iterations", "5", "--seed", String(Self.seed), "--threads", "2", "--float64"])
        try #require(wide.status == 0, "python -m mims_torch.train --float64 failed: \(wide.error)")
        let reference = try Checkpoint.read(dir.path + "/torch64/checkpoint.safetensors")

        let expected = try Checkpoint.read(dir.path + "/swift/checkpoint.safetensors")
        let found = try Checkpoint.read(dir.path + "/torch/checkpoint.safetensors")
        #expect(Set(found.parameters.keys) == Set(expected.parameters.keys))
        for key in ["format", "pipeline", "pipeline_name", "model", "iteration", "seed", "precision", "dataset_kind", "channels",
                    "class_count", "class_names", "input_size", "pipeline_sha256", "shard_set", "init_from_sha256"] {
            #expect(found.metadata[key] == expected.metadata[key], "metadata \(key): torch \(found.metadata[key] ?? "-"), swift \(expected.metadata[key] ?? "-")")
        }
        var worst = (0.0, ""), spread = (0.0, "")
        for name in expected.parameters.keys.sorted() {
            guard let a = expected.parameters[name], let b = found.parameters[name] else { continue }
            try #require(a.shape == b.shape, "\(name): shape \(b.shape) from torch, \(a.shape) from mims-train")
            if name.hasSuffix("num_batches_tracked") {
                #expect(a.values == b.values, "\(name): \(b.values) from torch, \(a.values) from mims-train")
                continue
            }
            let distance = MimsTorch.relative(a.values, b.values)
            let rounding = MimsTorch.relative(b.values, reference.parameters[name]?.values ?? [])
            if rounding > spread.0 { spread = (rounding, name) }

            if distance > worst.0 { worst = (distance, name) }
            #expect(distance <= Self.tolerance, "\(name): relative L2 \(distance) between the engines after 5 steps")
        }
        print("TorchTrainingTests: engines differ by at most \(worst.0) (\(worst.1)); torch float32 against float64 by \(spread.0) (\(spread.1))")
        #expect(spread.0 <= 1e-4, "torch float32 and float64 differ by \(spread.0) (\(spread.1)) after 5 steps: this seed is no longer well conditioned, so the engine comparison above says nothing; pick a seed where they agree")

        // The train lines of metrics.jsonl: mims-train's keys, the same losses to float32 noise.
        let swiftLines = try Self.metrics(dir.path + "/swift"), torchLines = try Self.metrics(dir.path + "/torch")
        let swiftTrain = swiftLines.filter { $0["type"] as? String == "train" }
        let torchTrain = torchLines.filter { $0["type"] as? String == "train" }
        try #require(torchTrain.count == 5 && swiftTrain.count == 5)
        for (s, t) in zip(swiftTrain, torchTrain) {
            #expect(Set(s.keys) == Set(t.keys) && s["iteration"] as? Int == t["iteration"] as? Int && s["slices"] as? Int == t["slices"] as? Int)
            let (ls, lt) = ((s["loss"] as? Double) ?? .nan, (t["loss"] as? Double) ?? .nan)
            #expect(abs(ls - lt) <= 1e-4 * max(1, abs(ls)), "loss \(lt) from torch, \(ls) from mims-train")
        }

        // mims-train eval on the torch checkpoint prints the AUROC mims_torch computed for it.
        let eval = try runProduct("mims-train", ["eval", "--shards", shards, "--checkpoint", dir.path + "/torch/checkpoint.safetensors",
                                                 "--split", "test", "--json"])
        try #require(eval.status == 0, "mims-train eval of the torch checkpoint failed: \(eval.output)")
        let printed = try #require(eval.output.split(separator: "\n").last.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let torchEval = try #require(torchLines.last { $0["type"] as? String == "eval" }, "no eval line in the torch metrics")
        #expect(torchEval["split"] as? String == "test" && torchEval["records"] as? Int == printed["records"] as? Int)
        let (swiftAUROC, torchAUROC) = ((printed["auroc"] as? Double) ?? -1, (torchEval["auroc"] as? Double) ?? -2)
        #expect(abs(swiftAUROC - torchAUROC) <= 1e-6, "mims-train eval AUROC \(swiftAUROC), mims_torch \(torchAUROC)")
        // The eval lines have mims-train's keys too.
        let swiftEval = try #require(swiftLines.last { $0["type"] as? String == "eval" })
        #expect(Set(swiftEval.keys) == Set(torchEval.keys))

        // mims-train heatmap on the torch checkpoint: every record of the test split, each with the
        // score mims_torch wrote for it (heatmaps score in evaluation mode, as predict does; 1e-4
        // as TorchInteropTests), its PNGs decoding at twice the frame width, its .npy readable.
        let torchScores = try TorchInteropEndToEndTests.rows(dir.path + "/torch/scores-test.csv").rows
        let maps = dir.path + "/maps"
        let heatmap = try runProduct("mims-train", ["heatmap", "--shards", shards, "--checkpoint", dir.path + "/torch/checkpoint.safetensors",
                                                    "--out", maps, "--records", String(torchScores.count)])
        try #require(heatmap.status == 0, "mims-train heatmap of the torch run failed: \(heatmap.output)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: maps + "/heatmaps.json"))) as? [String: Any])
        let drawn = try #require(summary["records"] as? [[String: Any]])
        #expect(Set(drawn.compactMap { $0["id"] as? String }) == Set(torchScores.map(\.id)))
        let frameWidth = try ShardDataset(folder: shards, split: "test").frameShape.width
        for record in drawn {
            let id = record["id"] as? String ?? ""
            let expected = try #require(torchScores.first { $0.id == id })
            #expect(abs((record["score"] as? Double ?? -1) - expected.score) <= 1e-4, "\(id): heatmap score \(record["score"] ?? "-"), mims_torch \(expected.score)")
            let images = record["images"] as? [String] ?? []
            #expect(!images.isEmpty)
            for image in images {
                // The figure's panels (embedded in its SVG; the PNG is drawn from that) are two frames wide.
                let png = maps + "/" + image
                let output = try run(["python3", repositoryRoot + "/Tests/Interop/heatmap_figure.py", png, String(png.dropLast(4)) + ".svg"])
                let figure = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                #expect((figure["embedded_size"] as? [Int])?.first == 2 * frameWidth, "\(image)")
            }
            #expect(FileManager.default.fileExists(atPath: maps + "/" + HeatmapExporter.fileName(id) + ".npy"))
        }

        // mims-train report on the torch run folder: the AUROC mims_torch logged, every image the
        // report shows decoding, the loss curve from the torch metrics.jsonl and the provenance from
        // its run.json.
        let report = try runProduct("mims-train", ["report", "--run", dir.path + "/torch"])
        try #require(report.status == 0, "mims-train report of the torch run failed: \(report.output)")
        #expect(report.output.contains(String(format: "test AUROC: %.3f", torchAUROC)), "\(report.output)")
        let html = try String(contentsOfFile: dir.path + "/torch/report.html", encoding: .utf8)
        let images = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        // The curves are inline SVG, each with a link to its PNG.
        let links = html.components(separatedBy: "<a href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        let sources = images + links
        #expect(links.contains("plots/roc.png") && links.contains("plots/loss.png") && links.contains("plots/auroc.png"), "\(links)")
        #expect(sources.contains { $0.hasPrefix("gallery/") }, "\(sources)")
        for source in sources {
            _ = try run(["python3", "-c", "from PIL import Image; import sys; Image.open(sys.argv[1]).load()", dir.path + "/torch/" + source])
        }
        let md = try String(contentsOfFile: dir.path + "/torch/report.md", encoding: .utf8)
        #expect(md.contains("| tiny | test | \(torchScores.count) | \(String(format: "%.3f", torchAUROC)) |"), "\(md)")
        #expect(md.contains("| tool version | mims_torch "), "\(md)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/torch/eval-test.json"))) as? [String: Any]
        #expect(abs((written?["auroc"] as? Double ?? -1) - torchAUROC) <= 1e-6)
    }

    /// Runs `python -m mims_torch.train` once per argument list in one interpreter; each run's
    /// exit status and standard error (standard output is dropped).
    static func torchRuns(_ runs: [[String]]) throws -> [(status: Int, error: String)] {
        try torchJobs(runs.map { ("train", $0) }).map { ($0.status, $0.error) }
    }

    /// Runs `python -m mims_torch.<module> arguments` for each job in one interpreter (importing
    /// torch is most of a short run's time); each job's exit status, standard error and output.
    static func torchJobs(_ jobs: [(module: String, arguments: [String])]) throws -> [(status: Int, error: String, output: String)] {
        let script = """
        import contextlib, importlib, io, json, sys
        out = []
        for module, arguments in json.loads(sys.argv[1]):
            captured, printed = io.StringIO(), io.StringIO()
            with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(printed):
                status = importlib.import_module("mims_torch." + module).main(arguments)
            out.append([status, captured.getvalue(), printed.getvalue()])
        print(json.dumps(out))
        """
        let encoded = try JSONSerialization.data(withJSONObject: jobs.map { [$0.module, $0.arguments] as [Any] })
        let result = try MimsTorch.python(["-c", script, String(decoding: encoded, as: UTF8.self)])
        try #require(result.status == 0, "\(result.error)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[Any]], "\(result.output)")
        return decoded.map { (($0[0] as? Int) ?? -1, ($0[1] as? String) ?? "", ($0[2] as? String) ?? "") }
    }

    /// The line after `error: ` (mims_torch) or `Error: ` (mims-train) in `text`.
    static func errorLine(_ text: String) -> String? {
        text.split(separator: "\n").map(String.init).first { $0.hasPrefix("error: ") || $0.hasPrefix("Error: ") }.map { String($0.dropFirst(7)) }
    }

    /// mims_torch.train's --resume, --backbone-weights and --precision against mims-train: a run
    /// stopped after 2 iterations and resumed to 4 ends bit for bit where an uninterrupted run
    /// does (weights, running statistics, optimizer state, metrics); a resume with another
    /// pipeline and weights of another depth are refused with mims-train's words; ImageNet-style
    /// weights land in the trunk with mims-train's provenance; bf16 trains in bf16.
    @Test func resumeWeightsAndPrecisionAsMimsTrain() throws {
        let dir = try TemporaryDirectory()
        let (shards, pipeline, initial) = try Self.fixture(dir)
        let changed = dir.path + "/tiny64-faster.yaml"
        try Self.pipelineText.replacingOccurrences(of: "learning_rate: 0.001", with: "learning_rate: 0.002").write(toFile: changed, atomically: true, encoding: .utf8)
        // Trunk weights files as docs/WEIGHTS.md describes them: torchvision names, no prefix.
        for depth in [ResNetTrunk.Depth.resnet18, .resnet34] {
            let store = ParameterStore()
            ResNetTrunk(depth).initialize(store, seed: 7)
            try SafeTensorsWriter.write(store.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }, to: dir.path + "/r\(depth.rawValue).safetensors")
        }
        func torch(_ out: String, _ extra: [String]) -> [String] {
            ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/" + out, "--seed", "2"] + extra
        }
        // A mims-train run of 2 iterations for mims_torch to resume to 3, and mims-train's own 3.
        for (out, iterations) in [("from-swift", "2"), ("swift-3", "3")] {
            let part = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/" + out, "--init-from", initial,
                                                     "--iterations", iterations, "--seed", "2", "--plain", "--no-report"])
            try #require(part.status == 0, "mims-train failed: \(part.output)")
        }
        let runs = try Self.torchRuns([
            torch("straight", ["--init-from", initial, "--iterations", "4"]),
            torch("resumed", ["--init-from", initial, "--iterations", "2"]),
            torch("resumed", ["--init-from", initial, "--iterations", "4", "--resume"]),
            ["--shards", shards, "--pipeline", changed, "--out", dir.path + "/resumed", "--seed", "2", "--resume"],
            torch("bf16", ["--init-from", initial, "--iterations", "1", "--precision", "bf16"]),
            torch("weights", ["--backbone-weights", dir.path + "/r18.safetensors", "--iterations", "1"]),
            torch("wrong-depth", ["--backbone-weights", dir.path + "/r34.safetensors", "--iterations", "1"]),
            torch("from-swift", ["--init-from", initial, "--iterations", "3", "--resume"]),
        ])
        for index in [0, 1, 2, 5, 7] { try #require(runs[index].status == 0, "run \(index) failed: \(runs[index].error)") }

        // Resume: bit for bit.
        let straight = try Checkpoint.read(dir.path + "/straight/checkpoint.safetensors")
        let resumed = try Checkpoint.read(dir.path + "/resumed/checkpoint.safetensors")
        #expect(straight.iteration == 4 && resumed.iteration == 4)
        #expect(straight.parameters.keys.sorted() == resumed.parameters.keys.sorted())
        for name in straight.parameters.keys.sorted() { #expect(straight.parameters[name] == resumed.parameters[name], "\(name) after resume") }
        let stateA = try SafeTensorsFile(path: try Checkpoint.statePath(of: dir.path + "/straight/checkpoint.safetensors", loaded: straight))
        let stateB = try SafeTensorsFile(path: try Checkpoint.statePath(of: dir.path + "/resumed/checkpoint.safetensors", loaded: resumed))
        #expect(stateA.metadata["step"] == "4" && stateB.metadata["step"] == "4" && stateA.entries.keys.sorted() == stateB.entries.keys.sorted())
        for name in stateA.entries.keys.sorted() { #expect(try stateA.tensor(name) == stateB.tensor(name), "\(name) after resume") }
        // The metrics read as one run; the stopped run's last iteration (2) also holds the evaluation
        // a run makes at its end, as mims-train's does.
        let untimed = { (run: String) in
            try Self.metrics(dir.path + "/" + run).filter { !($0["type"] as? String == "eval" && $0["iteration"] as? Int == 2) }
                .map { line in line.filter { $0.key != "seconds" }.map { "\($0.key)=\($0.value)" }.sorted() }
        }
        #expect(try untimed("straight") == untimed("resumed"))
        #expect(try untimed("straight").count == 6)  // 4 train lines, evaluations at 3 (eval_every) and 4 (the end)
        #expect(runs[2].error.contains("resuming \(dir.path)/resumed at iteration 2"), "\(runs[2].error)")

        // mims_torch continues a mims-train run (weights and optimizer state) where mims-train does:
        // 2 iterations of mims-train and 1 of mims_torch against 3 of mims-train, within the
        // engines' tolerance (measured 6.4e-7). Not further: in the 4th iteration of this setting
        // float32 rounding alone (float32 against float64 from one state) moves the stem BatchNorm
        // biases (norm 5e-4) by 7.8e-5 relative, whichever engine made the earlier steps.
        let crossed = try Checkpoint.read(dir.path + "/from-swift/checkpoint.safetensors")
        let swiftThree = try Checkpoint.read(dir.path + "/swift-3/checkpoint.safetensors")
        #expect(crossed.iteration == 3 && swiftThree.iteration == 3)
        for name in swiftThree.parameters.keys.sorted() {
            let (a, b) = (swiftThree.parameters[name]?.values ?? [], crossed.parameters[name]?.values ?? [])
            if name.hasSuffix("num_batches_tracked") { #expect(a == b, "\(name)"); continue }
            #expect(MimsTorch.relative(a, b) <= Self.tolerance, "\(name): mims-train 2 + mims_torch 1 differs from mims-train 3 by \(MimsTorch.relative(a, b))")
        }

        // A resume with another pipeline: refused as mims-train refuses it, word for word.
        #expect(runs[3].status == 1)
        let swiftResume = try runProduct("mims-train", ["--shards", shards, "--pipeline", changed, "--out", dir.path + "/resumed", "--seed", "2",
                                                        "--resume", "--plain", "--no-report"])
        #expect(swiftResume.status != 0)
        let torchMessage = try #require(Self.errorLine(runs[3].error), "\(runs[3].error)")
        #expect(torchMessage.contains("optimizer.learning_rate 0.001 -> 0.002"), "\(torchMessage)")
        #expect(torchMessage == Self.errorLine(swiftResume.output), "mims_torch: \(torchMessage)\nmims-train: \(swiftResume.output)")
        // mims-train continues the run mims_torch resumed.
        let onward = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/resumed", "--seed", "2",
                                                   "--iterations", "5", "--resume", "--plain", "--no-report"])
        #expect(onward.status == 0, "\(onward.output)")
        #expect(try Checkpoint.read(dir.path + "/resumed/checkpoint.safetensors").iteration == 5)

        // ImageNet-style weights: the trunk starts from the file (layer3 and layer4, which the
        // layer2 pipeline never trains, stay equal to it; conv1 moved by one small step), recorded
        // as mims-train records them.
        let file = try SafeTensorsFile(path: dir.path + "/r18.safetensors")
        let loaded = try Checkpoint.read(dir.path + "/weights/checkpoint.safetensors")
        #expect(loaded.metadata["backbone_weights"] == "r18.safetensors")
        #expect(loaded.metadata["backbone_weights_sha256"] == (try SHA256.hex(ofFile: dir.path + "/r18.safetensors")))
        for name in file.entries.keys.sorted() where name.hasPrefix("layer3.") || name.hasPrefix("layer4.") {
            #expect(loaded.parameters["backbone." + name]?.values == (try file.tensor(name)).values, "\(name)")
        }
        let moved = MimsTorch.relative(try file.tensor("conv1.weight").values, loaded.parameters["backbone.conv1.weight"]?.values ?? [])
        #expect(moved > 0 && moved < 1e-2, "conv1 moved \(moved) from the file in one step")
        #expect(runs[6].status == 1)
        let swiftDepth = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/wrong-depth-swift",
                                                       "--backbone-weights", dir.path + "/r34.safetensors", "--plain", "--no-report"])
        let depthMessage = try #require(Self.errorLine(runs[6].error), "\(runs[6].error)")
        #expect(depthMessage == "\(dir.path)/r34.safetensors: ResNet-34 weights, the pipeline wants ResNet-18 (backbone.depth)")
        #expect(depthMessage == Self.errorLine(swiftDepth.output), "mims-train: \(swiftDepth.output)")

        // bf16: recorded as the run's precision, and really in bf16: the first loss differs from the
        // fp32 one (measured 1.7e-3 relative) by about as much as mims-train's bf16 loss does
        // (measured 3.3e-3 between the engines in bf16, 1.9e-3 between mims-train's bf16 and fp32).
        // torch computes bf16 on any AVX-512 CPU, mims-train only with AVX512_BF16; on a CPU with
        // neither, mims_torch must refuse with its message.
        guard runs[4].status == 0 else {
            #expect(runs[4].error.contains("bf16 on CPU needs AVX512_BF16 or AMX") && !Engine.supportsBF16, "\(runs[4].error)")
            return
        }
        let half = try Checkpoint.read(dir.path + "/bf16/checkpoint.safetensors")
        #expect(half.metadata["precision"] == "bf16")
        let firstLoss = { (run: String) in try Self.metrics(dir.path + "/" + run).first { $0["type"] as? String == "train" }?["loss"] as? Double ?? .nan }
        let (fp32, bf16) = (try firstLoss("straight"), try firstLoss("bf16"))
        #expect(abs(bf16 - fp32) > 1e-4 * fp32, "bf16 loss \(bf16) equals the fp32 loss \(fp32): autocast did not apply")
        guard Engine.supportsBF16 else { return }
        let swiftHalf = try runProduct("mims-train", ["--shards", shards, "--pipeline", pipeline, "--out", dir.path + "/bf16-swift", "--init-from", initial,
                                                      "--iterations", "1", "--seed", "2", "--precision", "bf16", "--plain", "--no-report"])
        try #require(swiftHalf.status == 0, "mims-train --precision bf16 failed: \(swiftHalf.output)")
        let swiftBF16 = try firstLoss("bf16-swift")
        #expect(abs(bf16 - swiftBF16) <= 1e-2 * swiftBF16, "bf16 loss \(bf16) from mims_torch, \(swiftBF16) from mims-train")
    }
}
