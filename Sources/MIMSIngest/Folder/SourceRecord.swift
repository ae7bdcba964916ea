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

/// A file that cannot become a record, and why.
public struct Rejection: Error, Equatable, Sendable, Codable {
    /// When the file was turned away.
    public enum Stage: String, Sendable, Codable {
        /// Before splitting (no label, duplicate id, broken link, ...): `id` is the file's path
        /// relative to the root, and the file has no split.
        case discovery
        /// While decoding: `id` is the record id the file had in `splits.json`.
        case decode
    }

    public var id: String
    public var path: String
    public var reason: String
    public var stage: Stage
    /// The record's label, for decode-stage rejections (so split shares can be compared after).
    public var label: Int32? = nil

    public init(id: String, path: String, reason: String, stage: Stage = .decode, label: Int32? = nil) {
        self.id = id
        self.path = path
        self.reason = reason
        self.stage = stage
        self.label = label
    }

    public init(id: String, path: String, stage: Stage, reason: String) {
        self.init(id: id, path: path, reason: reason, stage: stage)
    }
}
