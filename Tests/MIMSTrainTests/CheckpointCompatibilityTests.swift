import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTensor
@testable import MIMSTrain

/// A checkpoint says what data it was trained on, and is not used on data of another kind.
struct CheckpointCompatibilityTests {
    /// The checkpoint records kind, channels, classes and input size and is refused for 2D shards
    /// (the eval and heatmap commands' refusal is in EndToEndTests/CheckpointKindCommandTests.swift);
    /// init-from moves across datasets of one kind with a line saying so, and not across kinds; old
    /// checkpoints pass with a note.
    @Test func checkpointsAreUsedOnlyOnDataOfTheirKind() throws {
        let dir = try TemporaryDirectory()
        let cirrus = try TrainingFixtures.shards(dir)
        let mmd = try TrainingFixtures.shards(.mmd, count: 8, dir)
        let spectralis = try TrainingFixtures.shards(.spectralis, count: 8, dir)
        try TrainerTests.trainer(cirrus, run: dir.path + "/cirrus", iterations: 1).run()
        let path = dir.path + "/cirrus/checkpoint.safetensors"
        let loaded = try Checkpoint.read(path)
        #expect(loaded.metadata["dataset_kind"] == "volume3d" && loaded.metadata["channels"] == "1")
        #expect(loaded.metadata["class_names"] == #"["normal","DME"]"# && loaded.metadata["input_size"] == "[40, 40]")

        let pipeline = try Pipeline.parse(TrainingFixtures.pipelineText, file: "tiny.yaml")
        let images = DatasetSignature(try ShardDataset(folder: mmd, split: "train"), pipeline: pipeline)
        #expect(throws: TrainingError.self) { try Checkpoint.checkCompatible(loaded, path: path, with: images, shards: mmd) }

        // Cirrus to Spectralis: both volumes of one channel, classes normal and DME.
        var options = Trainer.Options(shards: spectralis, run: dir.path + "/run-spectralis")
        options.initFrom = path
        let finetune = try Trainer(pipeline: pipeline, options: options)
        #expect(finetune.notes.contains { $0.contains("trained on cirrus-synthetic, used on spectralis-synthetic") }, "\(finetune.notes)")
        #expect(finetune.provenance["init_from_sha256"]?.count == 64)
        var across = Trainer.Options(shards: mmd, run: dir.path + "/run-mmd")
        across.initFrom = path
        across.allowLeakage = true  // only the kind is under test here
        do {
            _ = try Trainer(pipeline: pipeline, options: across)
            Issue.record("fine-tuned a volume model on 2D images")
        } catch {
            #expect("\(error)".contains("checkpoint was trained on volume3d data, these shards are image2d"), "\(error)")
        }

        // A checkpoint from before the signature was recorded.
        let old = ParameterStore()
        old.tensors = loaded.parameters
        try Checkpoint.write(store: old, optimizer: nil, pipeline: pipeline, iteration: 1, seed: 1, to: dir.path + "/old.safetensors")
        let note = try Checkpoint.checkCompatible(try Checkpoint.read(dir.path + "/old.safetensors"), path: dir.path + "/old.safetensors",
                                                  with: images, shards: mmd)
        #expect(note?.contains("older mims-train") == true, "\(note ?? "nil")")
    }
}
