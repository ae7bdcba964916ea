import Foundation
import MIMSCore
import MIMSShards

/// Re-splits existing shards under another policy or seed by copying stored chunks from shard to
/// shard: no source file is read and no frame is decoded or recompressed.
public enum Resplitter {
    /// What a re-split wrote: records per split and the new shard files' names.
    public struct Result: Sendable {
        public var perSplit: [String: Int]
        public var shards: [String]
    }

    /// Re-splits the shard folder `source` into the new or empty folder `output`.
    /// - Parameter policy: any policy but those that read the source's official split, which the
    ///   shards do not keep (``SplitPolicy/needsOfficialSplit``).
    public static func run(from source: String, to output: String, policy: SplitPolicy, seed: UInt64, recordsPerShard: Int? = nil,
                           toolVersion: String) throws -> Result {
        guard !policy.needsOfficialSplit else { throw SplitReportError.policyNeedsSource(policy: policy.summary) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue else {
            throw SplitReportError.notAFolder(path: source)
        }
        let names = try ShardSet(directory: source).shardNames()
        guard !names.isEmpty else { throw SplitReportError.noShards(directory: source) }
        let existed = FileManager.default.fileExists(atPath: output, isDirectory: &isFolder)
        if existed {
            guard isFolder.boolValue else { throw SplitReportError.notAFolder(path: output) }
            if !(try FileManager.default.contentsOfDirectory(atPath: output)).isEmpty { throw SplitReportError.outputNotEmpty(path: output) }
        }
        try FileDurability.makeDirectory(output)
        do {
            return try copy(from: source, names: names, to: output, policy: policy, seed: seed, recordsPerShard: recordsPerShard, toolVersion: toolVersion)
        } catch {
            // The folder was new or empty: everything in it is this run's, and half a re-split is no use.
            if existed {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [] { FileDurability.remove(output + "/" + name) }
            } else {
                try? FileManager.default.removeItem(atPath: output)
            }
            throw error
        }
    }

    static func copy(from source: String, names: [String], to output: String, policy: SplitPolicy, seed: UInt64, recordsPerShard: Int?,
                     toolVersion: String) throws -> Result {
        let readers = try names.map { try ShardReader(path: source + "/" + $0) }
        var location: [String: (reader: Int, record: Int)] = [:]
        var records: [SplitRecord] = []
        for (r, reader) in readers.enumerated() {
            for (i, record) in reader.records.enumerated() {
                location[record.id] = (r, i)
                records.append(SplitRecord(id: record.id, patient: record.patient, label: record.label))
            }
        }
        // Sorted by id: the order the new shards are written in.
        records.sort { $0.id < $1.id }
        let assignment = SplitAssigner.assign(records, policy: policy, seed: seed).assignment
        let first = readers[0]
        let perShard = recordsPerShard ?? max(1, readers.map(\.recordCount).max() ?? 1000)
        var shards: [String] = []
        var perSplit: [String: Int] = [:]
        let created = UTCTimestamp.now()
        for split in ShardSchema.splits {
            let members = records.filter { assignment[$0.id] == split }
            if members.isEmpty { continue }
            let writer = ShardSetWriter(directory: output, split: split, frameShape: first.frameShape, recordsPerShard: perShard,
                                        deflateLevel: first.hasDeflate ? 4 : nil) { index in
                ShardHeader(dataset: first.header.dataset, kind: first.header.kind, split: split, shardIndex: index, createdUTC: created,
                            toolVersion: toolVersion, manifestSHA256: first.header.manifestSHA256, frameRecipe: first.header.frameRecipe)
            }
            do {
                for record in members {
                    let (r, i) = location[record.id]!
                    guard readers[r].frameShape == first.frameShape, readers[r].hasDeflate == first.hasDeflate else {
                        throw ShardError.invalidRecord(id: record.id, reason: "its shard's frame shape or filters differ from the others")
                    }
                    try writer.append(readers[r].storedRecord(i))
                }
                shards += try writer.finish().map { ($0.path as NSString).lastPathComponent }
            } catch {
                writer.abandon()
                throw error
            }
            perSplit[split] = members.count
        }
        var splits = SplitsFile(policy: policy.summary + " (re-split of \(source))", seed: seed, assignment: assignment)
        let copy = ShardSet(directory: output)
        splits.setDigest = try copy.setDigest()
        try splits.write(to: copy.splitsPath)
        if let manifest = ShardSet(directory: source).manifestText() { try AtomicFile.write(Data(manifest.utf8), to: copy.manifestPath) }
        return Result(perSplit: perSplit, shards: shards)
    }
}
