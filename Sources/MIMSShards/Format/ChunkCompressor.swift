import CDeflate
import Foundation

/// Deflate (zlib format, as HDF5's deflate filter stores it) with libdeflate, which compresses
/// whole buffers 2-3x faster than zlib at the same level. Compressors are pooled: allocating one
/// per frame would cost more than compressing a small frame.
final class ChunkCompressor: @unchecked Sendable {
    static let shared = ChunkCompressor()

    private let lock = NSLock()
    private var idle: [Int: [OpaquePointer]] = [:]
    private var idleDecompressors: [OpaquePointer] = []

    /// Inflates a zlib stream that must expand to exactly `output.count` bytes.
    func decompress(_ source: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        lock.lock()
        let decompressor = idleDecompressors.popLast() ?? libdeflate_alloc_decompressor()
        lock.unlock()
        defer {
            lock.lock()
            idleDecompressors.append(decompressor!)
            lock.unlock()
        }
        var produced = 0
        let result = libdeflate_zlib_decompress(decompressor, source.baseAddress, source.count, output.baseAddress, output.count, &produced)
        return result == LIBDEFLATE_SUCCESS && produced == output.count
    }

    /// Compresses `source` into a new array, or returns nil when the result would not be at least
    /// 10% smaller than the input (the chunk is then stored raw).
    func compress(_ source: UnsafeRawBufferPointer, level: Int) -> [UInt8]? {
        let compressor = take(level)
        defer { give(compressor, level) }
        let limit = source.count * 9 / 10
        guard limit > 0 else { return nil }
        var output = [UInt8](repeating: 0, count: limit)
        let size = output.withUnsafeMutableBytes {
            libdeflate_zlib_compress(compressor, source.baseAddress, source.count, $0.baseAddress, limit)
        }
        guard size > 0 else { return nil }  // did not fit in 90% of the input
        output.removeSubrange(size...)
        return output
    }

    private func take(_ level: Int) -> OpaquePointer {
        lock.lock()
        if let compressor = idle[level]?.popLast() {
            lock.unlock()
            return compressor
        }
        lock.unlock()
        return libdeflate_alloc_compressor(Int32(level))
    }

    private func give(_ compressor: OpaquePointer, _ level: Int) {
        lock.lock()
        idle[level, default: []].append(compressor)
        lock.unlock()
    }
}
