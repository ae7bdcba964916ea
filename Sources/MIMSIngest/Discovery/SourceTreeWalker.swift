import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Identity and state of a file when it was found: a later read compares against it to tell a
/// file that changed (or was replaced) between discovery and reading.
public struct FileIdentity: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedSeconds: Int64
    public var modifiedNanoseconds: Int64

    /// The identity of what `path` names now (following links), or nil when it cannot be stat'ed.
    public static func of(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }
}

/// Lists a source tree the way a researcher assembled it: symbolic links to files and folders
/// are followed (datasets are often put together from links), a link that leads back into a
/// folder being walked is a loop and is not followed twice, and everything that cannot be
/// listed or is not a regular file is reported instead of skipped.
///
/// Hidden entries (names starting with ".") are skipped: they are editor, OS and tool droppings
/// (`.DS_Store`, `._x.png`), never data.
struct SourceTreeWalker {
    struct Entry {
        /// Path relative to the root, "/"-separated.
        var relative: String
        var identity: FileIdentity
    }

    /// Something under the root that is not a readable regular file or folder.
    struct Problem {
        enum Kind {
            /// Would have been a file (a dangling link, a FIFO, ...): a rejection when
            /// `source.include` matches it.
            case file
            /// A folder that cannot be listed: its files cannot be known, so it is a rejection.
            case unlistableFolder
            /// A link back into a folder being walked: nothing is lost, the user is told.
            case loop
        }
        var relative: String
        var reason: String
        var kind: Kind
    }

    var files: [Entry] = []
    var problems: [Problem] = []

    /// Walks `root`. `files` comes out sorted by relative path.
    static func walk(_ root: String) -> SourceTreeWalker {
        var walker = SourceTreeWalker()
        var rootInfo = stat()
        guard stat(root, &rootInfo) == 0 else {
            walker.problems.append(Problem(relative: ".", reason: "cannot open the source root: \(String(cString: strerror(errno)))", kind: .unlistableFolder))
            return walker
        }
        walker.visit(root, relative: "", ancestors: [Ancestor(rootInfo)])
        walker.files.sort { $0.relative < $1.relative }
        return walker
    }

    private struct Ancestor: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private mutating func visit(_ folder: String, relative: String, ancestors: Set<Ancestor>) {
        guard let directory = opendir(folder) else {
            problems.append(Problem(relative: relative.isEmpty ? "." : relative,
                                    reason: "cannot list the folder: \(String(cString: strerror(errno)))", kind: .unlistableFolder))
            return
        }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        closedir(directory)
        for name in names.sorted() {
            let path = folder + "/" + name
            let child = relative.isEmpty ? name : relative + "/" + name
            var link = stat()
            guard lstat(path, &link) == 0 else {
                let code = errno
                problems.append(Problem(relative: child, reason: code == ENOENT ? "vanished while the folder was listed"
                                            : "cannot look at it: \(String(cString: strerror(code)))", kind: .file))
                continue
            }
            let isLink = (link.st_mode & S_IFMT) == S_IFLNK
            var info = stat()
            if isLink {
                guard stat(path, &info) == 0 else {
                    let code = errno
                    let target = Self.linkTarget(path) ?? "?"
                    let reason = code == ELOOP ? "symbolic link loop (\(target))"
                        : code == ENOENT ? "broken symbolic link: its target \(target) does not exist"
                        : "symbolic link to \(target) cannot be followed: \(String(cString: strerror(code)))"
                    problems.append(Problem(relative: child, reason: reason, kind: .file))
                    continue
                }
            } else {
                info = link
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                files.append(Entry(relative: child, identity: FileIdentity(info)))
            case S_IFDIR:
                let identity = Ancestor(info)
                if ancestors.contains(identity) {
                    problems.append(Problem(relative: child, reason: "symbolic link loop: \(Self.linkTarget(path) ?? "it") leads back to a folder that contains it; not followed",
                                            kind: .loop))
                    continue
                }
                visit(path, relative: child, ancestors: ancestors.union([identity]))
            default:
                problems.append(Problem(relative: child, reason: "not a regular file (\(Self.kindName(info.st_mode)))", kind: .file))
            }
        }
    }

    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a named pipe"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a special file"
        }
    }
}
