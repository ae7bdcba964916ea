/// Why training or evaluation cannot start or go on, with the file and the reason.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case noShards(folder: String, split: String)
    case inconsistentShards(path: String, reason: String)
    case singleClass(folder: String, split: String, label: Int)
    case wrongKind(pipeline: String, reason: String)
    case checkpoint(path: String, reason: String)
    case runFolder(path: String, reason: String)

    public var description: String {
        switch self {
        case let .noShards(folder, split): "\(folder): no \(split)-*.h5 shards (make them with mims-ingest run or mims-split make)"
        case let .inconsistentShards(path, reason): "\(path): \(reason)"
        case let .singleClass(folder, split, label): "\(folder): every \(split) record has label \(label); AUROC needs both classes"
        case let .wrongKind(pipeline, reason): "\(pipeline): \(reason)"
        case let .checkpoint(path, reason): "\(path): \(reason)"
        case let .runFolder(path, reason): "\(path): \(reason)"
        }
    }
}
