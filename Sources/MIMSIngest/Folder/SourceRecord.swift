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

    public init(id: String, path: String, relativePath: String, label: Int32, patient: String, officialSplit: String? = nil) {
        self.id = id
        self.path = path
        self.relativePath = relativePath
        self.label = label
        self.patient = patient
        self.officialSplit = officialSplit
    }
}

/// A file that cannot become a record, and why.
public struct Rejection: Error, Equatable, Sendable, Codable {
    public var id: String
    public var path: String
    public var reason: String

    public init(id: String, path: String, reason: String) {
        self.id = id
        self.path = path
        self.reason = reason
    }
}
