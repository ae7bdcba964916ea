import Foundation
import MIMSIngest
import MIMSShards
import MIMSModels
import MIMSTestSupport
import Testing
@testable import MIMSTensor
@testable import MIMSTrain

/// The trainer end to end on tiny synthetic shards: checkpoints, exact resume, evaluation.
struct TrainerTests {
    static func trainer(_ shards: String, run: String, resume: Bool = false, iterations: Int? = nil) throws -> Trainer {
        var options = Trainer.Options(shards: shards, run: run)
        options.seed = 11
        options.resume = resume
        options.iterations = iterations
        options.plainProgress = true
        let trainer = try Trainer(pipeline: try Pipeline.parse(TrainingFixtures.pipelineText, file: "tiny.yaml"), options: options)
        trainer.log = { _ in }
        return trainer
    }

    /// A run stopped after its iteration-3 checkpoint and resumed ends with the same weights,
    /// running statistics and optimizer state as an uninterrupted run, bit for bit.
    @Test func resumeIsExact() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try Self.trainer(shards, run: dir.path + "/straight").run()
        try Self.trainer(shards, run: dir.path + "/interrupted", iterations: 3).run()
        let partial = try Checkpoint.read(dir.path + "/interrupted/checkpoint.safetensors")
        #expect(partial.iteration == 3 && partial.metadata["state_file"] == "checkpoint.000003.state.safetensors")
        // A kill after the next state file was published but before its model: a newer state file
        // lies beside the iteration-3 model, and the resume must ignore it.
        try SafeTensorsWriter.write(["optimizer.first.head.fc.bias": Tensor(shape: [2], values: [9, 9])],
                                    metadata: ["step": "4", "iteration": "4"], to: dir.path + "/interrupted/checkpoint.000004.state.safetensors")
        try Self.trainer(shards, run: dir.path + "/interrupted", resume: true).run()

        let a = try Checkpoint.read(dir.path + "/straight/checkpoint.safetensors")
        let b = try Checkpoint.read(dir.path + "/interrupted/checkpoint.safetensors")
        #expect(a.iteration == 6 && b.iteration == 6)
        #expect(a.parameters.keys.sorted() == b.parameters.keys.sorted())
        for name in a.parameters.keys.sorted() { #expect(a.parameters[name] == b.parameters[name], "\(name)") }
        #expect(a.parameters["backbone.bn1.num_batches_tracked"]?.values == [6])
        let stateA = try SafeTensorsFile(path: dir.path + "/straight/checkpoint.000006.state.safetensors")
        let stateB = try SafeTensorsFile(path: try Checkpoint.statePath(of: dir.path + "/interrupted/checkpoint.safetensors", loaded: b))
        // Only the state file the model names is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/interrupted").filter { $0.hasSuffix(".state.safetensors") }
            == ["checkpoint.000006.state.safetensors"])
        #expect(stateA.metadata["step"] == "6" && stateB.metadata["step"] == "6")
        for name in stateA.entries.keys.sorted() { #expect(try stateA.tensor(name) == stateB.tensor(name)) }

        // The metrics log reads as one run: iterations 1...6 once each.
        let lines = try String(contentsOfFile: dir.path + "/interrupted/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let trainIterations = lines.filter { $0.contains("\"train\"") }.compactMap { line -> Int? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["iteration"] as? Int
        }
        #expect(trainIterations == Array(1...6))
    }

    /// The training loss of a run is reproducible from its seed, and the weights actually move.
    @Test func deterministicAndLearning() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let first = try Self.trainer(shards, run: dir.path + "/a")
        let before = first.store.tensors["head.fc.weight"]!
        try first.run()
        try Self.trainer(shards, run: dir.path + "/b").run()
        let log = { (run: String) in try String(contentsOfFile: dir.path + "/\(run)/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"train\"") }.map { $0.replacingOccurrences(of: #""seconds": [0-9.e-]+, "#, with: "", options: .regularExpression) } }
        #expect(try log("a") == log("b"))
        #expect(first.store.tensors["head.fc.weight"] != before)
        let evaluation = try #require(try RunOutputs.evaluateAndWrite(trainer: first, split: "test"))
        #expect(evaluation.scored.count == (try ShardDataset(folder: shards, split: "test")).records.count)
        #expect(evaluation.scored.allSatisfy { $0.score >= 0 && $0.score <= 1 })
        let csv = try String(contentsOfFile: dir.path + "/a/scores-test.csv", encoding: .utf8)
        #expect(csv.hasPrefix("id,patient,label,score\n") && csv.split(separator: "\n").count == evaluation.scored.count + 1)
    }

    /// Bad input is refused before training starts, naming the file.
    @Test func refusesBadInput() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: TrainingError.self) { try Self.trainer(dir.path + "/nothing", run: dir.path + "/run") }
        let shards = try TrainingFixtures.shards(dir)
        // A backbone file of the wrong depth.
        let wrong = ParameterStore()
        ResNetTrunk(.resnet34).initialize(wrong, seed: 1)
        try SafeTensorsWriter.write(wrong.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }, to: dir.path + "/r34.safetensors")
        var options = Trainer.Options(shards: shards, run: dir.path + "/run")
        options.backboneWeights = dir.path + "/r34.safetensors"
        do {
            _ = try Trainer(pipeline: try Pipeline.parse(TrainingFixtures.pipelineText, file: "tiny.yaml"), options: options)
            Issue.record("accepted a ResNet-34 file for a ResNet-18 trunk")
        } catch {
            #expect("\(error)".contains("r34.safetensors"), "\(error)")
        }
        // Patch classifiers need volumes.
        let source = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 6, seed: 1, small: true).write(to: source.path + "/src")
        _ = try IngestRunner(manifest: try ManifestParser.load(path: source.path + "/src/manifest.yaml"), output: source.path + "/shards",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
        let patch = try Pipeline.parse(TrainingFixtures.pipelineText.replacingOccurrences(of: "model: mims", with: "model: mims-patchcls"), file: "p.yaml")
        #expect(throws: TrainingError.self) { try Trainer(pipeline: patch, options: Trainer.Options(shards: source.path + "/shards", run: source.path + "/run")) }
    }
}
