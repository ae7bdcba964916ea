import MIMSCore

/// A finished shard under another index. Merging the parts of a split ingest needs this where
/// rejects left a part with fewer shards than planned: the shards after the gap move into it, so
/// the merged set is numbered without holes, as a single run's is.
public enum ShardRenumbering {
    /// Copies the shard at `source` into `directory` as `<split>-<index:05d>.h5` with its
    /// `shard_index` attribute set to `index`. Records, frames and every other attribute are
    /// unchanged (record digests do not cover the index); `source` is not touched. The copy is
    /// published atomically like a written shard. Returns its path.
    @discardableResult
    public static func copy(_ source: String, split: String, index: Int, into directory: String) throws -> String {
        let final = directory + "/" + ShardSet.shardName(split: split, index: index)
        let part = ShardSet.unfinishedName(of: final)
        try FileDurability.copy(source, to: part)
        do {
            let file = try HDF5File.open(part, mode: .readWrite)
            do {
                let root = try file.root()
                try root.setAttribute("shard_index", Int64(index))
            }
            try file.flush()
            try file.close()
            try FileDurability.publish(part, as: final)
        } catch {
            FileDurability.remove(part)
            throw error
        }
        return final
    }
}
