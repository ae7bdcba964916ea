import Foundation

/// Shell-style path patterns: `*` and `?` within one path component, `**` across folders
/// (`**/` also matches no folder at all), everything else literal.
public struct Glob: Sendable {
    public let pattern: String
    private let regex: NSRegularExpression

    public init(_ pattern: String) {
        self.pattern = pattern
        var out = "^"
        var chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "*" {
                if i + 1 < chars.count && chars[i + 1] == "*" {
                    if i + 2 < chars.count && chars[i + 2] == "/" {
                        out += "(?:.*/)?"
                        i += 3
                    } else {
                        out += ".*"
                        i += 2
                    }
                    continue
                }
                out += "[^/]*"
            } else if c == "?" {
                out += "[^/]"
            } else {
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
            i += 1
        }
        chars.removeAll()
        regex = try! NSRegularExpression(pattern: out + "$")
    }

    public func matches(_ path: String) -> Bool {
        regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
