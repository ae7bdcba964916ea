import Foundation
import MIMSIngest
import MIMSShards

/// What the split-ingest tests share, in process (MIMSIngestTests/PartIngestTests) and as
/// commands (EndToEndTests/PartIngestEndToEndTests): the dataset they ingest in parts and the two
/// ways they compare a merged set with a single run's. A test type conforms to use them.
public protocol PartIngestFixtures {}

extension PartIngestFixtures {
    /// A synthetic dataset with small shards (so parts cut through shards and leave short ones)
    /// and, optionally, `corrupt` files overwritten with junk (so parts reject records).
    public func synthesize(_ dataset: SyntheticDataset, count: Int, recordsPerShard: Int, corrupt: Int = 0, into source: String) throws {
        _ = try SyntheticDatasetWriter(dataset: dataset, count: count, seed: 5, small: true).write(to: source)
        var manifest = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        manifest = manifest.replacingOccurrences(of: #"records_per_shard: \d+"#, with: "records_per_shard: \(recordsPerShard)", options: .regularExpression)
        try manifest.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
        let discovered = try Discovery.discover(ManifestParser.load(path: source + "/manifest.yaml")).records
        // Spread over the id order, so that several parts reject something.
        for index in stride(from: 1, to: discovered.count, by: max(1, discovered.count / max(1, corrupt))).prefix(corrupt) {
            try Data("not an image".utf8).write(to: URL(fileURLWithPath: discovered[index].path))
        }
    }

    /// The set as h5py reads it (Tests/Interop/shard_set_records.py).
    public func records(_ dir: String) throws -> [String: Any] {
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/shard_set_records.py", dir])
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
    }

    /// Per split, the ids in the order mims-train indexes them (shard name order, then record order).
    public func recordOrder(_ dir: String) throws -> [String: [String]] {
        let set = ShardSet(directory: dir)
        var order: [String: [String]] = [:]
        for split in ShardSchema.splits {
            order[split] = try set.shardNames(split: split).flatMap { try ShardReader(path: set.path(of: $0)).records.map(\.id) }
        }
        return order
    }
}
