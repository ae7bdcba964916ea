/// An invalid configuration file (a manifest or a pipeline): the file, the key, the line and what
/// was expected, e.g. `m.yaml:15: 'split.test': train + val + test = 1 (they add up to 1.1)`.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// Dotted key path, e.g. "split.train".
    public var key: String
    /// 1-based line, 0 when unknown (e.g. a missing key reported at its parent).
    public var line: Int
    public var expected: String

    public init(file: String, key: String, line: Int, expected: String) {
        self.file = file
        self.key = key
        self.line = line
        self.expected = expected
    }

    public var description: String {
        "\(file):\(line > 0 ? "\(line):" : "")" + (key.isEmpty ? " " : " '\(key)': ") + expected
    }
}
