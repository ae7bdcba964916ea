#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A file's bytes, read once into memory this object owns.
///
/// Not a memory map: a mapped file that another process truncates faults with SIGBUS on the next
/// touch of a lost page, which no reader can catch. Buffers come from a small pool so that reading
/// file after file reuses pages already faulted in (a fresh 64 MB buffer costs more in page faults
/// than the read itself). Reading into owned memory costs one copy from the page cache and makes a shrinking or
/// growing file an ordinary, named error (`OCTError.changedWhileReading`) instead of a crash.
public final class LoadedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?
    private let capacity: Int

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
            capacity = 0
            return
        }
        guard let (buffer, capacity) = BufferPool.shared.take(count) else {
            throw OCTError.unreadable(file: path, reason: "cannot allocate \(count) bytes to read it")
        }
        self.capacity = capacity
        var done = 0
        while done < count {
            let n = read(fd, buffer + done, count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let reason = String(cString: strerror(errno))
                BufferPool.shared.give(buffer, capacity: capacity)
                throw OCTError.unreadable(file: path, reason: reason)
            }
            if n == 0 {
                BufferPool.shared.give(buffer, capacity: capacity)
                throw OCTError.changedWhileReading(file: path, reason: "it was \(before.st_size) bytes when opened and ended after \(done)")
            }
            done += n
        }
        var after = stat()
        if fstat(fd, &after) != 0 || (prefix == nil && after.st_size != before.st_size)
            || after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec {
            BufferPool.shared.give(buffer, capacity: capacity)
            throw OCTError.changedWhileReading(file: path, reason: after.st_size != before.st_size
                ? "it was \(before.st_size) bytes when opened, \(after.st_size) after reading" : "it was modified while it was read")
        }
        base = buffer
    }

    /// The file's bytes; valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit { if let base { BufferPool.shared.give(base, capacity: capacity) } }
}

/// Read buffers kept for reuse: at most 256 MiB of them, the largest kept first.
private final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    private let lock = NSLock()
    private var idle: [(pointer: UnsafeMutableRawPointer, capacity: Int)] = []
    private let limit = 256 << 20

    func take(_ count: Int) -> (UnsafeMutableRawPointer, Int)? {
        lock.lock()
        if let index = idle.indices.filter({ idle[$0].capacity >= count }).min(by: { idle[$0].capacity < idle[$1].capacity }) {
            let buffer = idle.remove(at: index)
            lock.unlock()
            return (buffer.pointer, buffer.capacity)
        }
        lock.unlock()
        return malloc(count).map { ($0, count) }
    }

    func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        lock.lock()
        idle.append((pointer, capacity))
        idle.sort { $0.capacity > $1.capacity }
        var kept = 0
        var released: [UnsafeMutableRawPointer] = []
        idle.removeAll { buffer in
            if kept + buffer.capacity <= limit { kept += buffer.capacity; return false }
            released.append(buffer.pointer)
            return true
        }
        lock.unlock()
        released.forEach { free($0) }
    }
}
