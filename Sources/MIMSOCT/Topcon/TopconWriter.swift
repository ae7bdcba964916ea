import MIMSImage

/// Writes Topcon `.fds` (raw `@IMG_SCAN_03`, raw BGR `@IMG_OBS`) and `.fda` (lossless JPEG 2000
/// `@IMG_JPEG` and `@IMG_FUNDUS`) files in the layout ``TopconReader`` documents, with the metadata
/// chunks at the full sizes OCT-Converter's structures expect; for tests and synthetic data.
public struct TopconWriter {
    public enum Kind: Sendable { case fds, fda }

    public var kind: Kind
    public var width: Int
    public var height: Int
    /// `frames * height * width` samples, frame after frame, row after row.
    public var samples: [UInt16]
    /// 8 (one byte per sample) or 9-16 (two bytes, little-endian in `.fds`).
    public var bitsPerPixel: Int
    /// RGB or gray fundus, written BGR as Topcon stores it.
    public var fundus: Frame?
    public var scanMode: UInt8 = 2
    /// 0 right, 1 left (written as is, so tests can write invalid values).
    public var eye: UInt8 = 1
    public var patientID = "TOP-0042"
    /// Year, month, day, hour, minute, second.
    public var captureDate: [UInt16] = [2023, 11, 7, 14, 5, 9]
    public var sessionID: UInt32 = 318
    public var label = "Macula 3D"
    public var scanSize = (x: 6.0, y: 6.0)
    public var axialResolutionMicrons = 2.6
    public var model = "3D OCT-2000"
    /// Layer boundaries as `@CONTOUR_INFO` chunks: per line an id and `frames * width` depths from
    /// the top (frame after frame, in acquisition order); written as Topcon stores them, heights
    /// from the bottom, last frame first.
    public var contours: [(id: String, depths: [UInt16])] = []
    /// Chunks written after the known ones (readers skip and list them).
    public var extraChunks: [(name: String, data: [UInt8])] = [("@REPORT_INFO", [UInt8](repeating: 7, count: 30))]
    /// OCT-Converter stops at a zero name length and fails at a bare end of file.
    public var terminator = true

    public init(kind: Kind, width: Int, height: Int, samples: [UInt16], bitsPerPixel: Int = 16, fundus: Frame? = nil) {
        self.kind = kind
        self.width = width
        self.height = height
        self.samples = samples
        self.bitsPerPixel = bitsPerPixel
        self.fundus = fundus
    }

    public var frames: Int { samples.count / (width * height) }

