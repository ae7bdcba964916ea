import Foundation
import MIMSShards

/// `splits.json` beside the shards: the policy, the seed and every id's split, written atomically.
public struct SplitsFile: Equatable, Sendable {
    public var policy: String
    public var seed: UInt64
    public var assignment: [String: String]

    public init(policy: String, seed: UInt64, assignment: [String: String]) {
        self.policy = policy
        self.seed = seed
        self.assignment = assignment
    }

    public func write(to path: String) throws {
        let object: [String: Any] = ["policy": policy, "seed": seed, "splits": assignment]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let part = path + ".part"
        guard FileManager.default.createFile(atPath: part, contents: data + Data("\n".utf8)) else {
            throw ShardError.io(path: part, operation: "write", reason: "cannot create file")
        }
        try FileDurability.publish(part, as: path)
    }

    public static func read(from path: String) throws -> SplitsFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let policy = object["policy"] as? String, let seed = object["seed"] as? NSNumber,
              let splits = object["splits"] as? [String: String] else {
            throw ShardError.notAShard(path: path, reason: "not a splits.json file")
        }
        return SplitsFile(policy: policy, seed: seed.uint64Value, assignment: splits)
    }
}
