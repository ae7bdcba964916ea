import Foundation

/// A shard folder as one value: the shards, `splits.json`, `rejected.jsonl`, `warnings.jsonl`,
/// the ingest journal and the manifest copy beside them, and `part.json` in the folder of one
/// part of a split ingest. Every name of the folder's files is
/// spelled here and nowhere else; the ingest runner, the verifier, the split report, the
/// re-splitter and the training dataset all go through it.
public struct ShardSet: Sendable {
    public static let splitsName = "splits.json"
    public static let rejectedName = "rejected.jsonl"
    public static let warningsName = "warnings.jsonl"
    public static let journalName = "ingest.journal"
    public static let manifestName = "manifest.yaml"
    public static let partName = "part.json"

    /// A finished shard's name ends so.
    public static let shardSuffix = ".h5"
    /// A shard being written is its final name with this added; renamed away when it is sealed.
    public static let unfinishedSuffix = ".part"

    /// `<split>-<index:05d>.h5`
    public static func shardName(split: String, index: Int) -> String {
        let digits = String(index)
        return split + "-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + shardSuffix
    }

    /// Parses a shard file name back into its split and index, or nil when it is not one.
    public static func parseShardName(_ name: String) -> (split: String, index: Int)? {
        guard name.hasSuffix(shardSuffix), let dash = name.lastIndex(of: "-") else { return nil }
        let split = String(name[..<dash])
        let digits = name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -shardSuffix.count)]
        guard ShardSchema.splits.contains(split), digits.count >= 5, let index = Int(digits) else { return nil }
        return (split, index)
    }

    /// The name (or path) a shard has while it is written: `<split>-<index:05d>.h5.part`.
    public static func unfinishedName(of shard: String) -> String { shard + unfinishedSuffix }

    /// Whether `name` is a shard left unfinished by a killed run (`*.h5.part`).
    public static func isUnfinishedShard(_ name: String) -> Bool { name.hasSuffix(shardSuffix + unfinishedSuffix) }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var splitsPath: String { directory + "/" + Self.splitsName }
    public var rejectedPath: String { directory + "/" + Self.rejectedName }
    public var warningsPath: String { directory + "/" + Self.warningsName }
    public var journalPath: String { directory + "/" + Self.journalName }
    public var manifestPath: String { directory + "/" + Self.manifestName }
    public var partPath: String { directory + "/" + Self.partName }

    public func path(of shard: String) -> String { directory + "/" + shard }

    /// Whether the folder exists (as a folder).
    public var exists: Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// The shard files (`<split>-<index:05d>.h5`), sorted by name; of one split when given.
    public func shardNames(split: String? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { name in
            guard let parsed = Self.parseShardName(name) else { return false }
            return split == nil || parsed.split == split
        }.sorted()
    }

    /// `splits.json`, or nil when the folder has none.
    public func splits() throws -> SplitsFile? {
        FileManager.default.fileExists(atPath: splitsPath) ? try SplitsFile.read(from: splitsPath) : nil
    }

    /// `part.json`, or nil when the folder is not one part of a split ingest.
    public func part() throws -> PartFile? {
        FileManager.default.fileExists(atPath: partPath) ? try PartFile.read(from: partPath) : nil
    }

    public func rejections() -> [Rejection] { RejectedFile.read(rejectedPath) }

    public func warnings() -> [WarningsFile.Warning] { WarningsFile.read(warningsPath) }

    /// The manifest copy's text, or nil.
    public func manifestText() -> String? {
        FileManager.default.contents(atPath: manifestPath).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Where each stored record sits: the split and shard file of every record id.
    public struct Location: Equatable, Sendable {
        public var split: String
        public var shard: String
        public init(split: String, shard: String) {
            self.split = split
            self.shard = shard
        }
    }

    /// The disagreements between `splits.json` and what the shards hold: every assigned id must
    /// be in one shard of its split, or rejected while decoding; no stored id may be missing from
    /// splits.json or be rejected too. One sentence per problem, naming the record.
    public static func assignmentProblems(splits: SplitsFile, stored: [String: Location], rejections: [Rejection]) -> [String] {
        let rejected = Set(rejections.filter { $0.stage == .decode }.map(\.id))
        var problems: [String] = []
        for (id, split) in splits.assignment.sorted(by: { $0.key < $1.key }) {
            if let location = stored[id] {
                if location.split != split { problems.append("record '\(id)' is assigned to \(split) but sits in \(location.shard)") }
                if rejected.contains(id) { problems.append("record '\(id)' is both rejected and in \(location.shard)") }
            } else if !rejected.contains(id) {
                problems.append("record '\(id)' (\(split)) is in no shard and was not rejected")
            }
        }
        for id in stored.keys.sorted() where splits.assignment[id] == nil {
            problems.append("record '\(id)' in \(stored[id]!.shard) is not in splits.json")
        }
        return problems
    }
}
