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

    /// The check of `splits.json`'s `set_digest` against the records read: none when it records no
    /// digest. `recordDigests` are every record's digests, nil when some record carries none.
    ///
    /// The two callers differ, and keep doing so: `mims-ingest verify` (`flagUndigested: true`)
    /// calls a recorded digest over records without digests a problem, while the split report
    /// (`false`) leaves such a set unchecked, as it reads format-1 sets without complaint. `sealed`
    /// names when the set was finished in the sentence ("the run", "ingest").
    public static func digestProblems(splits: SplitsFile, recordDigests: [String]?, flagUndigested: Bool, sealed: String) -> [String] {
        guard let expected = splits.setDigest else { return [] }
        guard let recordDigests else {
            return flagUndigested ? ["splits.json has a set_digest but not every record carries a digest"] : []
        }
        guard RecordDigest.ofSet(recordDigests) != expected else { return [] }
        return ["the shard set's digest differs from splits.json's set_digest: records were added, removed or changed after \(sealed)"]
    }
}
