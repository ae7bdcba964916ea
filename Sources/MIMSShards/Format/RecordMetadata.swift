/// What the source export records about a record beyond laterality and spacing, stored in the
/// shard's `/meta` arrays (docs/SHARDS.md). Empty strings and nil mean "not recorded"; every
/// reader of OCT exports fills the same fields, so manifests can filter and group on them.
public struct RecordMetadata: Equatable, Sendable {
    /// The patient id the export itself records (`/meta/patient_id`); `/patient` is the grouping
    /// the manifest chose, which may come from a path instead.
    public var patientID: String = ""
    /// `YYYY-MM-DD` of the acquisition (`/meta/scan_date`).
    public var scanDate: String = ""
    /// Vendor scan pattern (`/meta/scan_pattern`).
    public var scanPattern: String = ""
    /// Acquiring device (`/meta/device`).
    public var device: String = ""
    /// The source's voxel spacing (depth, width, between frames) before any resize
    /// (`/meta/source_spacing_mm`); `spacingMM` of the record is the stored grid's.
    public var sourceSpacingMM: [Double]? = nil

    public init(patientID: String = "", scanDate: String = "", scanPattern: String = "", device: String = "", sourceSpacingMM: [Double]? = nil) {
        self.patientID = patientID
        self.scanDate = scanDate
        self.scanPattern = scanPattern
        self.device = device
        self.sourceSpacingMM = sourceSpacingMM
    }

    /// The string fields with their `/meta` dataset names, in a fixed order.
    static var stringFields: [(name: String, key: WritableKeyPath<RecordMetadata, String>)] { [
        (ShardSchema.patientID, \.patientID), (ShardSchema.scanDate, \.scanDate),
        (ShardSchema.scanPattern, \.scanPattern), (ShardSchema.device, \.device),
    ] }
}
