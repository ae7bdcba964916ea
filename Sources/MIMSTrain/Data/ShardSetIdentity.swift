import Foundation
import MIMSShards

/// Which set of records a shard folder holds, as one string a run records and `--resume`
/// compares: `set_digest:<hex>` from `splits.json` (mims-ingest writes SHA-256 over the sorted
/// per-record digests), else `splits.json:<SHA-256 of its bytes>` (older folders), else
/// `shard-files:<SHA-256 of the sorted shard names and sizes>` (a folder without splits.json).
public enum ShardSetIdentity {
    public static func of(folder: String) -> String {
        let set = ShardSet(directory: folder)
        if let data = FileManager.default.contents(atPath: set.splitsPath) {
            // Only the one key is read, so a splits.json of another writer still identifies its set.
            if let digest = SplitsFile.setDigest(of: data), !digest.isEmpty {
                return "set_digest:" + digest
            }
            return "splits.json:" + SHA256.hex(of: [UInt8](data))
        }
        let names = (try? set.shardNames()) ?? []
        var hasher = SHA256()
        for name in names {
            let size = (try? FileManager.default.attributesOfItem(atPath: set.path(of: name))[.size] as? Int) ?? 0
            hasher.update(Array("\(name) \(size)\n".utf8))
        }
        return "shard-files:" + hasher.finalizeHex()
    }
}
