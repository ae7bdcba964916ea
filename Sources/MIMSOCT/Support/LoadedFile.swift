#if canImport(Glibc)
import Glibc
#endif

/// A file's bytes, read once into memory this object owns.
///
/// Not a memory map: a mapped file that another process truncates faults with SIGBUS on the next
/// touch of a lost page, which no reader can catch. Reading into owned memory costs one copy from the page cache and makes a shrinking or
/// growing file an ordinary, named error (`OCTError.changedWhileReading`) instead of a crash.
public final class LoadedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    /// Reads the whole file, or with `prefix` at most its first `prefix` bytes.
    public init(path: String, prefix: Int? = nil) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OCTError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0 else { throw OCTError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        guard (before.st_mode & S_IFMT) == S_IFREG else { throw OCTError.unreadable(file: path, reason: "not a regular file") }
        count = min(Int(before.st_size), prefix ?? Int.max)
        if count == 0 {
            base = nil
            return
        }
        guard let buffer = malloc(count) else {
            throw OCTError.unreadable(file: path, reason: "cannot allocate \(count) bytes to read it")
        }
        var done = 0
        while done < count {
            let n = read(fd, buffer + done, count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let reason = String(cString: strerror(errno))
                free(buffer)
                throw OCTError.unreadable(file: path, reason: reason)
            }
            if n == 0 {
                free(buffer)
                throw OCTError.changedWhileReading(file: path, reason: "it was \(before.st_size) bytes when opened and ended after \(done)")
            }
            done += n
        }
        var after = stat()
        if fstat(fd, &after) != 0 || (prefix == nil && after.st_size != before.st_size)
            || after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec {
            free(buffer)
            throw OCTError.changedWhileReading(file: path, reason: after.st_size != before.st_size
                ? "it was \(before.st_size) bytes when opened, \(after.st_size) after reading" : "it was modified while it was read")
        }
        base = buffer
    }

    /// The file's bytes; valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit { free(base) }
}
