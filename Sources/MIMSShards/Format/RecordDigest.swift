/// Tamper evidence of shard format 2 (docs/SHARDS.md).
///
/// A record's digest is the SHA-256 (lowercase hex) of the UTF-8 bytes of
/// `"mims-record-2" NUL id NUL label NUL patient NUL source_sha256 NUL pixels_sha256`, with the
/// label in decimal. It covers the pixels through `pixels_sha256`, which the verifier checks
/// against the frames. NUL cannot occur inside HDF5 strings, so the fields cannot run together.
///
/// A shard set's digest is the SHA-256 of the sorted record digests, each followed by "\n".
public enum RecordDigest {
    public static func of(id: String, label: Int32, patient: String, sourceSHA256: String, pixelsSHA256: String) -> String {
        var bytes = Array("mims-record-2".utf8)
        for field in [id, String(label), patient, sourceSHA256.lowercased(), pixelsSHA256.lowercased()] {
            bytes.append(0)
            bytes += Array(field.utf8)
        }
        return SHA256.hex(of: bytes)
    }

    public static func of(_ record: ShardRecordInfo) -> String {
        of(id: record.id, label: record.label, patient: record.patient, sourceSHA256: record.sourceSHA256, pixelsSHA256: record.pixelsSHA256)
    }

    /// The digest of a set of records, independent of their order and of how they are sharded.
    public static func ofSet<S: Sequence>(_ recordDigests: S) -> String where S.Element == String {
        SHA256.hex(of: Array(recordDigests.sorted().map { $0 + "\n" }.joined().utf8))
    }
}
