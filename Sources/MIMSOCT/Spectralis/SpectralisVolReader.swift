import MIMSImage

/// Reads Heidelberg Spectralis `.vol` exports: file header, SLO fundus image, then per B-scan a
/// header (`HSF-BS-10x`: position, quality, layer lines) and SizeZ rows of SizeX float32 in [0, 1].
///
/// Floats become uint8 by ``IntensityTransform`` (default v^0.25 · 255, as Heyex shows them);
/// the invalid-pixel marker 0x7F7FFFFF becomes 0. A few bytes after the last B-scan are accepted
/// with a warning (real exports carry some); more than 4 KiB and 1% of the file is an error.
public enum SpectralisVolReader {
    public static func read(path: String, transform: IntensityTransform = .fourthRoot) throws -> OCTVolume {
        var storage: [UInt8] = []
        return try read(path: path, transform: transform, reusing: &storage)
    }

    /// Reads into `storage`, reusing its memory when it already has the volume's size.
    public static func read(path: String, transform: IntensityTransform = .fourthRoot, reusing storage: inout [UInt8]) throws -> OCTVolume {
        let mapped = try LoadedFile(path: path)
        return try read(bytes: mapped.bytes, file: path, transform: transform, reusing: &storage)
    }

    public static func read(bytes: UnsafeRawBufferPointer, file: String, transform: IntensityTransform = .fourthRoot) throws -> OCTVolume {
        var storage: [UInt8] = []
        return try read(bytes: bytes, file: file, transform: transform, reusing: &storage)
    }

    public static func read(bytes: UnsafeRawBufferPointer, file: String, transform: IntensityTransform = .fourthRoot,
                            reusing storage: inout [UInt8]) throws -> OCTVolume {
        let reader = ByteReader(bytes: bytes, file: file)
        let header = try SpectralisVolHeader.parse(reader)
        // Real exports carry a few unreferenced bytes at the end (132 in Heyex samples). Kilobytes
        // more mean the header's sizes are not the file's: reading would stretch a fraction of
        // the data into wrong B-scans, so that is an error, not a warning.
        let unread = bytes.count - header.expectedFileSize
        if unread > SpectralisVolHeader.allowedTrailing(fileSize: bytes.count) {
            throw OCTError.inconsistent(file: file, reason: "the header (SizeX \(header.sizeX), SizeZ \(header.sizeZ), NumBScans \(header.numBScans), BScanHdrSize \(header.bscanHeaderSize)) describes \(header.expectedFileSize) bytes, but the file holds \(bytes.count): \(unread) bytes (\(100 * unread / bytes.count)%) would go unread")
        }
        var metadata = OCTMetadata(format: .spectralisVol)
        metadata.device = "Heidelberg Engineering Spectralis"  // the header names none; only Spectralis writes .vol
        metadata.spacing = VoxelSpacing(depth: header.scaleZ, width: header.scaleX, betweenFrames: header.distance)
        metadata.laterality = Laterality(rawValue: header.scanPosition)
        metadata.patientID = header.patientID.isEmpty ? nil : header.patientID
        metadata.visitID = header.visitID.isEmpty ? nil : header.visitID
        metadata.scanPattern = header.scanPatternName
        if let version = header.unusualVersion {
            metadata.warnings.append("the version field is \"\(version)\", not HSF-OCT-10x; read as version \(header.version) because the header's sizes describe the file")
        }
        metadata.acquired = WindowsFileTime.iso8601(ticks: header.examTime)
        if header.sizeXSlo > 0 && header.sizeYSlo > 0 {
            let slo = UnsafeRawBufferPointer(rebasing: bytes[SpectralisVolHeader.size..<header.firstBScanOffset])
            metadata.fundus = Frame(width: header.sizeXSlo, height: header.sizeYSlo, channels: 1, pixels: Array(slo))
        }
        let (width, height, frames) = (header.sizeX, header.sizeZ, header.numBScans)
        let frameSize = width * height
        let stride = header.bscanHeaderSize + header.bscanDataSize
        // Headers first (cheap, and every one is validated before any pixel is converted).
        for index in 0..<frames {
            let start = header.firstBScanOffset + index * stride
            // A file with an unusual version string may carry unusual B-scan versions too; its B-scan
            // headers must then at least repeat the file header's BScanHdrSize.
            guard reader.hasPrefix(Array("HSF-BS-".utf8), at: start)
                || (header.unusualVersion != nil && (try? reader.u32(start + 12, "BScanHdrSize")) == UInt32(header.bscanHeaderSize)) else {
                throw OCTError.badMagic(file: file, offset: start, expected: "\"HSF-BS-\" (B-scan \(index) header)", found: reader.preview(start, 8))
            }
            metadata.bscans.append(BScanGeometry(startX: try reader.f64(start + 16, "StartX"), startY: try reader.f64(start + 24, "StartY"),
                                                 endX: try reader.f64(start + 32, "EndX"), endY: try reader.f64(start + 40, "EndY"),
                                                 quality: try reader.f32(start + 56, "Quality")))
            metadata.layers.append(try layerLines(reader, header: header, bscanStart: start, index: index))
        }
        storage.prepare(count: frames * frameSize)
        let first = SharedPointer(raw: bytes.baseAddress! + header.firstBScanOffset + header.bscanHeaderSize)
        let ranges = storage.withUnsafeMutableBytes { out in
            let target = SharedPointer(raw: out.baseAddress!)
            return ParallelFrames.map(count: frames, bytesPerFrame: 4 * frameSize) { part -> ClosedRange<Float>? in
                var range: ClosedRange<Float>? = nil
                for index in part {
                    let frameRange = transform.convert(first.address + index * stride, count: frameSize,
                                                       into: target.address.assumingMemoryBound(to: UInt8.self) + index * frameSize)
                    if let r = frameRange { range = range.map { min($0.lowerBound, r.lowerBound)...max($0.upperBound, r.upperBound) } ?? r }
                }
                return range
            }
        }
        let found = ranges.compactMap { $0 }
        if let low = found.map(\.lowerBound).min(), let high = found.map(\.upperBound).max() {
            metadata.valueRange = Double(low)...Double(high)
        }
        let trailing = bytes.count - header.expectedFileSize
        if trailing > 0 {
            metadata.warnings.append("\(trailing) bytes after the last B-scan are not referenced by any header; ignored")
        }
        return OCTVolume(width: width, height: height, frameCount: frames, pixels: storage, metadata: metadata)
    }

