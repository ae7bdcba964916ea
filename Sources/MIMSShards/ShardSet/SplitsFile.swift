import Foundation
import MIMSCore

/// `splits.json` beside the shards: the policy, the seed, every id's split, the moved ids and the
/// patients that straddle the split; written atomically.
public struct SplitsFile: Equatable, Sendable {
    public var policy: String
    public var seed: UInt64
    public var assignment: [String: String]
    public var moved: [String]
    public var straddlingPatients: [String]
    /// Files matched by `source.include`: each is a record in a shard or a line of rejected.jsonl.
    public var filesMatched: Int?
    /// SHA-256 over the shard set's sorted per-record digests (docs/SHARDS.md), written when the
    /// run has finished; nil before, and for sets of format-1 shards.
    public var setDigest: String?

    public init(policy: String, seed: UInt64, assignment: [String: String], moved: [String] = [], straddlingPatients: [String] = []) {
        self.policy = policy
        self.seed = seed
        self.assignment = assignment
        self.moved = moved
        self.straddlingPatients = straddlingPatients
    }

    /// Whether both assign the same ids to the same splits under the same policy and seed.
    public func sameAssignment(as other: SplitsFile) -> Bool {
        policy == other.policy && seed == other.seed && assignment == other.assignment && moved == other.moved
            && straddlingPatients == other.straddlingPatients
    }

    /// The share of one part of a split ingest: only `ids` keep their split (and their place
    /// among the moved); the policy, seed and straddling patients stay those of the whole set.
    public func restricted(to ids: Set<String>, filesMatched: Int) -> SplitsFile {
        var share = SplitsFile(policy: policy, seed: seed, assignment: assignment.filter { ids.contains($0.key) },
                               moved: moved.filter(ids.contains), straddlingPatients: straddlingPatients)
        share.filesMatched = filesMatched
        return share
    }

    /// Keys and ids in byte order, one id per line, so the file diffs well between runs.
    public func data() throws -> Data {
        let splits = "{\n    " + assignment.keys.sorted().map { JSONText.string($0) + ": " + JSONText.string(assignment[$0]!) }
            .joined(separator: ",\n    ") + "\n  }"
        var members = [
            "policy": JSONText.string(policy), "seed": String(seed), "splits": assignment.isEmpty ? "{}" : splits,
            "moved": JSONText.array(moved), "straddling_patients": JSONText.array(straddlingPatients),
        ]
        if let filesMatched { members["files_matched"] = String(filesMatched) }
        if let setDigest { members["set_digest"] = JSONText.string(setDigest) }
        let text = JSONText.object(members, multiline: true)
        return Data((text + "\n").utf8)
    }

    public func write(to path: String) throws {
        try AtomicFile.write(data(), to: path)
    }

    public static func read(from path: String) throws -> SplitsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ShardError.invalidSetFile(path: path, reason: "cannot read the file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let policy = object["policy"] as? String, let seed = object["seed"] as? NSNumber,
              let splits = object["splits"] as? [String: String] else {
            throw ShardError.invalidSetFile(path: path, reason: "not a splits.json file (JSON with policy, seed and splits expected)")
        }
        var file = SplitsFile(policy: policy, seed: seed.uint64Value, assignment: splits, moved: object["moved"] as? [String] ?? [],
                              straddlingPatients: object["straddling_patients"] as? [String] ?? [])
        file.filesMatched = (object["files_matched"] as? NSNumber)?.intValue
        file.setDigest = setDigest(in: object)
        return file
    }

    /// The `set_digest` of a splits.json's bytes alone, nil when it has none or is not JSON: the
    /// other keys are not needed, so a splits.json of another writer still yields its digest.
    public static func setDigest(of data: Data) -> String? {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]).flatMap { setDigest(in: $0) }
    }

    private static func setDigest(in object: [String: Any]) -> String? { object["set_digest"] as? String }
}
