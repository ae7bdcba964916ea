import Foundation
import MIMSTestSupport
import Testing

/// `mims-train eval` and `heatmap` use a checkpoint only on data of its kind. The checkpoint's
/// recorded kind and the in-process checks are in MIMSTrainTests/CheckpointCompatibilityTests.swift.
struct CheckpointKindCommandTests {
    /// eval and heatmap refuse 2D shards for a volume model, naming both.
    @Test func evalAndHeatmapRefuseShardsOfAnotherKind() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        let cirrus = try TrainingFixtures.shards(dir)
        let mmd = try TrainingFixtures.shards(.mmd, count: 8, dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let train = try runProduct("mims-train", ["--shards", cirrus, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/cirrus",
                                                  "--iterations", "1", "--plain", "--no-report"])
        try #require(train.status == 0, "train: \(train.output)")
        let path = dir.path + "/cirrus/checkpoint.safetensors"
        for command in [["eval"], ["heatmap", "--out", dir.path + "/maps"]] {
            let (status, output) = try runProduct("mims-train", command + ["--shards", mmd, "--checkpoint", path, "--split", "train"])
            #expect(status != 0, "\(command)")
            #expect(output.contains("checkpoint was trained on volume3d data, these shards are image2d"), "\(command): \(output)")
            #expect(!output.contains("AUROC"), "\(output)")
        }
    }
}
