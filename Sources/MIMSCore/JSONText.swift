/// Minimal JSON text for files written on hot paths (splits.json, journal lines): Foundation's
/// JSONSerialization with sorted keys compares keys with locale-aware NSString calls and costs more
/// than the ingest work it records.
public enum JSONText {
    /// A JSON string literal.
    public static func string(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `["a","b"]`
    public static func array(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ",") + "]"
    }

    /// An object with keys in byte order, one member per line when `multiline`.
    public static func object(_ members: [String: String], multiline: Bool = false) -> String {
        let body = members.keys.sorted().map { string($0) + ":" + members[$0]! }
        if multiline { return "{\n  " + body.joined(separator: ",\n  ") + "\n}" }
        return "{" + body.joined(separator: ",") + "}"
    }
}
