extension ShardSet {
    /// ``RecordDigest/ofSet(_:)`` over every record of the folder's shards; nil when a shard is
    /// of format 1 (no record digests) or there are no shards. What `splits.json` records as
    /// `set_digest` for a folder written in one go (a re-split); the ingest verifier and the merge
    /// compute the same digest from records they read anyway.
    public func setDigest() throws -> String? {
        let names = try shardNames()
        guard !names.isEmpty else { return nil }
        var digests: [String] = []
        for name in names {
            let reader = try ShardReader(path: path(of: name))
            for record in reader.records {
                guard let digest = record.recordSHA256 else { return nil }
                digests.append(digest)
            }
        }
        return RecordDigest.ofSet(digests)
    }
}
