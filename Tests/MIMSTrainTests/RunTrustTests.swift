import Foundation
import MIMSIngest
import MIMSModels
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTensor
@testable import MIMSTrain

/// A run is what it says it is: it does not overwrite another run, does not continue with other
/// shards or another pipeline, does not quietly train from random weights, and does not train on
/// shards that leak patients across splits.
struct RunTrustTests {
    static func options(_ shards: String, run: String, resume: Bool = false, iterations: Int? = nil) -> Trainer.Options {
        var options = Trainer.Options(shards: shards, run: run)
        options.seed = 11
        options.resume = resume
        options.iterations = iterations
        options.plainProgress = true
        return options
    }

    static func trainer(_ options: Trainer.Options, text: String = TrainingFixtures.pipelineText) throws -> Trainer {
        let trainer = try Trainer(pipeline: try Pipeline.parse(text, file: "tiny.yaml"), options: options)
        trainer.log = { _ in }
        return trainer
    }

    static func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A folder that already holds files is refused without --resume, naming it and the way out;
    /// a file given as --out is refused too; --resume or an empty folder are accepted.
    @Test func nonEmptyRunFolderIsRefused() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let run = dir.path + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: run + "/notes.txt"))
        let refused = try #require(Self.message { _ = try Self.trainer(Self.options(shards, run: run)) })
        #expect(refused.contains(run) && refused.contains("--resume") && refused.contains("empty folder") && refused.contains("notes.txt"), "\(refused)")
        #expect(FileManager.default.contents(atPath: run + "/notes.txt") == Data("mine".utf8))
        _ = try Self.trainer(Self.options(shards, run: run, resume: true))

        try Data().write(to: URL(fileURLWithPath: dir.path + "/file"))
        let file = try #require(Self.message { _ = try Self.trainer(Self.options(shards, run: dir.path + "/file")) })
        #expect(file.contains("is a file"), "\(file)")
        _ = try Self.trainer(Self.options(shards, run: dir.path + "/empty"))
    }

    /// The run records the pipeline's SHA-256 and the shard set; --resume with a changed learning
    /// rate names the key, a comment-only change still counts, and other shards are named.
    @Test func resumeRefusesAnotherPipelineOrOtherShards() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let run = dir.path + "/run"
        try Self.trainer(Self.options(shards, run: run, iterations: 3)).run()

        let pipeline = try Pipeline.parse(TrainingFixtures.pipelineText, file: "tiny.yaml")
        let record = try #require(try RunRecord.read(folder: run))
        #expect(record.fields["pipeline_sha256"] == pipeline.sha256 && pipeline.sha256.count == 64)
        #expect(record.fields["shard_set"] == ShardSetIdentity.of(folder: shards))
        let checkpoint = try Checkpoint.read(run + "/checkpoint.safetensors")
        #expect(checkpoint.metadata["pipeline_sha256"] == pipeline.sha256)
        #expect(checkpoint.metadata["shard_set"] == ShardSetIdentity.of(folder: shards))

        let faster = TrainingFixtures.pipelineText.replacingOccurrences(of: "learning_rate: 0.01", with: "learning_rate: 0.5")
        let changed = try #require(Self.message { _ = try Self.trainer(Self.options(shards, run: run, resume: true), text: faster) })
        #expect(changed.contains("the pipeline changed since the run started: optimizer.learning_rate 0.01 -> 0.5"), "\(changed)")
        let commented = try #require(Self.message { _ = try Self.trainer(Self.options(shards, run: run, resume: true), text: TrainingFixtures.pipelineText + "\n# a note\n") })
        #expect(commented.contains("pipeline file content differs"), "\(commented)")

        // Other shards: another synthetic draw of the same dataset.
        let other = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 8, seed: 6, small: true).write(to: other.path + "/src")
        _ = try IngestRunner(manifest: try ManifestParser.load(path: other.path + "/src/manifest.yaml"), output: other.path + "/shards",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
        let moved = try #require(Self.message { _ = try Self.trainer(Self.options(other.path + "/shards", run: run, resume: true)) })
        #expect(moved.contains("the shards differ") && moved.contains(other.path + "/shards"), "\(moved)")

        // The same pipeline and shards carry on.
        try Self.trainer(Self.options(shards, run: run, resume: true)).run()
        #expect(try Checkpoint.read(run + "/checkpoint.safetensors").iteration == 6)
    }

    /// splits.json's set_digest is the shard set's identity when present; else its bytes' SHA-256.
    @Test func shardSetIdentityPrefersTheSetDigest() throws {
        let dir = try TemporaryDirectory()
        try Data(#"{"policy": "ratio", "set_digest": "abc123", "splits": {}}"#.utf8).write(to: URL(fileURLWithPath: dir.path + "/splits.json"))
        #expect(ShardSetIdentity.of(folder: dir.path) == "set_digest:abc123")
        let bytes = Data(#"{"policy": "ratio", "splits": {"a": "train"}}"#.utf8)
        try bytes.write(to: URL(fileURLWithPath: dir.path + "/splits.json"))
        var hasher = SHA256()
        hasher.update([UInt8](bytes))
        #expect(ShardSetIdentity.of(folder: dir.path) == "splits.json:" + hasher.finalizeHex())
    }

    /// `weights: imagenet` without a weights file is an error that says where weights come from,
    /// unless --random-init says random weights are meant.
    @Test func imagenetPipelineNeedsWeightsOrRandomInit() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let text = TrainingFixtures.pipelineText.replacingOccurrences(of: "feature_layer: layer2}", with: "feature_layer: layer2, weights: imagenet}")
        let refused = try #require(Self.message { _ = try Self.trainer(Self.options(shards, run: dir.path + "/a"), text: text) })
        #expect(refused.contains("docs/WEIGHTS.md") && refused.contains("--backbone-weights") && refused.contains("--random-init"), "\(refused)")
        var options = Self.options(shards, run: dir.path + "/b")
        options.randomInit = true
        let trainer = try Self.trainer(options, text: text)
        #expect(trainer.provenance["backbone_weights"] == "random initialization")
    }

    /// Weights files are named for what they are: another depth, or a PyTorch pickle.
    @Test func backboneWeightsOfAnotherDepthOrFormatAreNamed() throws {
        let dir = try TemporaryDirectory()
        let wrong = ParameterStore()
        ResNetTrunk(.resnet50).initialize(wrong, seed: 1)
        try SafeTensorsWriter.write(wrong.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }, to: dir.path + "/r50.safetensors")
        let depth = try #require(Self.message { _ = try BackboneWeights.open(dir.path + "/r50.safetensors", depth: .resnet34) })
        #expect(depth.contains("ResNet-50 weights, the pipeline wants ResNet-34"), "\(depth)")
        #expect(BackboneWeights.inferredDepth(Array(wrong.tensors.keys)) == 50)

        // torch.save's zip container, whatever the extension.
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: dir.path + "/resnet.pth"))
        let pickle = try #require(Self.message { _ = try BackboneWeights.open(dir.path + "/resnet.pth", depth: .resnet18) })
        #expect(pickle.contains("PyTorch pickle") && pickle.contains("scripts/convert_resnet_weights.py") && pickle.contains("docs/WEIGHTS.md"), "\(pickle)")
    }

    /// Shards that `mims-split check` fails (a duplicate image and a patient across train and
    /// test) are refused with that check's problems, unless --allow-leakage.
    @Test func leakingShardsAreRefused() throws {
        let dir = try TemporaryDirectory()
        try TrainingFixtures.writeLeakingShards(dir, to: dir.path + "/shards")

        let refused = try #require(Self.message { _ = try Self.trainer(Self.options(dir.path + "/shards", run: dir.path + "/run")) })
        #expect(refused.contains("mims-split check") && refused.contains("--allow-leakage"), "\(refused)")
        #expect(refused.contains("patient overlap between train and test") && refused.contains("duplicate image across splits"), "\(refused)")
        var options = Self.options(dir.path + "/shards", run: dir.path + "/allowed")
        options.allowLeakage = true
        _ = try Self.trainer(options)
    }

    /// The checkpoint and the report carry what the run was after command-line overrides: the
    /// effective iterations, tool version, weights file and its SHA-256, pipeline hash and shard
    /// set; run.json adds the command line and the date.
    @Test func provenanceIsRecorded() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let weights = ParameterStore()
        ResNetTrunk(.resnet18).initialize(weights, seed: 3)
        try SafeTensorsWriter.write(weights.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }, to: dir.path + "/r18.safetensors")
        var options = Self.options(shards, run: dir.path + "/run", iterations: 2)
        options.backboneWeights = dir.path + "/r18.safetensors"
        options.commandLine = ["mims-train", "--shards", shards, "--iterations", "2", "--out", dir.path + "/run"]
        options.toolVersion = "9.9.9"
        let trainer = try Self.trainer(options)
        let test = try trainer.run()

        var hasher = SHA256()
        hasher.update([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + "/r18.safetensors"))))
        let weightsSHA = hasher.finalizeHex()
        let metadata = try Checkpoint.read(dir.path + "/run/checkpoint.safetensors").metadata
        #expect(metadata["iterations"] == "2" && metadata["tool_version"] == "9.9.9")
        #expect(metadata["backbone_weights"] == "r18.safetensors" && metadata["backbone_weights_sha256"] == weightsSHA)
        #expect(metadata["shard_set"] == ShardSetIdentity.of(folder: shards))
        let record = try #require(try RunRecord.read(folder: dir.path + "/run"))
        #expect(record.fields["command"] == "mims-train --shards \(shards) --iterations 2 --out \(dir.path)/run")
        #expect(record.fields["started"]?.hasPrefix("20") == true && record.fields["pipeline"] == TrainingFixtures.pipelineText)

        var report = RunReport(folder: dir.path + "/run", pipeline: trainer.pipeline, shards: shards,
                               runs: [.init(name: "tiny", folder: dir.path + "/run", test: test)], network: trainer.network, store: trainer.store)
        report.provenance = record.fields
        report.galleryPerCategory = 0
        try report.write()
        let md = try String(contentsOfFile: dir.path + "/run/report.md", encoding: .utf8)
        for line in ["| iterations (effective) | 2 |", "| tool version | 9.9.9 |", "| backbone weights | r18.safetensors (SHA-256 `\(weightsSHA)`) |",
                     "| shard set | `\(ShardSetIdentity.of(folder: shards))` |", "| command | `mims-train --shards"] {
            #expect(md.contains(line), "\(line)")
        }
    }
}
