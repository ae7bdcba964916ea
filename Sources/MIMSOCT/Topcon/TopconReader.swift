import MIMSImage

/// Reads Topcon `.fds` (raw B-scans) and `.fda` (JPEG 2000 B-scans) exports: the chunk directory of
/// ``TopconContainer``, the B-scans of `@IMG_JPEG`, `@IMG_SCAN_03`, `@IMG_SCAN_02` or
/// `@IMG_MOT_COMP_03`, the fundus (`@IMG_FUNDUS`, `@IMG_OBS`, `@IMG_TRC_02`), and the metadata of
/// `@PATIENT_INFO_02`, `@CAPTURE_INFO_02` / `@CAPTURE_INFO`, `@PARAM_SCAN_04` / `@PARAM_SCAN_02` and
/// `@HW_INFO_0x`. Chunks it does not read are listed in a warning. Layouts, and where the public
/// readers disagree, in docs/OCT.md.
///
/// Samples of more than 8 bits become uint8 by round(v · 255 / (2^bits − 1)), the rule the image
/// decoders use for 16-bit data; 8-bit samples are kept. Frames keep file order and rows are kept as
/// stored (top of the image first), as OCT-Converter, eyepy and LibOctData show them.
public enum TopconReader {
    /// Chunks holding B-scans, in the order they are preferred when a file has several.
    static let bscanChunks = ["@IMG_JPEG", "@IMG_SCAN_03", "@IMG_SCAN_02", "@IMG_MOT_COMP_03"]
    /// Chunks read for metadata (the rest are listed as not read).
    static let metadataChunks: Set<String> = [
        "@PATIENT_INFO_02", "@PATIENT_INFO_03", "@CAPTURE_INFO_02", "@CAPTURE_INFO", "@PARAM_SCAN_04", "@PARAM_SCAN_02",
        "@HW_INFO_03", "@HW_INFO_02", "@HW_INFO_01", "@FDA_FILE_INFO", "@IMG_FUNDUS", "@IMG_OBS", "@IMG_TRC_02", "@CONTOUR_INFO",
    ]

    public static func read(path: String) throws -> OCTVolume {
        let loaded = try LoadedFile(path: path)
        return try read(bytes: loaded.bytes, file: path)
    }

    public static func read(bytes: UnsafeRawBufferPointer, file: String) throws -> OCTVolume {
        let reader = ByteReader(bytes: bytes, file: file)
        let container = try TopconContainer.parse(reader)
        var metadata = OCTMetadata(format: .topcon)
        if let reason = container.stoppedEarly { metadata.warnings.append(reason) }
        guard let scanChunk = bscanChunks.lazy.compactMap({ container.first($0) }).first else {
            throw OCTError.inconsistent(file: file, reason: "no B-scan chunk (\(bscanChunks.joined(separator: ", "))); the file holds \(container.chunks.map(\.name).joined(separator: ", "))")
        }
        let scan = scanChunk.name == "@IMG_JPEG"
            ? try jpeg2000BScans(reader, chunk: scanChunk, warnings: &metadata.warnings)
            : try rawBScans(reader, chunk: scanChunk)
        metadata.valueRange = scan.range
        let mode = Int(try reader.u8(scanChunk.offset, "scan mode of \(scanChunk.name)"))

        let patientID = try readPatient(reader, container, warnings: &metadata.warnings)
        metadata.patientID = patientID
        let capture = try readCapture(reader, container, warnings: &metadata.warnings)
        metadata.laterality = capture.laterality
        metadata.acquired = capture.acquired
        metadata.visitID = capture.session
        let names = [0: "line", 2: "3D", 3: "radial", 4: "cross"]
        let modeName = "\(names[mode] ?? "mode") (\(mode))"
        metadata.scanPattern = capture.label.map { "\($0), \(modeName)" } ?? modeName
        metadata.spacing = try readSpacing(reader, container, width: scan.width, frames: scan.frames, volumeScan: mode == 2,
                                           warnings: &metadata.warnings)
        metadata.device = try readDevice(reader, container)
        metadata.fundus = readFundus(reader, container, warnings: &metadata.warnings)
        metadata.layers = try readContours(reader, container, scan: scan, warnings: &metadata.warnings)

        let otherScans = container.chunks.filter { bscanChunks.contains($0.name) && $0.name != scanChunk.name }
        let unread = container.chunks.filter { !bscanChunks.contains($0.name) && !metadataChunks.contains($0.name) }
        if !otherScans.isEmpty {
            metadata.warnings.append("B-scans read from \(scanChunk.name); \(otherScans.map(\.name).joined(separator: ", ")) not read")
        }
        if !unread.isEmpty {
            metadata.warnings.append("chunks not read: " + unread.map { "\($0.name) (\($0.size) bytes)" }.joined(separator: ", "))
        }
        return OCTVolume(width: scan.width, height: scan.height, frameCount: scan.frames, pixels: scan.pixels, metadata: metadata)
    }

