/// Why a split report or a re-split could not be made.
public enum SplitReportError: Error, CustomStringConvertible, Equatable {
    case noShards(directory: String)
    case unreadable(path: String)
    case notAFolder(path: String)
    case outputNotEmpty(path: String)
    /// A re-split under a policy that reads the source's official split, which shards do not keep.
    case policyNeedsSource(policy: String)

    public var description: String {
        switch self {
        case let .noShards(directory): "\(directory): no shards (<split>-<index:05d>.h5) found"
        case let .unreadable(path): "\(path): cannot read"
        case let .outputNotEmpty(path): "\(path): output folder is not empty; choose a new or empty folder"
        case let .notAFolder(path): "\(path): not a shard folder (give the folder mims-ingest run wrote)"
        case let .policyNeedsSource(policy): "split policy '\(policy)' reads the source's official split, which shards do not keep; ingest again with it instead"
        }
    }
}
