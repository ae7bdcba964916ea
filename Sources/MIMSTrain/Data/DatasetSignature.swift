import Foundation
import MIMSCore
import MIMSShards
import MIMSSplit

/// What a model was trained on, as far as using it elsewhere depends on it: the kind of data
/// (image2d or volume3d), the channels of the stored frames, the class names (from the manifest
/// copy beside the shards) or else the class count, and the input size. Checkpoints carry it in
/// their metadata; `eval`, `predict`, `heatmap` and `--init-from` compare it with the shards given.
public struct DatasetSignature: Equatable, Sendable {
    /// The dataset's name in the shard header (cirrus, spectralis, crc-msi, ...).
    public var dataset: String
    public var kind: String
    public var channels: Int
    /// Empty when the shard folder has no manifest copy with labels.classes.
    public var classNames: [String]
    /// 0 for unlabelled shards (`labels: none`), which can be scored by any model of their kind.
    public var classCount: Int
    public var inputSize: [Int]
    /// How the frames were made from source files (nil where the shards did not record it), so
    /// that `predict --files` makes new files into the same frames.
    public var frameRecipe: FrameRecipe?

    public init(dataset: String, kind: String, channels: Int, classNames: [String], classCount: Int, inputSize: [Int],
                frameRecipe: FrameRecipe? = nil) {
        self.dataset = dataset
        self.kind = kind
        self.channels = channels
        self.classNames = classNames
        self.classCount = classCount
        self.inputSize = inputSize
        self.frameRecipe = frameRecipe
    }

    /// The signature of `dataset` as seen through `pipeline` (whose input size the model uses).
    public init(_ dataset: ShardDataset, pipeline: Pipeline) {
        let names = ShardSet(directory: dataset.folder).classNames()
        // The manifest's class list decides the classifier's outputs (a split may lack a class);
        // shards without one count up to their largest label.
        let count = dataset.isUnlabelled ? 0 : names.isEmpty ? max(2, (dataset.labels.max() ?? 1) + 1) : names.count
        self.init(dataset: dataset.dataset, kind: dataset.kind.rawValue, channels: dataset.frameShape.channels,
                  classNames: names, classCount: count, inputSize: pipeline.inputSize, frameRecipe: dataset.frameRecipe)
    }

    /// Read from checkpoint metadata; nil for checkpoints written before it was recorded.
    public init?(metadata: [String: String]) {
        guard let kind = metadata["dataset_kind"], let channels = metadata["channels"].flatMap({ Int($0) }) else { return nil }
        let names = metadata["class_names"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] } ?? []
        let size = metadata["input_size"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Int] } ?? []
        self.init(dataset: metadata["dataset"] ?? "", kind: kind, channels: channels, classNames: names,
                  classCount: metadata["class_count"].flatMap { Int($0) } ?? 2, inputSize: size,
                  frameRecipe: metadata["frame_recipe"].flatMap(FrameRecipe.init(json:)))
    }

    public var metadata: [String: String] {
        var fields = ["dataset": dataset, "dataset_kind": kind, "channels": String(channels), "class_count": String(classCount),
                      "class_names": JSONText.array(classNames), "input_size": "[\(inputSize.map(String.init).joined(separator: ", "))]"]
        if let frameRecipe { fields["frame_recipe"] = frameRecipe.json }
        return fields
    }

    /// Why a model with this signature cannot be used on data with signature `shards`, or nil
    /// when it can: the same kind, channels and class count, and the same class names when both
    /// sides know them.
    public func mismatch(with shards: DatasetSignature) -> String? {
        if kind != shards.kind { return "checkpoint was trained on \(kind) data, these shards are \(shards.kind)" }
        if channels != shards.channels {
            return "checkpoint was trained on \(channels)-channel frames, these shards have \(shards.channels)-channel frames"
        }
        // Unlabelled shards have no classes to disagree with.
        if shards.classCount == 0 { return nil }
        if classCount != shards.classCount { return "checkpoint was trained on \(classCount) classes, these shards have \(shards.classCount)" }
        if !classNames.isEmpty, !shards.classNames.isEmpty, classNames != shards.classNames {
            return "checkpoint was trained on classes \(classNames.joined(separator: ", ")), these shards have \(shards.classNames.joined(separator: ", "))"
        }
        return nil
    }
}
