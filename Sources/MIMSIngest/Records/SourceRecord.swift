import MIMSShards
import MIMSSplit

/// One image or volume found on disk, before anything is decoded.
public struct SourceRecord: Equatable, Sendable {
    /// Unique, stable id: the path relative to the root without its extension.
    public var id: String
    /// Absolute path (a folder for slice-folder volumes).
    public var path: String
    /// Path relative to the dataset root, as stored in the shard's `/source`.
    public var relativePath: String
    public var label: Int32
    public var patient: String
    /// The source's own split for this record, when the manifest reads one.
    public var officialSplit: String?
    /// The file as discovery found it; a read that finds it changed rejects the record. Nil for
    /// slice folders and records made by other means.
    public var identity: FileIdentity?

    public init(id: String, path: String, relativePath: String, label: Int32, patient: String, officialSplit: String? = nil,
                identity: FileIdentity? = nil) {
        self.id = id
        self.path = path
        self.relativePath = relativePath
        self.label = label
        self.patient = patient
        self.officialSplit = officialSplit
        self.identity = identity
    }
}

extension SourceRecord {
    /// What the split policies see of the record.
    public var splitRecord: SplitRecord {
        SplitRecord(id: id, patient: patient, label: label, officialSplit: officialSplit)
    }
}
