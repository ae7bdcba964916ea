/// Bounds-checked little-endian field access into a file's bytes. Every read that would run past
/// the end throws `OCTError.truncated` naming the file, the offset and what was being read.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String

    var count: Int { bytes.count }

    /// Throws unless `length` bytes exist at `offset`.
    func require(_ offset: Int, _ length: Int, _ what: String) throws {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw OCTError.truncated(file: file, offset: offset, needed: length, available: max(0, bytes.count - max(0, offset)), what: what)
        }
    }

    func u8(_ offset: Int, _ what: String) throws -> UInt8 {
        try require(offset, 1, what)
        return bytes[offset]
    }

    func u16(_ offset: Int, _ what: String) throws -> UInt16 {
        try require(offset, 2, what)
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(_ offset: Int, _ what: String) throws -> UInt32 {
        try require(offset, 4, what)
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func i32(_ offset: Int, _ what: String) throws -> Int32 { Int32(bitPattern: try u32(offset, what)) }

    func u64(_ offset: Int, _ what: String) throws -> UInt64 {
        try require(offset, 8, what)
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Big-endian fields, for codestreams (JPEG, JPEG 2000) inside little-endian files.
    func u16be(_ offset: Int, _ what: String) throws -> UInt16 { UInt16(bigEndian: UInt16(littleEndian: try u16(offset, what))) }
    func u32be(_ offset: Int, _ what: String) throws -> UInt32 { UInt32(bigEndian: UInt32(littleEndian: try u32(offset, what))) }

    func f32(_ offset: Int, _ what: String) throws -> Float { Float(bitPattern: try u32(offset, what)) }
    func f64(_ offset: Int, _ what: String) throws -> Double { Double(bitPattern: try u64(offset, what)) }

    /// A NUL-terminated (or padded) ASCII/Latin-1 field of fixed length, trimmed of spaces.
    func string(_ offset: Int, _ length: Int, _ what: String) throws -> String {
        try require(offset, length, what)
        var scalars = String.UnicodeScalarView()
        for i in 0..<length {
            let byte = bytes[offset + i]
            if byte == 0 { break }
            scalars.append(Unicode.Scalar(byte))
        }
        return String(scalars).trimmingSpaces()
    }

    /// The bytes at `offset` rendered for an error message.
    func preview(_ offset: Int, _ length: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        let end = min(bytes.count, offset + length)
        let text = bytes[offset..<end].map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
        return "\"" + text.joined() + "\""
    }

    func hasPrefix(_ magic: [UInt8], at offset: Int = 0) -> Bool {
        guard offset >= 0, bytes.count - offset >= magic.count else { return false }
        for (i, byte) in magic.enumerated() where bytes[offset + i] != byte { return false }
        return true
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
