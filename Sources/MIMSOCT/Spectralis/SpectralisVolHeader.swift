/// The 2048-byte file header of a Heidelberg Spectralis `.vol` export (`HSF-OCT-10x`),
/// little-endian. Fields from `pid` on exist from version 101.
public struct SpectralisVolHeader: Equatable, Sendable {
    public static let size = 2048
    public var version: Int          // 100 + x of "HSF-OCT-10x"
    public var sizeX: Int            // A-scans per B-scan
    public var numBScans: Int
    public var sizeZ: Int            // samples per A-scan
    public var scaleX: Double        // mm
    public var distance: Double      // mm between B-scans
    public var scaleZ: Double        // mm
    public var sizeXSlo: Int
    public var sizeYSlo: Int
    public var scaleXSlo: Double
    public var scaleYSlo: Double
    public var fieldSizeSlo: Int
    public var scanFocus: Double
    public var scanPosition: String  // "OD" | "OS"
    public var examTime: UInt64      // 100 ns ticks since 1601-01-01
    public var scanPattern: Int
    public var bscanHeaderSize: Int
    public var id: String
    public var referenceID: String
    public var pid: Int
    public var patientID: String
    public var dateOfBirth: Double   // days since 1899-12-30
    public var vid: Int
    public var visitID: String
    public var visitDate: Double     // days since 1899-12-30
    /// The version field when it is not `HSF-OCT-...` (the file was accepted because its sizes fit).
    public var unusualVersion: String?

    /// Bytes of one B-scan's float data.
    public var bscanDataSize: Int { sizeX * sizeZ * 4 }
    /// Offset of the first B-scan header.
    public var firstBScanOffset: Int { Self.size + sizeXSlo * sizeYSlo }
    /// Bytes the header promises: header, SLO and every B-scan with its header.
    public var expectedFileSize: Int { firstBScanOffset + numBScans * (bscanHeaderSize + bscanDataSize) }

    /// Human name of the scan pattern.
    public var scanPatternName: String {
        let names = [0: "unknown", 1: "line", 2: "circle", 3: "volume (ART)", 4: "fast volume", 5: "radial"]
        return "\(names[scanPattern] ?? "pattern") (\(scanPattern))"
    }

