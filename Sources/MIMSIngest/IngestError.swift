/// Errors that stop an ingest run (a file that cannot be read is a rejection instead).
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case noRecords(root: String)
    case sourceMissing(root: String)
    case labelFile(path: String, reason: String)
    case outputNotEmpty(path: String)
    case resumeMismatch(path: String, reason: String)
    case journal(path: String, reason: String)

    public var description: String {
        switch self {
        case let .noRecords(root): "\(root): no records found (check source.include and the labels)"
        case let .sourceMissing(root): "\(root): source root is not a folder"
        case let .labelFile(path, reason): "\(path): cannot use as label table: \(reason)"
        case let .outputNotEmpty(path): "\(path): output folder is not empty; use --resume to finish an interrupted run, or choose an empty folder"
        case let .resumeMismatch(path, reason): "\(path): cannot resume: \(reason)"
        case let .journal(path, reason): "\(path): unreadable journal: \(reason)"
        }
    }
}
