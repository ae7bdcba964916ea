/// A file that cannot become a record, and why.
public struct Rejection: Error, Equatable, Sendable, Codable {
    /// When the file was turned away.
    public enum Stage: String, Sendable, Codable {
        /// Before splitting (no label, duplicate id, broken link, ...): `id` is the file's path
        /// relative to the root, and the file has no split.
        case discovery
        /// While decoding: `id` is the record id the file had in `splits.json`.
        case decode
        /// Left out by the manifest's `filter:` before splitting (its export's metadata does not
        /// match): `id` is the path relative to the root, as for discovery; not a failure.
        case filter
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

}
