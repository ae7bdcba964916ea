/// What a split policy needs to know of a record, and nothing more: ingest maps its source records
/// to these, the re-splitter the records it reads from shards, so the policies need no ingest type.
public struct SplitRecord: Equatable, Sendable {
    /// The record id: the key of `splits.json`'s assignment.
    public var id: String
    /// The patient the record is grouped under (ingest falls back to the id when none is found).
    public var patient: String
    /// Class index; ``MIMSShards/ShardSchema/unlabelled`` for `labels: none`.
    public var label: Int32
    /// The source's own split, when the manifest reads one; nil counts as train.
    public var officialSplit: String?

    public init(id: String, patient: String, label: Int32, officialSplit: String? = nil) {
        self.id = id
        self.patient = patient
        self.label = label
        self.officialSplit = officialSplit
    }
}
