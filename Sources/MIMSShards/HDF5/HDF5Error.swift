import CHDF5

/// A failed HDF5 call, with the file and object it concerned and HDF5's own explanation.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was attempted, e.g. "create dataset".
    public var operation: String
    /// The HDF5 file's path.
    public var file: String
    /// The object's path inside the file, e.g. "/frames".
    public var object: String
    /// HDF5's error-stack messages, innermost last.
    public var detail: String

    public var description: String {
        var text = "\(file): cannot \(operation)"
        if !object.isEmpty { text += " '\(object)'" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

enum HDF5 {
    /// HDF5 prints its error stack to stderr by default; every failure becomes an HDF5Error instead.
    static let initialized: Bool = {
        H5open()
        mims_h5_silence_errors()
        return true
    }()

    /// Collects (and clears) HDF5's current error stack.
    static func takeErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        mims_h5_error_message(&buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Checks an `hid_t` result; negative means failure.
    @discardableResult
    static func check(_ id: hid_t, _ operation: String, file: String, object: String = "") throws -> hid_t {
        if id < 0 {
            throw HDF5Error(operation: operation, file: file, object: object, detail: takeErrorMessage())
        }
        return id
    }

    /// Checks an `herr_t` result; negative means failure.
    static func check(_ status: herr_t, _ operation: String, file: String, object: String = "") throws {
        if status < 0 {
            throw HDF5Error(operation: operation, file: file, object: object, detail: takeErrorMessage())
        }
    }
}