    struct BScans {
        var width: Int, height: Int, frames: Int
        var pixels: [UInt8]
        var range: ClosedRange<Double>?
    }

    static func dimension(_ reader: ByteReader, _ offset: Int, _ field: String, max limit: Int) throws -> Int {
        let value = Int(try reader.u32(offset, field))
        guard value >= 1, value <= limit else {
            throw OCTError.invalidField(file: reader.file, field: field, offset: offset, value: "\(value)", reason: "expected 1 to \(limit)")
        }
        return value
    }

    /// `@IMG_SCAN_03` / `@IMG_MOT_COMP_03`: mode u8, width, height, bits, frames (u32), format u8,
    /// size u32, then the samples (22-byte header); `@IMG_SCAN_02` has a float64 between frames and
    /// format (30 bytes). Sample (row y, column x) of frame f is number (f·height + y)·width + x.
    static func rawBScans(_ reader: ByteReader, chunk: TopconContainer.Chunk) throws -> BScans {
        let at = chunk.offset
        let headerSize = chunk.name == "@IMG_SCAN_02" ? 30 : 22
        try reader.require(at, headerSize, "the \(chunk.name) header")
        guard headerSize <= chunk.size else {
            throw OCTError.truncated(file: reader.file, offset: at, needed: headerSize, available: chunk.size, what: "the \(chunk.name) header inside its chunk")
        }
        let width = try dimension(reader, at + 1, "\(chunk.name) width", max: 1 << 14)
        let height = try dimension(reader, at + 5, "\(chunk.name) height", max: 1 << 14)
        let bits = Int(try reader.u32(at + 9, "\(chunk.name) bits per pixel"))
        let frames = try dimension(reader, at + 13, "\(chunk.name) number of B-scans", max: 1 << 16)
        guard (8...16).contains(bits) else {
            throw OCTError.invalidField(file: reader.file, field: "\(chunk.name) bits per pixel", offset: at + 9, value: "\(bits)", reason: "expected 8 to 16")
        }
        let sampleBytes = bits > 8 ? 2 : 1
        let count = width * height * frames
        let needed = count * sampleBytes  // < 2^45: no overflow
        guard needed <= chunk.size - headerSize else {
            throw OCTError.truncated(file: reader.file, offset: at + headerSize, needed: needed, available: chunk.size - headerSize,
                                     what: "\(frames) B-scans of \(width)x\(height) at \(bits) bits in \(chunk.name)")
        }
        let source = reader.bytes.baseAddress! + at + headerSize
        var pixels = [UInt8](repeating: 0, count: count)
        var low = Int.max, high = Int.min
        if sampleBytes == 1 {
            pixels.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: source, count: count)) }
            for v in pixels { low = min(low, Int(v)); high = max(high, Int(v)) }
        } else {
            let maximum = (1 << bits) - 1
            pixels.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let v = min(Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))), maximum)
                    low = min(low, v)
                    high = max(high, v)
                    out[i] = UInt8((v * 255 + maximum / 2) / maximum)
                }
            }
        }
        return BScans(width: width, height: height, frames: frames, pixels: pixels, range: Double(low)...Double(high))
    }

    /// `@IMG_JPEG`: mode u8, two unknown u32, width, height, frames, one unknown u32 (25 bytes), then
    /// per B-scan a u32 size and a JPEG 2000 codestream of that size.
    static func jpeg2000BScans(_ reader: ByteReader, chunk: TopconContainer.Chunk, warnings: inout [String]) throws -> BScans {
        let at = chunk.offset, end = chunk.offset + chunk.size
        guard chunk.size >= 25 else {
            throw OCTError.truncated(file: reader.file, offset: at, needed: 25, available: chunk.size, what: "the @IMG_JPEG header inside its chunk")
        }
        var width = try dimension(reader, at + 9, "@IMG_JPEG width", max: 1 << 14)
        var height = try dimension(reader, at + 13, "@IMG_JPEG height", max: 1 << 14)
        // Every frame needs at least its 4-byte size and a codestream header: bounds the count.
        let frames = try dimension(reader, at + 17, "@IMG_JPEG number of B-scans", max: min(1 << 16, max(1, (chunk.size - 25) / 8)))
        var cursor = at + 25
        var codestreams: [(offset: Int, size: Int)] = []
        for index in 0..<frames {
            guard cursor + 4 <= end else {
                throw OCTError.truncated(file: reader.file, offset: cursor, needed: 4, available: end - cursor, what: "the size of B-scan \(index) of \(frames) in @IMG_JPEG")
            }
            let size = Int(try reader.u32(cursor, "size of B-scan \(index)"))
            guard size <= end - cursor - 4 else {
                throw OCTError.truncated(file: reader.file, offset: cursor + 4, needed: size, available: end - cursor - 4, what: "JPEG 2000 B-scan \(index) of \(frames) in @IMG_JPEG")
            }
            codestreams.append((cursor + 4, size))
            cursor += 4 + size
        }
        if cursor < end { warnings.append("@IMG_JPEG holds \(end - cursor) bytes after its \(frames) B-scans; ignored") }
        // B-scan 0 fixes the size (headers have been seen to disagree with their codestreams); the
        // rest decode over the cores into their own slices of one buffer.
        let first = try decodeFrame(reader, index: 0, stream: codestreams[0])
        if first.width != width || first.height != height {
            warnings.append("@IMG_JPEG declares \(width)x\(height) B-scans, its codestreams hold \(first.width)x\(first.height); the codestreams' size is used")
            (width, height) = (first.width, first.height)
        }
        let frameSize = width * height
        guard frameSize * frames <= 1 << 31 else {
            throw OCTError.invalidField(file: reader.file, field: "@IMG_JPEG size", offset: at + 9, value: "\(width)x\(height)x\(frames)", reason: "larger than 2 GiB")
        }
        var pixels = [UInt8](repeating: 0, count: frameSize * frames)
        let base = SharedPointer(raw: reader.bytes.baseAddress!)
        let (file, total, size) = (reader.file, reader.count, (width: width, height: height))
        let streams = codestreams
        let parts = pixels.withUnsafeMutableBytes { out -> [Result<ClosedRange<Int>, OCTError>] in
            let target = SharedPointer(raw: out.baseAddress!)
            return ParallelFrames.map(count: frames, bytesPerFrame: 4 * frameSize) { range in
                let reader = ByteReader(bytes: UnsafeRawBufferPointer(start: base.address, count: total), file: file)
                var low = Int.max, high = Int.min
                for index in range {
                    do {
                        let frame = index == 0 ? first : try decodeFrame(reader, index: index, stream: streams[index])
                        guard frame.width == size.width, frame.height == size.height else {
                            throw OCTError.inconsistent(file: file, reason: "B-scan \(index) at offset \(streams[index].offset) is \(frame.width)x\(frame.height), B-scan 0 is \(size.width)x\(size.height)")
                        }
                        low = min(low, frame.low)
                        high = max(high, frame.high)
                        frame.pixels.withUnsafeBytes { (target.address + index * frameSize).copyMemory(from: $0.baseAddress!, byteCount: frameSize) }
                    } catch let error as OCTError {
                        return .failure(error)
                    } catch {
                        return .failure(.unreadable(file: file, reason: "B-scan \(index): \(error)"))
                    }
                }
                return .success(low...high)
            }
        }
        var low = Int.max, high = Int.min
        for part in parts {
            let range = try part.get()
            low = min(low, range.lowerBound)
            high = max(high, range.upperBound)
        }
        return BScans(width: width, height: height, frames: frames, pixels: pixels, range: Double(low)...Double(high))
    }

    /// One decoded JPEG 2000 B-scan as uint8 rows, and its raw value range.
    struct DecodedFrame {
        var width: Int, height: Int
        var pixels: [UInt8]
        var low: Int, high: Int
    }

    static func decodeFrame(_ reader: ByteReader, index: Int, stream: (offset: Int, size: Int)) throws -> DecodedFrame {
        let what = "\(reader.file): B-scan \(index) at offset \(stream.offset)"
        let decoded: (image: DecodedImage, precision: Int)
        do {
            decoded = try JPEG2000Decoder.decode(UnsafeRawBufferPointer(rebasing: reader.bytes[stream.offset..<stream.offset + stream.size]), file: what,
                                                 limits: DecodeLimits(maxPixels: 1 << 28, maxOutputBytes: (1 << 14) * (1 << 14) * 2))
        } catch let error as ImageError {
            throw OCTError.invalidField(file: reader.file, field: "JPEG 2000 B-scan \(index)", offset: stream.offset, value: "\(stream.size) bytes",
                                        reason: "\(error)".replacingPrefix(what + ": ", with: ""))
        }
        let image = decoded.image
        guard image.channels == 1 else {
            throw OCTError.invalidField(file: reader.file, field: "JPEG 2000 B-scan \(index)", offset: stream.offset, value: "\(image.channels) components",
                                        reason: "a B-scan is gray (1 component)")
        }
        var low = Int.max, high = Int.min
        let pixels: [UInt8]
        switch image.samples {
        case let .uint8(samples):
            for v in samples { low = min(low, Int(v)); high = max(high, Int(v)) }
            pixels = samples
        case let .uint16(samples):
            let maximum = (1 << decoded.precision) - 1
            pixels = samples.map { v in
                low = min(low, Int(v)); high = max(high, Int(v))
                return UInt8((min(Int(v), maximum) * 255 + maximum / 2) / maximum)
            }
        }
        return DecodedFrame(width: image.width, height: image.height, pixels: pixels, low: low, high: high)
    }

    /// `@PATIENT_INFO_02`: the id in its first 32 bytes. `@PATIENT_INFO_03` is encrypted.
    static func readPatient(_ reader: ByteReader, _ container: TopconContainer, warnings: inout [String]) throws -> String? {
        if let chunk = container.first("@PATIENT_INFO_02") {
            guard chunk.size >= 32 else {
                throw OCTError.truncated(file: reader.file, offset: chunk.offset, needed: 32, available: chunk.size, what: "the patient id of @PATIENT_INFO_02")
            }
            let id = try reader.string(chunk.offset, 32, "patient id")
            return id.isEmpty ? nil : id
        }
        if container.first("@PATIENT_INFO_03") != nil {
            warnings.append("@PATIENT_INFO_03 holds the patient id encrypted; not read")
        }
        return nil
    }

    struct Capture {
        var laterality: Laterality?
        var acquired: String?
        var session: String?
        var label: String?
    }

    /// `@CAPTURE_INFO_02`: eye u8 (0 right, 1 left), mode u8, session u32, label (100 bytes), then
    /// year, month, day, hour, minute, second as u16 (at 106); `@CAPTURE_INFO`: eye u8, the date at 1.
    static func readCapture(_ reader: ByteReader, _ container: TopconContainer, warnings: inout [String]) throws -> Capture {
        var capture = Capture()
        let chunk: TopconContainer.Chunk, dateAt: Int
        if let c = container.first("@CAPTURE_INFO_02") { (chunk, dateAt) = (c, 106) }
        else if let c = container.first("@CAPTURE_INFO") { (chunk, dateAt) = (c, 1) }
        else { return capture }
        guard chunk.size >= dateAt + 12 else {
            throw OCTError.truncated(file: reader.file, offset: chunk.offset, needed: dateAt + 12, available: chunk.size, what: "the eye and date of \(chunk.name)")
        }
        let eye = try reader.u8(chunk.offset, "eye")
        switch eye {
        case 0: capture.laterality = .od
        case 1: capture.laterality = .os
        default: warnings.append("\(chunk.name) at offset \(chunk.offset) records eye \(eye) (0 right, 1 left); laterality left empty")
        }
        if dateAt == 106 {
            let session = try reader.u32(chunk.offset + 2, "session id")
            if session != 0 { capture.session = "\(session)" }
            let label = try reader.string(chunk.offset + 6, 100, "capture label")
            if !label.isEmpty { capture.label = label }
        }
        var parts: [Int] = []
        for i in 0..<6 { parts.append(Int(try reader.u16(chunk.offset + dateAt + 2 * i, "capture date"))) }
        let valid = (1900...2200).contains(parts[0]) && (1...12).contains(parts[1]) && (1...31).contains(parts[2])
            && parts[3] < 24 && parts[4] < 60 && parts[5] < 61
        if valid {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            // The device's clock, with no zone recorded: no "Z".
            capture.acquired = "\(parts[0])-\(two(parts[1]))-\(two(parts[2]))T\(two(parts[3])):\(two(parts[4])):\(two(parts[5]))"
        } else if parts.contains(where: { $0 != 0 }) {
            warnings.append("\(chunk.name) at offset \(chunk.offset + dateAt) records the date \(parts.map(String.init).joined(separator: "-")), not a valid date; left empty")
        }
        return capture
    }

    /// `@PARAM_SCAN_04`: three u32, then the scan width and length in mm and the axial resolution in
    /// µm as float64 (at 12, 20, 28); `@PARAM_SCAN_02` has them at 21, 29, 37.
    static func readSpacing(_ reader: ByteReader, _ container: TopconContainer, width: Int, frames: Int, volumeScan: Bool,
                            warnings: inout [String]) throws -> VoxelSpacing? {
        let chunk: TopconContainer.Chunk, first: Int
        if let c = container.first("@PARAM_SCAN_04") { (chunk, first) = (c, 12) }
        else if let c = container.first("@PARAM_SCAN_02") { (chunk, first) = (c, 21) }
        else { return nil }
        guard chunk.size >= first + 24 else {
            throw OCTError.truncated(file: reader.file, offset: chunk.offset, needed: first + 24, available: chunk.size, what: "the scan size of \(chunk.name)")
        }
        let x = try reader.f64(chunk.offset + first, "scan width (mm)")
        let y = try reader.f64(chunk.offset + first + 8, "scan length (mm)")
        let z = try reader.f64(chunk.offset + first + 16, "axial resolution (µm)")
        guard x.isFinite, y.isFinite, z.isFinite, x > 0, x < 100, y >= 0, y < 100, z > 0, z < 1000 else {
            warnings.append("\(chunk.name) at offset \(chunk.offset + first) records scan \(x) x \(y) mm, axial \(z) µm: implausible, spacing left empty")
            return nil
        }
        return VoxelSpacing(depth: z / 1000, width: x / Double(width), betweenFrames: volumeScan && frames > 1 ? y / Double(frames) : 0)
    }

    /// `@CONTOUR_INFO`, one chunk per layer boundary: id (20 bytes, e.g. `MULTILAYERS_1`, the ILM),
    /// method u8, format u8, width u32, frames u32, size u32 (34 bytes), then frames x width uint16
    /// heights counted from the bottom of the B-scan, last B-scan first (OCT-Converter flips the
    /// frame axis, LibOctData counts frames down). Lines come in chunk order; a chunk of another
    /// format or shape is named in a warning and skipped.
    static func readContours(_ reader: ByteReader, _ container: TopconContainer, scan: BScans, warnings: inout [String]) throws -> [[[Float]]] {
        let chunks = container.chunks.filter { $0.name == "@CONTOUR_INFO" }
        guard !chunks.isEmpty else { return [] }
        var layers = [[[Float]]](repeating: [], count: scan.frames)
        for chunk in chunks {
            guard chunk.size >= 34 else {
                warnings.append("@CONTOUR_INFO at offset \(chunk.offset) holds \(chunk.size) bytes, less than its 34-byte header; skipped")
                continue
            }
            let id = try reader.string(chunk.offset, 20, "contour id")
            let format = try reader.u8(chunk.offset + 21, "contour format")
            let width = Int(try reader.u32(chunk.offset + 22, "contour width"))
            let frames = Int(try reader.u32(chunk.offset + 26, "contour frames"))
            // Shape equal to the volume's (already bounded), so the lines cost no more than the B-scans.
            guard format == 0, width == scan.width, frames == scan.frames, 34 + 2 * width * frames <= chunk.size else {
                warnings.append("@CONTOUR_INFO \"\(id)\" at offset \(chunk.offset) is format \(format), \(width) x \(frames) in \(chunk.size) bytes, not uint16 lines of the \(scan.width) x \(scan.frames) volume; skipped")
                continue
            }
            let values = reader.bytes.baseAddress! + chunk.offset + 34
            for frame in 0..<frames {
                let stored = frames - 1 - frame
                layers[frame].append((0..<width).map { x in
                    Float(scan.height) - Float(UInt16(littleEndian: values.loadUnaligned(fromByteOffset: 2 * (stored * width + x), as: UInt16.self)))
                })
            }
        }
        return layers.allSatisfy(\.isEmpty) ? [] : layers
    }

    /// `@HW_INFO_0x`: the model name in the first 16 bytes.
    static func readDevice(_ reader: ByteReader, _ container: TopconContainer) throws -> String? {
        guard let chunk = ["@HW_INFO_03", "@HW_INFO_02", "@HW_INFO_01"].lazy.compactMap({ container.first($0) }).first, chunk.size >= 16 else { return nil }
        let model = try reader.string(chunk.offset, 16, "model name")
        return model.isEmpty ? "Topcon" : "Topcon \(model)"
    }

    /// The colour fundus (`@IMG_FUNDUS`, 24-byte header, JPEG or JPEG 2000 data, stored BGR), the raw
    /// fundus of `.fds` (`@IMG_OBS`, 21-byte header, BGR bytes) or the gray localizer (`@IMG_TRC_02`,
    /// 21-byte header, JPEG or JPEG 2000). A damaged fundus is a warning: the B-scans stand alone.
    static func readFundus(_ reader: ByteReader, _ container: TopconContainer, warnings: inout [String]) -> Frame? {
        for (name, headerSize) in [("@IMG_FUNDUS", 24), ("@IMG_OBS", 21), ("@IMG_TRC_02", 21)] {
            guard let chunk = container.first(name) else { continue }
            do {
                return try fundus(reader, chunk: chunk, headerSize: headerSize)
            } catch {
                warnings.append("fundus image of \(name) not read: \(error)")
            }
        }
        return nil
    }

    static func fundus(_ reader: ByteReader, chunk: TopconContainer.Chunk, headerSize: Int) throws -> Frame {
        guard chunk.size >= headerSize else {
            throw OCTError.truncated(file: reader.file, offset: chunk.offset, needed: headerSize, available: chunk.size, what: "the \(chunk.name) header")
        }
        let width = try dimension(reader, chunk.offset, "\(chunk.name) width", max: 1 << 14)
        let height = try dimension(reader, chunk.offset + 4, "\(chunk.name) height", max: 1 << 14)
        let size = Int(try reader.u32(chunk.offset + headerSize - 4, "\(chunk.name) image size"))
        guard size <= chunk.size - headerSize else {
            throw OCTError.truncated(file: reader.file, offset: chunk.offset + headerSize, needed: size, available: chunk.size - headerSize, what: "the \(chunk.name) image")
        }
        let data = UnsafeRawBufferPointer(rebasing: reader.bytes[(chunk.offset + headerSize)..<(chunk.offset + headerSize + size)])
        let head = Array(data.prefix(4))
        var frame: Frame
        if head.starts(with: [0xFF, 0xD8, 0xFF]) {
            let image = try JPEGDecoder.decode(Array(data), file: "\(reader.file) \(chunk.name)")
            frame = try image.frame(channels: image.channels == 1 ? 1 : 3)
        } else if head == [0xFF, 0x4F, 0xFF, 0x51] || head == [0, 0, 0, 0x0C] {
            let decoded = try JPEG2000Decoder.decode(data, file: "\(reader.file) \(chunk.name)")
            frame = try decoded.image.frame(channels: decoded.image.channels)
        } else if size == width * height * 3 {
            frame = Frame(width: width, height: height, channels: 3, pixels: Array(data))
        } else if size == width * height {
            return Frame(width: width, height: height, channels: 1, pixels: Array(data))
        } else {
            throw OCTError.invalidField(file: reader.file, field: "\(chunk.name) image size", offset: chunk.offset + headerSize - 4, value: "\(size)",
                                       reason: "neither JPEG, JPEG 2000 nor raw \(width)x\(height) gray or BGR")
        }
        if frame.channels == 3 {
            // Stored blue, green, red (as OCT-Converter reads it); frames are RGB.
            frame.pixels.withUnsafeMutableBufferPointer { p in
                for i in stride(from: 0, to: p.count, by: 3) { p.swapAt(i, i + 2) }
            }
        }
        return frame
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
