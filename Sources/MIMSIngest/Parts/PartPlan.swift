import Foundation
import MIMSShards

/// How the records of a dataset are shared among the N parts of a split ingest.
///
/// Every part discovers the whole dataset and assigns splits over all records, so every part
/// builds this same plan from the same inputs, and nothing here depends on which part asks.
/// Records are taken in single-run order (train, val, test; id order within each) and cut into N
/// contiguous runs of about equal input bytes: a record belongs to the part whose byte interval
/// holds the middle of its bytes, so each part's share is within one record of total/N bytes.
/// Contiguous runs keep the merged set's records in single-run order (the order mims-train
/// indexes them in) and leave each part at most one short shard per split it touches.
public struct PartPlan: Sendable {
    public let parts: Int
    public let recordsPerShard: Int
    /// Every record, in single-run order.
    public let order: [SourceRecord]
    /// The split of each record of `order`.
    public let splits: [String]
    /// The input bytes of each record of `order`.
    public let bytes: [Int64]
    /// Part `p` owns positions `boundaries[p] ..< boundaries[p + 1]` of `order`.
    let boundaries: [Int]
    /// Per part, per split of ``ShardSchema/splits``, how many of its records the split holds.
    let counts: [[Int]]
    /// ``PartFile/datasetSHA256``: what discovery found, independent of N.
    public let datasetSHA256: String

    /// - Parameters:
    ///   - records: every record discovery found, with `assignment` giving each one's split.
    ///   - discoveryRejections, filesMatched: the rest of discovery's result, for the fingerprint.
    public init(records: [SourceRecord], assignment: [String: String], discoveryRejections: [Rejection], filesMatched: Int,
                recordsPerShard: Int, parts: Int) {
        self.parts = max(1, parts)
        self.recordsPerShard = max(1, recordsPerShard)
        let rank = Dictionary(uniqueKeysWithValues: ShardSchema.splits.enumerated().map { ($1, $0) })
        let sorted = records.sorted { (rank[assignment[$0.id] ?? ""] ?? 3, $0.id) < (rank[assignment[$1.id] ?? ""] ?? 3, $1.id) }
        let splitOf = sorted.map { assignment[$0.id] ?? "" }, bytes = sorted.map(Self.inputBytes)
        order = sorted
        splits = splitOf
        self.bytes = bytes
        // A zero-byte file still costs a read: weigh every record at least one byte, so that an
        // empty dataset's records are spread by count instead of all landing in part 0.
        let weights = bytes.map { max(1, $0) }
        let total = weights.reduce(0, +)
        let parts = self.parts
        var owner: [Int] = []
        owner.reserveCapacity(sorted.count)
        var before: Int64 = 0
        for weight in weights {
            // floor(N x midpoint / total), in integers so that every machine cuts alike.
            let middle = 2 * before + weight
            owner.append(min(parts - 1, Int((Int64(parts) * middle) / (2 * total))))
            before += weight
        }
        var boundaries = [0]
        for part in 0..<parts {
            var end = boundaries[part]
            while end < owner.count && owner[end] == part { end += 1 }
            boundaries.append(end)
        }
        self.boundaries = boundaries
        counts = (0..<parts).map { part in
            ShardSchema.splits.map { split in (boundaries[part]..<boundaries[part + 1]).filter { splitOf[$0] == split }.count }
        }
        var hasher = SHA256()
        for (position, record) in sorted.enumerated() {
            hasher.update(Array("\(record.relativePath)\t\(record.id)\t\(record.label)\t\(record.patient)\t\(splitOf[position])\t\(bytes[position])\n".utf8))
        }
        for rejection in discoveryRejections.sorted(by: { $0.id < $1.id }) {
            hasher.update(Array("rejected\t\(rejection.id)\t\(rejection.stage.rawValue)\n".utf8))
        }
        hasher.update(Array("matched\t\(filesMatched)\n".utf8))
        datasetSHA256 = hasher.finalizeHex()
    }

    /// The positions of `order` that `part` owns.
    public func range(of part: Int) -> Range<Int> { boundaries[part]..<boundaries[part + 1] }

    /// The records `part` decodes and writes, in single-run order.
    public func records(of part: Int) -> [SourceRecord] { Array(order[range(of: part)]) }

    /// The input bytes of `part`'s records.
    public func inputBytes(of part: Int) -> Int64 { bytes[range(of: part)].reduce(0, +) }

    /// The input bytes of every record.
    public var totalBytes: Int64 { bytes.reduce(0, +) }

    /// The index of the first shard `part` writes for `split`: after every shard the parts
    /// before it write for that split (ceil(records / records_per_shard) each), so no two parts'
    /// shard names collide, and these are also the merged set's indices.
    public func firstShardIndex(part: Int, split: String) -> Int {
        guard let column = ShardSchema.splits.firstIndex(of: split) else { return 0 }
        return (0..<part).reduce(0) { $0 + (counts[$1][column] + recordsPerShard - 1) / recordsPerShard }
    }

    /// The shard each of `part`'s records goes to, by position: the part's records of a split,
    /// in order, fill shards of `recordsPerShard` from ``firstShardIndex(part:split:)`` on, and a
    /// rejected record leaves its shard one short instead of pulling the next one in. So a part
    /// writes exactly its planned shards (unless every record of one is rejected), and a killed
    /// part resumes into the same ones.
    public func shardIndices(of part: Int) -> [String: Int] {
        var indices: [String: Int] = [:]
        var seen: [String: Int] = [:]
        for position in range(of: part) {
            let split = splits[position], count = seen[split, default: 0]
            indices[order[position].id] = firstShardIndex(part: part, split: split) + count / recordsPerShard
            seen[split] = count + 1
        }
        return indices
    }

    /// What `part.json` says of `part`.
    public func partFile(_ part: Int, manifest: Manifest, toolVersion: String, filesMatched: Int, discoveryRejections: Int) -> PartFile {
        let range = range(of: part)
        return PartFile(part: part, parts: parts, manifestSHA256: manifest.sha256, toolVersion: toolVersion, datasetSHA256: datasetSHA256,
                        sourceRoot: manifest.root, filesMatched: filesMatched, records: order.count, first: range.lowerBound,
                        end: range.upperBound, discoveryRejections: discoveryRejections, inputBytes: inputBytes(of: part),
                        ids: order[range].map(\.id))
    }

    /// The bytes a record's decoding reads: the file's size as discovery saw it, or for a slice
    /// folder the sizes of its visible files.
    static func inputBytes(_ record: SourceRecord) -> Int64 {
        if let identity = record.identity { return identity.size }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: record.path) else {
            return FileIdentity.of(record.path)?.size ?? 0
        }
        return names.filter { !$0.hasPrefix(".") }.reduce(0) { $0 + (FileIdentity.of(record.path + "/" + $1)?.size ?? 0) }
    }
}
