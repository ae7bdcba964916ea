import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file-system call that failed, naming the file: "path: cannot operation: reason".
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var operation: String
    public var reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

/// The steps that make a finished file survive a crash or a power cut: flush its bytes to the disk,
/// then publish it under its final name in one atomic rename, then persist the rename itself.
public enum FileDurability {
    /// `fsync` on a file or directory path.
    public static func sync(_ path: String, directory: Bool = false) throws {
        let fd = open(path, directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)
        guard fd >= 0 else { throw FileError(path: path, operation: "open for fsync", reason: errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(path: path, operation: "fsync", reason: errnoText()) }
    }

    /// fsyncs `temporary`, renames it to `final` (replacing any file there) and fsyncs the folder.
    public static func publish(_ temporary: String, as final: String) throws {
        try sync(temporary)
        guard rename(temporary, final) == 0 else {
            throw FileError(path: final, operation: "rename \(temporary) to it", reason: errnoText())
        }
        try sync(parentDirectory(of: final), directory: true)
    }

    /// Gives the finished file `source` a second name, `destination` (which must not exist): a hard
    /// link, so both names share the bytes and the source stays as it is; where links cannot go
    /// (another file system, one without hard links), an fsynced copy. Returns whether it linked.
    /// The caller fsyncs the destination's folder once all its names are made.
    @discardableResult
    public static func linkOrCopy(_ source: String, to destination: String) throws -> Bool {
        if link(source, destination) == 0 { return true }
        guard [EXDEV, EPERM, EMLINK, ENOTSUP, EOPNOTSUPP].contains(errno) else {
            throw FileError(path: destination, operation: "link \(source) to it", reason: errnoText())
        }
        try copy(source, to: destination)
        return false
    }

    /// Copies a file to `destination` through `destination.part`, fsynced and renamed.
    public static func copy(_ source: String, to destination: String) throws {
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw FileError(path: source, operation: "open for copying", reason: errnoText()) }
        defer { close(input) }
        let part = destination + ".part"
        let output = open(part, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard output >= 0 else { throw FileError(path: part, operation: "create", reason: errnoText()) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 { throw FileError(path: source, operation: "read", reason: errnoText()) }
                if count == 0 { break }
                var written = 0
                while written < count {
                    let step = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                    if step < 0 { throw FileError(path: part, operation: "write", reason: errnoText()) }
                    written += step
                }
            }
        } catch {
            close(output)
            unlink(part)
            throw error
        }
        close(output)
        try publish(part, as: destination)
    }

    /// Removes a file if it exists.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Creates a folder and its parents.
    public static func makeDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileError(path: path, operation: "create folder", reason: errnoText())
            }
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Whole-file writes that are never seen half done: `.part`, fsync, rename, fsync folder.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let part = path + ".part"
        guard FileManager.default.createFile(atPath: part, contents: data) else {
            throw FileError(path: part, operation: "write", reason: "cannot create file")
        }
        try FileDurability.publish(part, as: path)
    }
}
