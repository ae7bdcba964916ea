import MIMSImage

/// Reads Heidelberg `.E2E` / `.sdb` containers: a `CMDb` file whose directory chunks (`MDbMDir`,
/// linked backwards through `prev`) list data containers (`MDbData`). Image containers (type
/// 0x40000000) hold B-scans as 16-bit ufloat (see ``UFloat16``) and fundus images as uint8; type 9
/// holds the patient, types 11 and 3 the laterality.
///
/// When the directory pointers dangle (they do in real exports), the reader falls back to finding
/// the `MDbData` marker at every byte offset. It never skips ahead by a container's size field: a
/// container whose declared size runs past the end of the file is cut to what its image header
/// needs, with a warning, and the scan goes on.
public enum HeidelbergE2EReader {
    static let imageType: UInt32 = 0x4000_0000
    static let bscanKind: UInt32 = 35_652_097
    static let fundusKind: UInt32 = 33_620_481
    static let containerHeaderSize = 60
    static let maxImagePixels = 1 << 26

    /// Every volume (series with B-scans) in the file, in series order.
    public static func read(path: String, transform: IntensityTransform = .fourthRoot) throws -> [OCTVolume] {
        let mapped = try LoadedFile(path: path)
        return try read(bytes: mapped.bytes, file: path, transform: transform)
    }

    struct Key: Hashable, Comparable {
        var patient: Int32, study: Int32, series: Int32
        static func < (a: Key, b: Key) -> Bool { (a.patient, a.study, a.series) < (b.patient, b.study, b.series) }
    }

    struct Image {
        var key: Key
        var slice: Int32
        var kind: UInt32
        var height: Int
        var width: Int
        var dataOffset: Int
    }

