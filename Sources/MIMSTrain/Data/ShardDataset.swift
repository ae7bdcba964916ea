import Foundation
import MIMSShards

/// The records of one split of a shard folder (`DIR/<split>-NNNNN.h5`), readable by index.
public final class ShardDataset: @unchecked Sendable {
    public struct Record: Sendable {
        public var shard: Int
        public var index: Int
        public var info: ShardRecordInfo
    }

    public let folder: String
    public let split: String
    public let kind: DatasetKind
    public let dataset: String
    public let frameShape: FrameShape
    /// How ingest made the frames from the source files; nil for shards written before it was
    /// recorded.
    public let frameRecipe: FrameRecipe?
    public let records: [Record]
    private let readers: [ShardReader]
    private let lock = NSLock()

    public convenience init(folder: String, split: String) throws {
        try self.init(folder: folder, splits: [split], name: split) { _ in true }
    }

    /// The records of `splits` that `keep` accepts, under the name `name` (cross-validation folds
    /// are subsets of the whole set).
    public init(folder: String, splits: [String], name: String, keep: (ShardRecordInfo) -> Bool) throws {
        self.folder = folder
        self.split = name
        try Self.checkFolder(folder)
        let set = ShardSet(directory: folder)
        let names = splits.flatMap { (try? set.shardNames(split: $0)) ?? [] }
        guard !names.isEmpty else { throw TrainingError.noShards(folder: folder, split: splits.joined(separator: ", ")) }
        readers = try names.map { try ShardReader(path: set.path(of: $0)) }
        let first = readers[0]
        for reader in readers.dropFirst() where reader.header.kind != first.header.kind || reader.frameShape != first.frameShape {
            throw TrainingError.inconsistentShards(path: reader.path, reason: "kind \(reader.header.kind.rawValue), frames \(reader.frameShape) differ from \(first.path)")
        }
        kind = first.header.kind
        dataset = first.header.dataset
        frameShape = first.frameShape
        frameRecipe = first.header.frameRecipe
        records = readers.enumerated().flatMap { shard, reader in
            reader.records.enumerated().filter { keep($0.element) }.map { Record(shard: shard, index: $0.offset, info: $0.element) }
        }
        guard !records.isEmpty else { throw TrainingError.noShards(folder: folder, split: name) }
    }

    /// `count` frames of record `index` starting at its frame `first`.
    public func frames(ofRecord index: Int, first: Int, count: Int) throws -> [UInt8] {
        let record = records[index]
        lock.lock()
        defer { lock.unlock() }
        return try readers[record.shard].frames(start: record.info.frameStart + first, count: count)
    }

    /// `--shards` must name an existing folder; a shard file given instead is the usual slip.
    public static func checkFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw TrainingError.shardsFolder(path: folder, reason: "no such folder (--shards wants the folder mims-ingest run wrote, holding train-*.h5)")
        }
        guard isFolder.boolValue else {
            let hint = folder.hasSuffix(".h5") ? "a shard file; --shards wants the folder holding it" : "a file; --shards wants a folder"
            throw TrainingError.shardsFolder(path: folder, reason: "is \(hint) (the one mims-ingest run wrote, with train-*.h5, splits.json)")
        }
        guard FileManager.default.isReadableFile(atPath: folder) else {
            throw TrainingError.shardsFolder(path: folder, reason: "cannot read this folder (permissions)")
        }
    }

    public var labels: [Int] { records.map { Int($0.info.label) } }

    /// Whether every record is unlabelled (a `labels: none` set: data to score, not to train on).
    public var isUnlabelled: Bool { records.allSatisfy { $0.info.label == ShardSchema.unlabelled } }

    /// Whether `folder` is an unlabelled shard set: a test split and nothing but unlabelled records.
    public static func isUnlabelledSet(_ folder: String) -> Bool {
        let set = ShardSet(directory: folder)
        guard ((try? set.shardNames(split: "train")) ?? []).isEmpty, ((try? set.shardNames(split: "val")) ?? []).isEmpty else { return false }
        return (try? ShardDataset(folder: folder, split: "test"))?.isUnlabelled ?? false
    }
}
