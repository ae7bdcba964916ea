import Foundation
import Yams

/// A node of a YAML file (manifest or pipeline) with its dotted path, for typed access with
/// precise errors.
public struct Field {
    public let node: Node
    public let path: String
    public let file: String

    public init(node: Node, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    public var line: Int { node.mark?.line ?? 0 }

    public func error(_ expected: String) -> ConfigError {
        ConfigError(file: file, key: path, line: line, expected: expected)
    }

    public func missing(_ key: String, expected: String) -> ConfigError {
        ConfigError(file: file, key: path.isEmpty ? key : path + "." + key, line: line, expected: "missing; expected \(expected)")
    }

    public func child(_ key: String) -> Field? {
        guard let mapping = node.mapping else { return nil }
        for (k, v) in mapping where k.string == key { return Field(node: v, path: path.isEmpty ? key : path + "." + key, file: file) }
        return nil
    }

    public func required(_ key: String) throws -> Field {
        guard node.mapping != nil else { throw error("a mapping") }
        guard let field = child(key) else { throw missing(key, expected: "a value") }
        return field
    }

    public func optional(_ key: String) throws -> Field? {
        guard node.mapping != nil else { throw error("a mapping") }
        return child(key)
    }

    /// Rejects keys not in `known`.
    public func allow(_ known: [String]) throws {
        guard let mapping = node.mapping else { throw error("a mapping with keys \(known.joined(separator: ", "))") }
        for (key, _) in mapping {
            guard let name = key.string, known.contains(name) else {
                let name = key.string ?? "?"
                throw ConfigError(file: file, key: path.isEmpty ? name : path + "." + name, line: key.mark?.line ?? line,
                                    expected: "not a known key here; known keys: \(known.joined(separator: ", "))")
            }
        }
    }

    public func string() throws -> String {
        guard let scalar = node.scalar else { throw error("a text value") }
        return scalar.string
    }

    public func integer() throws -> Int {
        guard let text = node.scalar?.string, let value = Int(text) else { throw error("a whole number") }
        return value
    }

    public func unsigned() throws -> UInt64 {
        guard let text = node.scalar?.string, let value = UInt64(text) else { throw error("a non-negative whole number") }
        return value
    }

    public func fraction() throws -> Double {
        guard let text = node.scalar?.string, let value = Double(text), value >= 0, value <= 1 else { throw error("a number between 0 and 1") }
        return value
    }

    public func strings() throws -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { throw error("a list of text values") }
        return try sequence.map { item in
            guard let scalar = item.scalar else {
                throw ConfigError(file: file, key: path, line: item.mark?.line ?? line, expected: "a list of text values")
            }
            return scalar.string
        }
    }

    public func integers() throws -> [Int] {
        guard let sequence = node.sequence else { throw error("a list of whole numbers") }
        return try sequence.map { item in
            guard let text = item.scalar?.string, let value = Int(text) else {
                throw ConfigError(file: file, key: path, line: item.mark?.line ?? line, expected: "a list of whole numbers")
            }
            return value
        }
    }

    public func number() throws -> Double {
        guard let text = node.scalar?.string, let value = Double(text), value.isFinite else { throw error("a number") }
        return value
    }

    public func numbers() throws -> [Double] {
        guard let sequence = node.sequence else { throw error("a list of numbers") }
        return try sequence.map { item in
            guard let text = item.scalar?.string, let value = Double(text), value.isFinite else {
                throw ConfigError(file: file, key: path, line: item.mark?.line ?? line, expected: "a list of numbers")
            }
            return value
        }
    }

    public func bool() throws -> Bool {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("true or false")
        }
    }

    /// The line of a Yams error ("<line>:<column>: error: ..."), or 0.
    public static func line(of error: YamlError) -> Int {
        let text = "\(error)"
        if let first = text.split(separator: ":").first, let line = Int(first) { return line }
        return 0
    }

    /// Parses a whole YAML document into its top-level field.
    public static func document(_ text: String, file: String) throws -> Field {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, key: "", line: Field.line(of: error), expected: "valid YAML (\(error))")
        }
        guard let node, node.mapping != nil else { throw ConfigError(file: file, key: "", line: 1, expected: "a mapping of keys") }
        return Field(node: node, path: "", file: file)
    }

    public func pairs() throws -> [KeyValue] {
        guard let mapping = node.mapping else { throw error("a mapping of text to text") }
        return try mapping.map { key, value in
            guard let k = key.string, let v = value.scalar?.string else {
                throw ConfigError(file: file, key: path, line: key.mark?.line ?? line, expected: "a mapping of text to text")
            }
            return KeyValue(key: k, value: v)
        }
    }
}
