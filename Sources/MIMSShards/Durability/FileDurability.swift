import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The steps that make a finished file survive a crash or a power cut: flush its bytes to the disk,
/// then publish it under its final name in one atomic rename, then persist the rename itself.
public enum FileDurability {
    /// `fsync` on a file or directory path.
    public static func sync(_ path: String, directory: Bool = false) throws {
        let fd = open(path, directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)
        guard fd >= 0 else { throw ShardError.io(path: path, operation: "open for fsync", reason: errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ShardError.io(path: path, operation: "fsync", reason: errnoText()) }
    }

    /// fsyncs `temporary`, renames it to `final` (replacing any file there) and fsyncs the folder.
    public static func publish(_ temporary: String, as final: String) throws {
        try sync(temporary)
        guard rename(temporary, final) == 0 else {
            throw ShardError.io(path: final, operation: "rename \(temporary) to it", reason: errnoText())
        }
        try sync(parentDirectory(of: final), directory: true)
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
                throw ShardError.io(path: path, operation: "create folder", reason: errnoText())
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
            throw ShardError.io(path: part, operation: "write", reason: "cannot create file")
        }
        try FileDurability.publish(part, as: path)
    }
}
