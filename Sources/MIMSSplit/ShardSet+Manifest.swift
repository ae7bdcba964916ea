import MIMSConfig
import MIMSShards

/// What the split report and training read from the manifest copy beside the shards
/// (``ShardSet/manifestName``). Here, not in MIMSShards, because it needs the manifest's field
/// cursor (MIMSConfig), which MIMSShards does not depend on.
extension ShardSet {
    /// The manifest copy, read with the field cursor the manifest parser uses, so readers see the
    /// values ingest saw; nil when there is none or it is not YAML (readers then go without class
    /// names and slice counts).
    public func manifestCopy() -> Field? {
        guard let text = manifestText() else { return nil }
        return try? Field.document(text, file: manifestPath)
    }

    /// `labels.classes` of the manifest copy, or [] when there is none (classes then print as "class N").
    public func classNames() -> [String] { Self.classNames(in: manifestCopy()) }

    /// `labels.classes` of a manifest copy already read, or [].
    public static func classNames(in manifest: Field?) -> [String] {
        (try? manifest?.child("labels")?.child("classes")?.strings()) ?? []
    }

    /// `normalize.slices.central` of a manifest copy, when it has one.
    public static func centralSlices(in manifest: Field?) -> Int? {
        try? manifest?.child("normalize")?.child("slices")?.child("central")?.integer()
    }
}
