import Foundation
import MIMSIngest

/// Shards and the tiny pipeline that both the in-process trainer tests (MIMSTrainTests) and the
/// command-line tests (EndToEndTests) train on, so that the two see the same data.
public enum TrainingFixtures {
    public static let pipelineText = """
    name: tiny
    model: mims
    backbone: {depth: 18, feature_layer: layer2}
    input_size: [40, 40]
    msconv: {kernels: [[2, 3], [3, 4]], scales: [0.5, 0.75, 1.0]}
    optimizer: {kind: sgd, learning_rate: 0.01, momentum: 0.9, weight_decay: 0.0001}
    training: {iterations: 6, batch: 2, slices: [3, 5], central_slices: 6, eval_every: 3, checkpoint_every: 3, eval_split: test}
    """

    public static func shards(_ dir: TemporaryDirectory) throws -> String {
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 8, seed: 5, small: true).write(to: dir.path + "/src")
        let manifest = try ManifestParser.load(path: dir.path + "/src/manifest.yaml")
        _ = try IngestRunner(manifest: manifest, output: dir.path + "/shards", options: .init(jobs: 2, toolVersion: "test"),
                             reporter: ProgressReporter(format: .quiet)).run()
        return dir.path + "/shards"
    }

    public static func shards(_ dataset: SyntheticDataset, count: Int, _ dir: TemporaryDirectory) throws -> String {
        _ = try SyntheticDatasetWriter(dataset: dataset, count: count, seed: 5, small: true).write(to: dir.path + "/src-\(dataset)")
        _ = try IngestRunner(manifest: try ManifestParser.load(path: dir.path + "/src-\(dataset)/manifest.yaml"), output: dir.path + "/\(dataset)",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
        return dir.path + "/\(dataset)"
    }

    /// CRC-MSI tiles ingested with one train image copied into test and one train patient's tile
    /// moved there: shards with a duplicate image and a patient across train and test.
    public static func writeLeakingShards(_ dir: TemporaryDirectory, to output: String) throws {
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 48, seed: 3).write(to: source)
        var manifest = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        manifest = manifest.replacingOccurrences(of: "policy: official-move\n  move_fraction: 0.02", with: "policy: official")
        try manifest.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
        let train = source + "/CRC_DX_TRAIN_MSS", test = source + "/CRC_DX_TEST_MSS"
        let trainFiles = try FileManager.default.contentsOfDirectory(atPath: train).sorted()
        try FileManager.default.copyItem(atPath: train + "/" + trainFiles[0], toPath: test + "/blk-DUPLICATEXXX-TCGA-ZZ-9999-01Z-00-DX1.png")
        try FileManager.default.moveItem(atPath: train + "/" + trainFiles[1], toPath: test + "/" + trainFiles[1].replacingOccurrences(of: "blk-", with: "blk-Z"))
        _ = try IngestRunner(manifest: try ManifestParser.load(path: source + "/manifest.yaml"), output: output,
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
    }
}
