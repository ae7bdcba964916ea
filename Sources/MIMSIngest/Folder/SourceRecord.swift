/// One image or volume found on disk, before anything is decoded.
public struct SourceRecord: Equatable, Sendable {
    /// Unique, stable id (the path relative to the root, without extension).
    public var id: String
    /// Absolute path.
    public var path: String
    /// Path relative to the dataset root, as stored in the shard's `/source`.
    public var relativePath: String
    public var label: Int32
    public var patient: String

    public init(id: String, path: String, relativePath: String, label: Int32, patient: String) {
        self.id = id
        self.path = path
        self.relativePath = relativePath
        self.label = label
        self.patient = patient
    }
}