    /// Parses and validates the header against the file size before anything is allocated.
    /// `headerOnly` reads the fields from a prefix of the file and skips the size check.
    static func parse(_ reader: ByteReader, headerOnly: Bool = false) throws -> SpectralisVolHeader {
        let file = reader.file
        guard reader.count > 0 else { throw OCTError.empty(file: file) }
        let standard = reader.hasPrefix(Array("HSF-OCT-".utf8))
        // Some converters write another version string over a valid header. Such a file is read
        // when the field is text and (below) every size fits the file; anything else is not a .vol.
        guard standard || versionFieldIsText(reader) else {
            throw OCTError.badMagic(file: file, offset: 0, expected: "\"HSF-OCT-\" (or a text version field)", found: reader.preview(0, 8))
        }
        try reader.require(0, size, "the .vol file header")
        let version: Int
        var unusualVersion: String? = nil
        if standard {
            let versionText = try reader.string(8, 4, "version")
            guard let number = Int(versionText) else {
                throw OCTError.invalidField(file: file, field: "version", offset: 8, value: "\"\(versionText)\"", reason: "expected digits after HSF-OCT-")
            }
            version = number
        } else {
            let text = try reader.string(0, 12, "version")
            unusualVersion = text
            // Trailing digits ("XYZ-OCT-103") give the layout; without them, the newest (103).
            version = Int(String(text.reversed().prefix { $0.isNumber }.reversed())).map { min($0, 103) } ?? 103
        }
        func count(_ offset: Int, _ field: String, max limit: Int) throws -> Int {
            let value = Int(try reader.u32(offset, field))
            guard value <= limit else {
                throw OCTError.invalidField(file: file, field: field, offset: offset, value: "\(value)", reason: "larger than \(limit)")
            }
            return value
        }
        var header = SpectralisVolHeader(
            version: version,
            sizeX: try count(12, "SizeX", max: 1 << 16), numBScans: try count(16, "NumBScans", max: 1 << 16),
            sizeZ: try count(20, "SizeZ", max: 1 << 16),
            scaleX: try reader.f64(24, "ScaleX"), distance: try reader.f64(32, "Distance"), scaleZ: try reader.f64(40, "ScaleZ"),
            sizeXSlo: try count(48, "SizeXSlo", max: 1 << 14), sizeYSlo: try count(52, "SizeYSlo", max: 1 << 14),
            scaleXSlo: try reader.f64(56, "ScaleXSlo"), scaleYSlo: try reader.f64(64, "ScaleYSlo"),
            fieldSizeSlo: Int(try reader.u32(72, "FieldSizeSlo")), scanFocus: try reader.f64(76, "ScanFocus"),
            scanPosition: try reader.string(84, 4, "ScanPosition"), examTime: try reader.u64(88, "ExamTime"),
            scanPattern: Int(try reader.i32(96, "ScanPattern")), bscanHeaderSize: try count(100, "BScanHdrSize", max: 1 << 24),
            id: try reader.string(104, 16, "ID"), referenceID: try reader.string(120, 16, "ReferenceID"),
            pid: 0, patientID: "", dateOfBirth: 0, vid: 0, visitID: "", visitDate: 0, unusualVersion: unusualVersion)
        if version >= 101 {
            header.pid = Int(try reader.u32(136, "PID"))
            header.patientID = try reader.string(140, 21, "PatientID")
            header.dateOfBirth = try reader.f64(164, "DOB")
            header.vid = Int(try reader.u32(172, "VID"))
            header.visitID = try reader.string(176, 24, "VisitID")
            header.visitDate = try reader.f64(200, "VisitDate")
        }
        for (field, offset, value) in [("SizeX", 12, header.sizeX), ("NumBScans", 16, header.numBScans), ("SizeZ", 20, header.sizeZ)] where value == 0 {
            throw OCTError.invalidField(file: file, field: field, offset: offset, value: "0", reason: "a volume needs at least one")
        }
        guard header.bscanHeaderSize >= 60 else {
            throw OCTError.invalidField(file: file, field: "BScanHdrSize", offset: 100, value: "\(header.bscanHeaderSize)",
                                       reason: "a B-scan header holds at least 60 bytes")
        }
        if headerOnly { return header }
        // All sizes above are bounded, so this cannot overflow; checked before any allocation.
        let expected = header.expectedFileSize
        if !standard && !(expected <= reader.count && reader.count - expected <= allowedTrailing(fileSize: reader.count)) {
            throw OCTError.badMagic(file: file, offset: 0, expected: "\"HSF-OCT-\", or a header whose sizes describe the file (\(expected) bytes described, \(reader.count) in the file)",
                                    found: reader.preview(0, 12))
        }
        guard expected <= reader.count else {
            throw OCTError.truncated(file: file, offset: header.firstBScanOffset, needed: expected - header.firstBScanOffset,
                                     available: max(0, reader.count - header.firstBScanOffset),
                                     what: "\(header.numBScans) B-scans of \(header.sizeX)x\(header.sizeZ) with \(header.bscanHeaderSize)-byte headers")
        }
        return header
    }

    /// Bytes after the last B-scan the reader accepts (with a warning): real exports carry some.
    static func allowedTrailing(fileSize: Int) -> Int { max(4096, fileSize / 100) }

    /// Twelve bytes of printable ASCII, NUL-padded, starting with at least four characters.
    static func versionFieldIsText(_ reader: ByteReader) -> Bool {
        guard reader.count >= 12 else { return false }
        let field = (0..<12).map { reader.bytes[$0] }
        let text = field.prefix { $0 != 0 }
        return text.count >= 4 && text.allSatisfy { (32...126).contains($0) } && field.dropFirst(text.count).allSatisfy { $0 == 0 }
    }

    /// Whether a file without the `HSF-OCT-` signature is a `.vol` nonetheless: named `.vol`, a text
    /// version field, and a header whose sizes describe the file's length (see ``parse``).
    static func recognizesUnsigned(path: String, name: String, size: Int) -> Bool {
        guard name.lowercased().hasSuffix(".vol"), size >= Self.size,
              let prefix = try? LoadedFile(path: path, prefix: Self.size) else { return false }
        let reader = ByteReader(bytes: prefix.bytes, file: path)
        guard !reader.hasPrefix(Array("HSF-OCT-".utf8)), versionFieldIsText(reader),
              let header = try? parse(reader, headerOnly: true) else { return false }
        let expected = header.expectedFileSize
        return expected <= size && size - expected <= allowedTrailing(fileSize: size)
    }
}