    public static func read(bytes: UnsafeRawBufferPointer, file: String, transform: IntensityTransform = .fourthRoot) throws -> [OCTVolume] {
        let reader = ByteReader(bytes: bytes, file: file)
        guard reader.count > 0 else { throw OCTError.empty(file: file) }
        guard reader.hasPrefix(Array("CMDb".utf8)) else {
            throw OCTError.badMagic(file: file, offset: 0, expected: "\"CMDb\"", found: reader.preview(0, 4))
        }
        var warnings: [String] = []
        var offsets = try directoryContainers(reader, warnings: &warnings)
        if offsets.isEmpty {
            offsets = scanForContainers(reader)
        }
        var images: [Image] = []
        var lateralityOfSeries: [Key: Laterality] = [:]
        var lateralityOfPatient: [Int32: Laterality] = [:]
        var patientIDs: [Int32: String] = [:]
        var seen = Set<Int>()
        for offset in offsets.sorted() where seen.insert(offset).inserted {
            try parseContainer(reader, at: offset, images: &images, warnings: &warnings) { key, type, payload, size in
                switch type {
                case 9 where size >= 127:
                    let id = try reader.string(payload + 102, min(25, size - 102), "patient id")
                    if !id.isEmpty { patientIDs[key.patient] = id }
                case 11 where size >= 15, 3 where size >= 5:
                    let code = try reader.u8(payload + (type == 11 ? 14 : 4), "laterality")
                    if let side: Laterality = code == 82 ? .od : code == 76 ? .os : nil {
                        lateralityOfSeries[key] = side
                        lateralityOfPatient[key.patient] = side
                    }
                default: break
                }
            }
        }
        let bscans = images.filter { $0.kind == bscanKind }
        guard !bscans.isEmpty else {
            throw OCTError.unrecognized(file: file, reason: "no B-scan images found in \(offsets.count) data containers")
        }
        let table = transform == .fourthRoot ? UFloat16.fourthRootTable : UFloat16.logTable
        var volumes: [OCTVolume] = []
        for key in Set(bscans.map(\.key)).sorted() {
            let frames = bscans.filter { $0.key == key }.sorted { $0.slice < $1.slice }
            let (width, height) = (frames[0].width, frames[0].height)
            guard frames.allSatisfy({ $0.width == width && $0.height == height }) else {
                throw OCTError.inconsistent(file: file, reason: "B-scans of series \(key.series) differ in size")
            }
            var low = UInt16.max, high = UInt16.min
            var pixels = [UInt8](repeating: 0, count: frames.count * width * height)
            table.withUnsafeBufferPointer { lut in
                pixels.withUnsafeMutableBufferPointer { out in
                    for (index, frame) in frames.enumerated() {
                        for i in 0..<width * height {
                            let raw = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: frame.dataOffset + 2 * i, as: UInt16.self))
                            out[index * width * height + i] = lut[Int(raw)]
                            low = min(low, raw)
                            high = max(high, raw)
                        }
                    }
                }
            }
            var metadata = OCTMetadata(format: .heidelbergE2E)
            metadata.device = "Heidelberg Engineering"  // the device chunk is not decoded; Heyex writes E2E
            metadata.laterality = lateralityOfSeries[key] ?? lateralityOfPatient[key.patient]
            metadata.patientID = patientIDs[key.patient] ?? String(key.patient)
            metadata.visitID = String(key.study)
            metadata.scanPattern = "series \(key.series), \(frames.count) B-scan\(frames.count == 1 ? "" : "s")"
            metadata.valueRange = UFloat16.value(low)...UFloat16.value(high)
            if let fundus = images.first(where: { $0.key == key && $0.kind == fundusKind }) {
                let count = fundus.width * fundus.height
                metadata.fundus = Frame(width: fundus.width, height: fundus.height, channels: 1,
                                        pixels: Array(UnsafeRawBufferPointer(rebasing: bytes[fundus.dataOffset..<fundus.dataOffset + count])))
            }
            metadata.warnings = warnings
            volumes.append(OCTVolume(width: width, height: height, frameCount: frames.count, pixels: pixels, metadata: metadata))
        }
        return volumes
    }

    /// Container offsets listed by the directory chunks, or [] when the directory cannot be trusted
    /// (pointers past the end of the file), with a warning that the file will be scanned instead.
    static func directoryContainers(_ reader: ByteReader, warnings: inout [String]) throws -> [Int] {
        let file = reader.file
        let main = 36
        guard reader.hasPrefix(Array("MDbMDir".utf8), at: main) else {
            warnings.append("no main directory at offset 36; scanned the file for MDbData markers")
            return []
        }
        let current = Int(try reader.u32(main + 40, "main directory 'current'"))
        var position = Int(try reader.u32(main + 44, "main directory 'prev'"))
        if current >= reader.count || position >= reader.count || position == 0 {
            warnings.append("directory pointers dangle (current \(current), prev \(position), file \(reader.count) bytes); scanned the file for MDbData markers")
            return []
        }
        var offsets: [Int] = []
        var visited = Set<Int>()
        while position != 0 {
            guard visited.insert(position).inserted else {
                throw OCTError.inconsistent(file: file, reason: "directory loop: chunk at offset \(position) is reached twice")
            }
            guard reader.hasPrefix(Array("MDbMDir".utf8), at: position) else {
                warnings.append("directory chunk expected at offset \(position) is missing; scanned the file for MDbData markers")
                return []
            }
            let entries = Int(try reader.u32(position + 36, "directory entry count"))
            try reader.require(position + 52, entries * 44, "\(entries) directory entries")
            for entry in 0..<entries {
                let folder = position + 52 + 44 * entry
                let start = Int(try reader.u32(folder + 4, "folder start"))
                let type = try reader.u32(folder + 36, "folder type")
                if start == 0 || type == 0 { continue }
                guard start < reader.count else {
                    warnings.append("directory entry at offset \(folder) points past the end; scanned the file for MDbData markers")
                    return []
                }
                offsets.append(start)
            }
            let previous = Int(try reader.u32(position + 44, "directory 'prev'"))
            guard previous < reader.count else {
                warnings.append("directory 'prev' at offset \(position + 44) points past the end; scanned the file for MDbData markers")
                return []
            }
            position = previous
        }
        return offsets
    }

    /// Offsets of every "MDbData\0" marker.
    static func scanForContainers(_ reader: ByteReader) -> [Int] {
        let marker: [UInt8] = Array("MDbData".utf8) + [0]
        var result: [Int] = []
        let bytes = reader.bytes
        guard bytes.count >= marker.count else { return [] }
        var offset = 0
        let last = bytes.count - marker.count
        while offset <= last {
            if bytes[offset] == 0x4D && reader.hasPrefix(marker, at: offset) { result.append(offset) }
            offset += 1
        }
        return result
    }

    /// Parses one data container: images are recorded; other types go to `other` with their payload.
    static func parseContainer(_ reader: ByteReader, at offset: Int, images: inout [Image], warnings: inout [String],
                               other: (Key, UInt32, Int, Int) throws -> Void) throws {
        let file = reader.file
        guard reader.hasPrefix(Array("MDbData".utf8), at: offset) else {
            throw OCTError.badMagic(file: file, offset: offset, expected: "\"MDbData\"", found: reader.preview(offset, 7))
        }
        try reader.require(offset, containerHeaderSize, "data container header")
        let declared = Int(try reader.u32(offset + 24, "container size"))
        let key = Key(patient: try reader.i32(offset + 32, "patient id"), study: try reader.i32(offset + 36, "study id"),
                      series: try reader.i32(offset + 40, "series id"))
        let slice = try reader.i32(offset + 44, "slice id")
        let type = try reader.u32(offset + 52, "container type")
        let payload = offset + containerHeaderSize
        let available = reader.count - payload
        guard type == imageType else {
            try other(key, type, payload, min(declared, available))
            return
        }
        let kind = try reader.u32(payload + 4, "image type")
        let height = Int(try reader.u32(payload + 12, "image height"))
        let width = Int(try reader.u32(payload + 16, "image width"))
        guard kind == bscanKind || kind == fundusKind else { return }  // other image kinds are not used
        guard height > 0, width > 0, height <= 1 << 16, width <= 1 << 16, height * width <= maxImagePixels else {
            throw OCTError.invalidField(file: file, field: "image size", offset: payload + 12, value: "\(width)x\(height)",
                                       reason: "not a plausible image size")
        }
        let needed = 20 + height * width * (kind == bscanKind ? 2 : 1)
        try reader.require(payload, needed, "\(width)x\(height) image of the container at offset \(offset)")
        if declared > available {
            warnings.append("container at offset \(offset) declares \(declared) bytes, past the end of the file; cut to the \(needed) bytes its \(width)x\(height) image header needs")
        } else if declared < needed {
            throw OCTError.inconsistent(file: file, reason: "container at offset \(offset) declares \(declared) bytes but its \(width)x\(height) image needs \(needed)")
        }
        images.append(Image(key: key, slice: slice, kind: kind, height: height, width: width, dataOffset: payload + 20))
    }
}
