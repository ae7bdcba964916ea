/// Errors of writing, reading and verifying shards, each naming the file or record concerned.
public enum ShardError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A record cannot be written as given.
    case invalidRecord(id: String, reason: String)
    /// The file is not a shard of a format version this code reads.
    case notAShard(path: String, reason: String)
    /// A file of the shard folder (splits.json) that cannot be read or parsed.
    case invalidSetFile(path: String, reason: String)
    /// A record index or frame index outside the shard.
    case outOfRange(path: String, what: String, index: Int, count: Int)
    /// A file-system call failed.
    case io(path: String, operation: String, reason: String)
    /// The writer was used after `finish()` or `abandon()`.
    case writerClosed(path: String)

    public var description: String {
        switch self {
        case let .invalidRecord(id, reason): "record '\(id)': \(reason)"
        case let .notAShard(path, reason): "\(path): not a mims shard: \(reason)"
        case let .invalidSetFile(path, reason): "\(path): \(reason)"
        case let .outOfRange(path, what, index, count): "\(path): \(what) \(index) is out of range (0..<\(count))"
        case let .io(path, operation, reason): "\(path): cannot \(operation): \(reason)"
        case let .writerClosed(path): "\(path): the shard writer is already closed"
        }
    }
}
