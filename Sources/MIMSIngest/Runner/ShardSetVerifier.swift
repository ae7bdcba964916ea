import Foundation
import MIMSCore
import MIMSShards

/// Verifies an ingest output folder: every shard (schema, counts, frame table, pixel checksums),
/// and the set against `splits.json` and `rejected.jsonl`: every assigned id that was not rejected
/// is in exactly one shard, of its split, and nothing else is.
public enum ShardSetVerifier {
    public struct Result: Sendable {
        public var shards: [String]
        public var perSplit: [String: Int]
        public var perShard: [ShardVerification]
        public var problems: [String]
    }

    /// - Parameter known: verifications already done (e.g. in the background while ingesting),
    ///   by file name; the other shards are verified here, several at a time.
    public static func verify(directory: String, checkPixels: Bool = true, known: [String: ShardVerification] = [:]) throws -> Result {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { ShardSchema.parseFileName($0) != nil }.sorted()
        let missing = names.filter { known[$0] == nil }
        // HDF5 reads take one global lock, but hashing the pixels runs in parallel.
        let fresh = Parallel.map(missing.count) { ShardVerifier.verify(path: directory + "/" + missing[$0], checkPixels: checkPixels) }
        let checks = known.merging(zip(missing, fresh).map { ($0, $1) }) { a, _ in a }
        var problems: [String] = []
        var perShard: [ShardVerification] = []
        var perSplit: [String: Int] = [:]
        var location: [String: String] = [:]
        var splitOfShard: [String: String] = [:]
        for name in names {
            let path = directory + "/" + name
            let check = checks[name]!
            perShard.append(check)
            problems += check.problems.map { "\(name): \($0)" }
            guard check.isValid, let reader = try? ShardReader(path: path) else { continue }
            splitOfShard[name] = reader.header.split
            perSplit[reader.header.split, default: 0] += reader.recordCount
            for record in reader.records {
                if let other = location.updateValue(name, forKey: record.id) {
                    problems.append("record '\(record.id)' is in both \(other) and \(name)")
                }
            }
        }
        let splitsPath = directory + "/splits.json"
        if FileManager.default.fileExists(atPath: splitsPath) {
            let splits = try SplitsFile.read(from: splitsPath)
            let rejected = Set(readRejected(directory + "/rejected.jsonl"))
            for (id, split) in splits.assignment.sorted(by: { $0.key < $1.key }) {
                if let shard = location[id] {
                    if splitOfShard[shard] != split { problems.append("record '\(id)' is assigned to \(split) but sits in \(shard)") }
                    if rejected.contains(id) { problems.append("record '\(id)' is both rejected and in \(shard)") }
                } else if !rejected.contains(id) {
                    problems.append("record '\(id)' (\(split)) is in no shard and was not rejected")
                }
            }
            for id in location.keys.sorted() where splits.assignment[id] == nil {
                problems.append("record '\(id)' in \(location[id]!) is not in splits.json")
            }
        }
        return Result(shards: names, perSplit: perSplit, perShard: perShard, problems: problems)
    }

    /// Verifies shards on background threads as they are published, so verification overlaps
    /// the rest of the ingest instead of following it.
    public final class Background: @unchecked Sendable {
        private let group = DispatchGroup()
        private let queue = DispatchQueue(label: "mims.verify", attributes: .concurrent)
        private let lock = NSLock()
        private var results: [String: ShardVerification] = [:]

        public init() {}

        public func submit(_ summary: ShardSummary) {
            let path = summary.path, crcs = summary.pixelCRC32s
            queue.async(group: group) { [self] in
                let check = ShardVerifier.verify(path: path, expectedCRC32s: crcs)
                lock.lock()
                results[(path as NSString).lastPathComponent] = check
                lock.unlock()
            }
        }

        /// Waits for every submitted shard and returns the results by file name.
        public func finish() -> [String: ShardVerification] {
            group.wait()
            lock.lock()
            defer { lock.unlock() }
            return results
        }
    }

    static func readRejected(_ path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])?["id"] as? String
        }
    }
}
