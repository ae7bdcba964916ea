/// Errors that stop an ingest run (a file that cannot be read is a rejection instead).
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case noFilesMatched(root: String, include: [String])
    /// Every matched file was rejected; rejected.jsonl in `output` says why, file by file.
    case allRejected(count: Int, output: String, reasons: [String])
    case outputNotAFolder(path: String)
    case outputUnusable(path: String, reason: String)
    case sourceMissing(root: String)
    case labelFile(path: String, reason: String)
    case outputNotEmpty(path: String)
    case resumeMismatch(path: String, reason: String)
    case journal(path: String, reason: String)
    /// `--part` that is not I/N with 0 <= I < N.
    case invalidPart(text: String, reason: String)

    public var description: String {
        switch self {
        case let .noFilesMatched(root, include):
            "\(root): no files match source.include (\(include.joined(separator: ", "))); check the patterns and the source root"
        case let .allRejected(count, output, reasons):
            "all \(count) matched files were rejected (each with its reason in \(output)/rejected.jsonl); most common reasons:\n"
                + reasons.map { "  " + $0 }.joined(separator: "\n")
        case let .outputNotAFolder(path): "\(path): output path is a file, not a folder; choose a folder"
        case let .outputUnusable(path, reason): "\(path): cannot use as output folder: \(reason)"
        case let .sourceMissing(root): "\(root): source root is not a folder"
        case let .labelFile(path, reason): "\(path): cannot use as label table: \(reason)"
        case let .outputNotEmpty(path): "\(path): output folder is not empty; use --resume to finish an interrupted run, or choose an empty folder"
        case let .resumeMismatch(path, reason): "\(path): cannot resume: \(reason)"
        case let .journal(path, reason): "\(path): unreadable journal: \(reason)"
        case let .invalidPart(text, reason): "--part \(text): \(reason)"
        }
    }
}
