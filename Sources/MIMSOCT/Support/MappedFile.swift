#if canImport(Glibc)
import Glibc
#endif

/// A file mapped read-only into memory: readers convert straight from the page cache with no copy.
///
/// The mapping is prefaulted (`MAP_POPULATE`). A file truncated by another process while mapped
/// would fault (SIGBUS); exports are not modified while they are read.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OCTError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OCTError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw OCTError.unreadable(file: path, reason: "not a regular file") }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw OCTError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        madvise(address, count, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(address)
    }

    /// The file's bytes; valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}
