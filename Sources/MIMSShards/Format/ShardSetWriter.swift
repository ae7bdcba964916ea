/// Writes one split's records into consecutive shards `<split>-00000.h5`, `<split>-00001.h5`, …,
/// starting a new shard every `recordsPerShard` records, or into the shards the caller names
/// (``append(_:toShard:)``).
public final class ShardSetWriter {
    public let directory: String
    public let split: String
    public let recordsPerShard: Int
    private let makeHeader: (Int) -> ShardHeader
    private let frameShape: FrameShape
    private let deflateLevel: Int?
    private var current: ShardWriter?
    private var nextIndex = 0
    /// Shards finished so far.
    public private(set) var finished: [ShardSummary] = []
    /// Called after each shard is published under its final name (e.g. to journal it).
    public var onShardFinished: ((ShardSummary) throws -> Void)?

    /// - Parameter header: the header of shard `index`.
    public init(directory: String, split: String, frameShape: FrameShape, recordsPerShard: Int, deflateLevel: Int? = 4, firstIndex: Int = 0,
                header: @escaping (Int) -> ShardHeader) {
        self.directory = directory
        self.split = split
        self.frameShape = frameShape
        self.recordsPerShard = max(1, recordsPerShard)
        self.deflateLevel = deflateLevel
        self.makeHeader = header
        nextIndex = firstIndex
    }

    public func append(_ encoded: EncodedRecord) throws {
        if current == nil {
            current = try ShardWriter(directory: directory, header: makeHeader(nextIndex), frameShape: frameShape,
                                      deflateLevel: deflateLevel)
            nextIndex += 1
        }
        try current!.append(encoded)
        if current!.recordCount >= recordsPerShard { try closeCurrent() }
    }

    /// Appends to shard `index`, for records whose shard is planned by position rather than by
    /// how many records were written before them (the parts of a split ingest): a record for
    /// another shard than the open one finishes the open one first. A shard still closes when it
    /// holds `recordsPerShard` records.
    public func append(_ encoded: EncodedRecord, toShard index: Int) throws {
        if let open = current, open.header.shardIndex != index { try closeCurrent() }
        if current == nil { nextIndex = index }
        try append(encoded)
    }

    /// Finishes the last shard; returns every shard written.
    @discardableResult
    public func finish() throws -> [ShardSummary] {
        try closeCurrent()
        return finished
    }

    /// Deletes the shard in progress (finished shards stay).
    public func abandon() {
        current?.abandon()
        current = nil
    }

    private func closeCurrent() throws {
        guard let writer = current else { return }
        current = nil
        if let summary = try writer.finish() {
            finished.append(summary)
            try onShardFinished?(summary)
        }
    }
}
