import Foundation
import MIMSCore
import MIMSShards

/// Verifies an ingest output folder: every shard (schema, counts, frame table, record digests, pixel
/// checksums), and the set against `splits.json`, `rejected.jsonl` and the journal: every assigned
/// id that was not rejected is in exactly one shard, of its split, and nothing else is; records
/// plus rejections account for every matched file; the set digest is the one `splits.json` holds.
public enum ShardSetVerifier {
    public struct Result: Sendable {
        public var shards: [String]
        public var perSplit: [String: Int]
        public var perShard: [ShardVerification]
        public var problems: [String]
        /// What could not be checked (format-1 shards, sets made before accounting existed).
        public var notes: [String] = []
        /// Files matched, records in shards and rejections, when splits.json records the first.
        public var accounting: (matched: Int, records: Int, rejected: Int)? = nil
        /// ``RecordDigest/ofSet(_:)`` over every stored record; nil when one carries no digest.
        public var setDigest: String? = nil
    }

    /// - Parameter known: verifications already done (e.g. in the background while ingesting),
    ///   by file name; the other shards are verified here, several at a time.
    public static func verify(directory: String, checkPixels: Bool = true, known: [String: ShardVerification] = [:]) throws -> Result {
        let set = ShardSet(directory: directory)
        let names = try set.shardNames()
        let missing = names.filter { known[$0] == nil }
        // HDF5 reads take one global lock, but hashing the pixels runs in parallel.
        let fresh = Parallel.map(missing.count) { ShardVerifier.verify(path: directory + "/" + missing[$0], checkPixels: checkPixels) }
        let checks = known.merging(zip(missing, fresh).map { ($0, $1) }) { a, _ in a }
        var problems: [String] = []
        var perShard: [ShardVerification] = []
        var perSplit: [String: Int] = [:]
        var location: [String: ShardSet.Location] = [:]
        var digests: [String] = []
        var allDigested = true
        var notes: [String] = []
        for name in names {
            let path = set.path(of: name)
            let check = checks[name]!
            perShard.append(check)
            problems += check.problems.map { "\(name): \($0)" }
            notes += check.notes.map { "\(name): \($0)" }
            guard let reader = try? ShardReader(path: path) else {
                allDigested = false
                continue
            }
            for record in reader.records {
                if let digest = record.recordSHA256 { digests.append(digest) } else { allDigested = false }
            }
            // A shard with a damaged record still holds its other records: they are located as
            // usual, so one damaged record is one problem, not a cascade of "in no shard".
            perSplit[reader.header.split, default: 0] += reader.recordCount
            for record in reader.records {
                if let other = location.updateValue(ShardSet.Location(split: reader.header.split, shard: name), forKey: record.id) {
                    problems.append("record '\(record.id)' is in both \(other.shard) and \(name)")
                }
            }
        }
        var accounting: (Int, Int, Int)? = nil
        if let splits = try set.splits() {
            let rejections = set.rejections()
            let inShards = location.count
            if let matched = splits.filesMatched {
                accounting = (matched, inShards, rejections.count)
                if inShards + rejections.count != matched {
                    problems.append("\(matched) files were matched, but the shards hold \(inShards) records and rejected.jsonl lists \(rejections.count): \(matched - inShards - rejections.count) unaccounted for")
                }
                let journal = try IngestJournal.read(path: set.journalPath)
                if let journaled = journal.filesMatched, journaled != matched {
                    problems.append("the journal says \(journaled) files were matched, splits.json says \(matched)")
                }
                let journaledIDs = journal.writtenIDs
                if journal.done && journaledIDs.count != inShards {
                    problems.append("the journal lists \(journaledIDs.count) written records, the shards hold \(inShards)")
                }
            } else {
                notes.append("splits.json does not record how many files were matched (a re-split, or a set made before accounting existed)")
            }
            problems += ShardSet.digestProblems(splits: splits, recordDigests: allDigested ? digests : nil, flagUndigested: true, sealed: "the run")
            problems += ShardSet.assignmentProblems(splits: splits, stored: location, rejections: rejections)
        }
        return Result(shards: names, perSplit: perSplit, perShard: perShard, problems: problems, notes: notes, accounting: accounting,
                      setDigest: allDigested && !names.isEmpty ? RecordDigest.ofSet(digests) : nil)
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
}
