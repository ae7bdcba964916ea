import MIMSOCT

/// The manifest's top-level `filter:` section: which volumes of the source make the training set,
/// by the record metadata their exports record. A record whose export does not match (or records
/// nothing for a filtered field) is listed in rejected.jsonl with stage `filter` and counted in
/// the run summary, never dropped silently.
public struct RecordFilter: Equatable, Sendable {
    /// The keys `filter:` accepts, each one value or a list of accepted values.
    public static let keys = ["laterality", "scan_pattern", "device", "format"]

    /// Accepted values per key (a record must match every key given).
    public var accepted: [String: [String]]

    public init(accepted: [String: [String]]) {
        self.accepted = accepted
    }

    /// Nil when the record passes, else the reason it is left out.
    public func exclusion(_ metadata: OCTMetadata) -> String? {
        for key in Self.keys {
            guard let wanted = accepted[key] else { continue }
            let value: String? = switch key {
            case "laterality": metadata.laterality?.rawValue
            case "scan_pattern": metadata.scanPattern
            case "device": metadata.device
            default: metadata.format.rawValue
            }
            guard let value, !value.isEmpty else {
                return "filter.\(key) wants \(wanted.joined(separator: " or ")), and the export records no \(key)"
            }
            // Laterality and format are codes; names of patterns and devices compare as written.
            let matches = key == "laterality" || key == "format"
                ? wanted.contains { $0.uppercased() == value.uppercased() } : wanted.contains(value)
            if !matches { return "filter.\(key) wants \(wanted.joined(separator: " or ")), the export records \(value)" }
        }
        return nil
    }
}