    /// NumSeg lines of SizeX floats at OffSeg within the B-scan header; values ≥ 3e38 mean "none".
    static func layerLines(_ reader: ByteReader, header: SpectralisVolHeader, bscanStart: Int, index: Int) throws -> [[Float]] {
        let numSeg = Int(try reader.u32(bscanStart + 48, "NumSeg"))
        let offSeg = Int(try reader.u32(bscanStart + 52, "OffSeg"))
        guard numSeg > 0 else { return [] }
        let bytesNeeded = numSeg * header.sizeX * 4
        guard numSeg <= 64, offSeg >= 60, offSeg + bytesNeeded <= header.bscanHeaderSize else {
            throw OCTError.invalidField(file: reader.file, field: "NumSeg/OffSeg of B-scan \(index)", offset: bscanStart + 48,
                                       value: "\(numSeg)/\(offSeg)", reason: "layer lines must lie inside the \(header.bscanHeaderSize)-byte B-scan header")
        }
        return (0..<numSeg).map { line in
            (0..<header.sizeX).map { x in
                let bits = UInt32(littleEndian: reader.bytes.loadUnaligned(fromByteOffset: bscanStart + offSeg + 4 * (line * header.sizeX + x), as: UInt32.self))
                let value = Float(bitPattern: bits)
                return value >= 3e38 ? .nan : value
            }
        }
    }
}

/// Windows FILETIME (100 ns ticks since 1601-01-01 UTC) to ISO 8601.
enum WindowsFileTime {
    static func iso8601(ticks: UInt64) -> String? {
        guard ticks > 0 else { return nil }
        let seconds = Int64(ticks / 10_000_000) - 11_644_473_600
        return CivilTime.iso8601(unixSeconds: seconds)
    }
}

/// Days-from-civil arithmetic (proleptic Gregorian), so no Foundation is needed for dates.
enum CivilTime {
    static func iso8601(unixSeconds: Int64) -> String {
        let days = Int64((Double(unixSeconds) / 86_400).rounded(.down))
        let secondsOfDay = unixSeconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60))Z"
    }
}
