/// The container of Topcon `.fds` and `.fda` exports: a 15-byte header (`FOCT`, a 3-letter file type
/// such as `FDA` or `FAA`, two little-endian uint32 version numbers), then chunks of
/// `u8 name length, name ("@IMG_JPEG", ...), u32 size, size bytes` up to the end of the file (or a
/// zero name length, or a name not starting with `@`, where OCT-Converter and LibOctData stop too).
public struct TopconContainer: Equatable, Sendable {
    /// One chunk: its name and where its data lies.
    public struct Chunk: Equatable, Sendable {
        public var name: String
        /// Offset of the chunk's data (after its size field).
        public var offset: Int
        public var size: Int
    }

    public static let headerSize = 15
    public var fileType: String
    public var majorVersion: UInt32
    public var minorVersion: UInt32
    /// In file order; a name can repeat (`@CONTOUR_INFO` comes once per layer).
    public var chunks: [Chunk]
    /// Why the directory ended before the end of the file, when it did.
    public var stoppedEarly: String?

    public func first(_ name: String) -> Chunk? { chunks.first { $0.name == name } }

    /// Walks the directory; every chunk's size is checked against the file length, so nothing read
    /// later can run past the end.
    static func parse(_ reader: ByteReader) throws -> TopconContainer {
        let file = reader.file
        guard reader.count > 0 else { throw OCTError.empty(file: file) }
        guard reader.hasPrefix(Array("FOCT".utf8)) else {
            throw OCTError.badMagic(file: file, offset: 0, expected: "\"FOCT\" (Topcon .fds/.fda)", found: reader.preview(0, 4))
        }
        try reader.require(0, headerSize, "the Topcon file header")
        var container = TopconContainer(fileType: try reader.string(4, 3, "file type"), majorVersion: try reader.u32(7, "major version"),
                                        minorVersion: try reader.u32(11, "minor version"), chunks: [], stoppedEarly: nil)
        var at = headerSize
        while at < reader.count {
            let nameLength = Int(try reader.u8(at, "chunk name length"))
            if nameLength == 0 {
                if at + 1 < reader.count { container.stoppedEarly = "a zero chunk name length at offset \(at) ends the directory; \(reader.count - at - 1) bytes after it ignored" }
                break
            }
            try reader.require(at + 1, nameLength + 4, "chunk name and size")
            let nameBytes = (0..<nameLength).map { reader.bytes[at + 1 + $0] }
            guard nameBytes.first == UInt8(ascii: "@"), nameBytes.allSatisfy({ (33...126).contains($0) }) else {
                if container.chunks.isEmpty {
                    throw OCTError.badMagic(file: file, offset: at + 1, expected: "a chunk name starting with \"@\"", found: reader.preview(at + 1, nameLength))
                }
                container.stoppedEarly = "bytes at offset \(at) are not a chunk name (\(reader.preview(at + 1, min(nameLength, 16)))); \(reader.count - at) bytes ignored"
                break
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let size = Int(try reader.u32(at + 1 + nameLength, "size of chunk \(name)"))
            let data = at + 1 + nameLength + 4
            try reader.require(data, size, "chunk \(name)")
            container.chunks.append(Chunk(name: name, offset: data, size: size))
            at = data + size
        }
        guard !container.chunks.isEmpty else {
            throw OCTError.inconsistent(file: file, reason: "the Topcon file holds no chunks after its \(headerSize)-byte header")
        }
        return container
    }
}
