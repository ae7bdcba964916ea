/// Why an OCT export could not be read; every case names the file, and where it helps, the byte
/// offset and what was expected there.
public enum OCTError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file has no bytes.
    case empty(file: String)
    /// The file ends before data its headers promise.
    case truncated(file: String, offset: Int, needed: Int, available: Int, what: String)
    /// A signature is not what the format requires.
    case badMagic(file: String, offset: Int, expected: String, found: String)
    /// A header field holds an impossible value.
    case invalidField(file: String, field: String, offset: Int, value: String, reason: String)
    /// The file's structure contradicts itself (directory loops, mismatched sizes, ...).
    case inconsistent(file: String, reason: String)
    /// No reader recognises the file.
    case unrecognized(file: String, reason: String)
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// Another process changed the file (size or modification time) while it was being read.
    case changedWhileReading(file: String, reason: String)
    /// A text (XML) export is not well-formed or lacks what the format requires, at `line`.
    case markup(file: String, line: Int, element: String, reason: String)

    public var description: String {
        switch self {
        case let .empty(file): "\(file): file is empty"
        case let .truncated(file, offset, needed, available, what):
            "\(file): truncated: \(what) needs \(needed) bytes at offset \(offset), but only \(available) remain"
        case let .badMagic(file, offset, expected, found):
            "\(file): not the expected format: expected \(expected) at offset \(offset), found \(found)"
        case let .invalidField(file, field, offset, value, reason):
            "\(file): invalid \(field) = \(value) at offset \(offset): \(reason)"
        case let .inconsistent(file, reason): "\(file): inconsistent file: \(reason)"
        case let .unrecognized(file, reason): "\(file): unrecognized file: \(reason)"
        case let .unreadable(file, reason): "\(file): cannot read: \(reason)"
        case let .changedWhileReading(file, reason): "\(file): changed while being read: \(reason)"
        case let .markup(file, line, element, reason): "\(file):\(line): <\(element)>: \(reason)"
        }
    }
}
