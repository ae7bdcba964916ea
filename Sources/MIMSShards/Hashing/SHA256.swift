import Foundation
import MIMSCore
import CKernels

/// SHA-256 (FIPS 180-4), streaming. Used for `source_sha256` and `pixels_sha256` in shards. The
/// block function is C, with the x86 SHA extensions where the CPU has them (about 2 GB/s against
/// 0.2 GB/s for portable code): hashing every pixel twice (write and verify) must not dominate an
/// ingest.
public struct SHA256: Sendable {
    private var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var pending = [UInt8]()
    private var length: UInt64 = 0

    public init() { pending.reserveCapacity(64) }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var index = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            index = take
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let blocks = (bytes.count - index) / 64
        if blocks > 0 {
            compress(bytes.baseAddress! + index, blocks: blocks)
            index += 64 * blocks
        }
        if index < bytes.count { pending.append(contentsOf: bytes[index...]) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 32 bytes; the hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        tail.withUnsafeBytes { buffer in compress(buffer.baseAddress!, blocks: buffer.count / 64) }
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) } }
    }

    /// The digest as 64 lowercase hex characters.
    public mutating func finalizeHex() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in finalize() {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex digest of `bytes`.
    /// SHA-256 of a whole file, read in 4 MiB blocks; a file that cannot be read is an error naming it.
    public static func hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ShardError.io(path: path, operation: "read", reason: "cannot open the file")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty { block.withUnsafeBytes { hasher.update($0) } }
        } catch {
            throw ShardError.io(path: path, operation: "read", reason: ReadableError.describe(error))
        }
        return hasher.finalizeHex()
    }

    public static func hex(of bytes: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    private mutating func compress(_ blocks: UnsafeRawPointer, blocks count: Int) {
        state.withUnsafeMutableBufferPointer { state in
            mims_sha256_blocks(state.baseAddress!, blocks.assumingMemoryBound(to: UInt8.self), count)
        }
    }
}