    public func bytes() throws -> [UInt8] {
        var out = Array("FOCT".utf8) + Array((kind == .fda ? "FDA" : "FDS").utf8)
        Self.put(UInt32(800), &out)
        Self.put(UInt32(3), &out)
        func chunk(_ name: String, _ data: [UInt8]) {
            out.append(UInt8(name.utf8.count))
            out += Array(name.utf8)
            Self.put(UInt32(data.count), &out)
            out += data
        }
        var fileInfo: [UInt8] = []
        Self.put(UInt32(2), &fileInfo)
        Self.put(UInt32(1000), &fileInfo)
        fileInfo += Self.text("8.0.1.20198", 32)
        chunk("@FDA_FILE_INFO", fileInfo)

        var hardware = Self.text(model, 16) + Self.text("SN-1234", 16) + Self.text("SP-9", 16) + Self.text("1.2.3", 16) + Self.text("", 16)
        for value in [2020, 1, 2, 3, 4, 2020, 5, 6, 7, 8] as [UInt16] { Self.put(value, &hardware) }
        chunk("@HW_INFO_03", hardware)

        var patient = Self.text(patientID, 32) + Self.text("Ada", 32) + Self.text("Lovelace", 32) + Self.text("", 8) + [2]
        for value in [1970, 6, 15] as [UInt16] { Self.put(value, &patient) }
        patient += [UInt8](repeating: 0, count: 615 - patient.count)
        chunk("@PATIENT_INFO_02", patient)

        var capture = [eye, scanMode]
        Self.put(sessionID, &capture)
        capture += Self.text(label, 100)
        for value in captureDate { Self.put(value, &capture) }
        chunk("@CAPTURE_INFO_02", capture)

        var parameters: [UInt8] = []
        for value in [0, 0, 0] as [UInt32] { Self.put(value, &parameters) }
        for value in [scanSize.x, scanSize.y, axialResolutionMicrons, 0, 0] { Self.put(value.bitPattern, &parameters) }
        parameters += [0, 0]
        chunk("@PARAM_SCAN_04", parameters)

        let wide = bitsPerPixel > 8
        switch kind {
        case .fds:
            var scan = [scanMode]
            for value in [width, height, bitsPerPixel, frames] { Self.put(UInt32(value), &scan) }
            scan.append(0)
            Self.put(UInt32(samples.count * (wide ? 2 : 1)), &scan)
            scan.reserveCapacity(scan.count + samples.count * 2)
            for value in samples {
                if wide { Self.put(value, &scan) } else { scan.append(UInt8(truncatingIfNeeded: value)) }
            }
            chunk("@IMG_SCAN_03", scan)
            if let fundus {
                var obs: [UInt8] = []
                for value in [fundus.width, fundus.height, 8 * fundus.channels, 1] { Self.put(UInt32(value), &obs) }
                obs.append(0)
                let pixels = Self.bgr(fundus)
                Self.put(UInt32(pixels.count), &obs)
                chunk("@IMG_OBS", obs + pixels)
            }
        case .fda:
            var scan = [scanMode]
            for value in [0, 0, width, height, frames, 0] { Self.put(UInt32(value), &scan) }
            let frameSize = width * height
            for index in 0..<frames {
                let part = Array(samples[index * frameSize..<(index + 1) * frameSize])
                let stream = wide ? try JPEG2000Encoder.encode16(part, width: width, height: height)
                    : try JPEG2000Encoder.encode(Frame(width: width, height: height, channels: 1, pixels: part.map { UInt8(truncatingIfNeeded: $0) }))
                Self.put(UInt32(stream.count), &scan)
                scan += stream
            }
            chunk("@IMG_JPEG", scan)
            if let fundus {
                var image: [UInt8] = []
                for value in [fundus.width, fundus.height, 8 * fundus.channels, 1] { Self.put(UInt32(value), &image) }
                image += Self.text("J2K", 4)
                let stream = try JPEG2000Encoder.encode(Frame(width: fundus.width, height: fundus.height, channels: fundus.channels, pixels: Self.bgr(fundus)))
                Self.put(UInt32(stream.count), &image)
                chunk("@IMG_FUNDUS", image + stream)
            }
        }
        for line in contours {
            var data = Self.text(line.id, 20) + [0, 0]
            for value in [width, frames, 2 * width * frames] { Self.put(UInt32(value), &data) }
            for frame in (0..<frames).reversed() {
                for x in 0..<width { Self.put(UInt16(height) &- line.depths[frame * width + x], &data) }
            }
            chunk("@CONTOUR_INFO", data)
        }
        for extra in extraChunks { chunk(extra.name, extra.data) }
        if terminator { out.append(0) }
        return out
    }

    static func put<T: FixedWidthInteger>(_ value: T, _ buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    static func text(_ value: String, _ width: Int) -> [UInt8] {
        let bytes = Array(value.utf8.prefix(width - 1))
        return bytes + [UInt8](repeating: 0, count: width - bytes.count)
    }

    static func bgr(_ frame: Frame) -> [UInt8] {
        guard frame.channels == 3 else { return frame.pixels }
        var pixels = frame.pixels
        for i in stride(from: 0, to: pixels.count, by: 3) { pixels.swapAt(i, i + 2) }
        return pixels
    }
}
