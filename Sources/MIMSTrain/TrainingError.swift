/// Why training or evaluation cannot start or go on, with the file and the reason.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case noShards(folder: String, split: String)
    case inconsistentShards(path: String, reason: String)
    case singleClass(folder: String, split: String, label: Int)
    case wrongKind(pipeline: String, reason: String)
    case checkpoint(path: String, reason: String)
    case runFolder(path: String, reason: String)
    /// `--resume` on a run started with other shards, another pipeline or other data.
    case resumeMismatch(run: String, reason: String)
    case crossValidation(folder: String, reason: String)
    case backboneWeights(path: String, reason: String)
    /// The shards fail `mims-split check`; each problem as that command words it.
    case splitProblems(folder: String, problems: [String])
    case incompatibleCheckpoint(path: String, shards: String, reason: String)
    case pipelineFile(path: String, reason: String)
    /// `--shards` names nothing, a file, or an unreadable folder.
    case shardsFolder(path: String, reason: String)
    /// The trunk-feature cache of a frozen-backbone run could not be made or read.
    case featureCache(path: String, reason: String)
    /// Unlabelled shards (`labels: none`) given to a command that needs labels.
    case unlabelled(folder: String, command: String)
    /// `backbone.weights: imagenet` without a weights file and without `--random-init`.
    case noBackboneWeights(pipeline: String, depth: Int)

    public var description: String {
        switch self {
        case let .noShards(folder, split): "\(folder): no \(split)-*.h5 shards (make them with mims-ingest run or mims-split make)"
        case let .inconsistentShards(path, reason): "\(path): \(reason)"
        case let .unlabelled(folder, command): "\(folder): the records are unlabelled (the manifest said labels: none), so there is nothing to \(command); score them with mims-train predict --split all, or ingest them with labels"
        case let .singleClass(folder, split, label): "\(folder): every \(split) record has label \(label); AUROC needs at least two classes"
        case let .wrongKind(pipeline, reason): "\(pipeline): \(reason)"
        case let .checkpoint(path, reason): "\(path): \(reason)"
        case let .runFolder(path, reason): "\(path): \(reason)"
        case let .resumeMismatch(run, reason): "\(run): cannot resume: \(reason); resume with the pipeline and shards the run started with, or start a new run in an empty --out folder"
        case let .crossValidation(folder, reason): "\(folder): cross-validation: \(reason)"
        case let .backboneWeights(path, reason): "\(path): \(reason)"
        case let .splitProblems(folder, problems):
            "\(folder): the shards fail mims-split check, so test results would not be trustworthy:\n"
                + problems.map { "  problem: \($0)" }.joined(separator: "\n")
                + "\nfix the split (mims-split make) or pass --allow-leakage to train on them anyway"
        case let .incompatibleCheckpoint(path, shards, reason): "\(path) on \(shards): \(reason)"
        case let .shardsFolder(path, reason): "\(path): \(reason)"
        case let .featureCache(path, reason): "\(path): trunk feature cache: \(reason)"
        case let .pipelineFile(path, reason): "\(path): \(reason)"
        case let .noBackboneWeights(pipeline, depth):
            "\(pipeline): the pipeline says backbone.weights: imagenet, but no --backbone-weights file was given; "
                + "get ImageNet ResNet-\(depth) weights as docs/WEIGHTS.md describes and pass --backbone-weights FILE.safetensors, "
                + "or pass --random-init to train from random weights on purpose"
        }
    }
}
