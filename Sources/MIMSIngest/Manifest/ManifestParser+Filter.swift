import MIMSConfig
import MIMSOCT
import MIMSShards

extension ManifestParser {
    /// The top-level `filter:` section (docs/MANIFESTS.md), nil when absent. Its own function so
    /// the section's rules stay in one place; the keys are ``RecordFilter/keys``.
    static func parseFilter(_ top: Field, kind: DatasetKind) throws -> RecordFilter? {
        guard let field = try top.optional("filter") else { return nil }
        guard kind == .volume3d else { throw field.error("nothing: filter: selects OCT volumes by their export's metadata (volume3d)") }
        try field.allow(RecordFilter.keys)
        var accepted: [String: [String]] = [:]
        for key in RecordFilter.keys {
            guard let value = try field.optional(key) else { continue }
            let values = try value.strings()
            guard !values.isEmpty, values.allSatisfy({ !$0.isEmpty }) else { throw value.error("one value or a list of values") }
            switch key {
            case "laterality":
                for v in values where Laterality(rawValue: v.uppercased()) == nil { throw value.error("OD or OS, not '\(v)'") }
            case "format":
                for v in values where OCTFormat(rawValue: v) == nil {
                    throw value.error("one of \(OCTFormat.allCases.map(\.rawValue).joined(separator: ", ")), not '\(v)'")
                }
            default: break
            }
            accepted[key] = values
        }
        guard !accepted.isEmpty else { throw field.error("at least one of \(RecordFilter.keys.joined(separator: ", "))") }
        return RecordFilter(accepted: accepted)
    }
}
