import CKernels

/// Reads Zeiss Cirrus `cube_z.img` / `cube_raw.img` exports: headerless uint8 voxels.
///
/// The byte of voxel (x = A-scan, z = depth, y = B-scan) is at x + A·(z + D·y): A-scan index fastest,
/// then depth, then B-scan. Cirrus stores each B-scan upside down and mirrored, so each is flipped
/// vertically and horizontally, which for one B-scan's A·D block is exactly a byte reversal.
/// B-scans keep their file order (frame 0 is the first B-scan in the file, the inferior edge of a
/// macular cube).
public enum CirrusImgReader {
    /// Known file sizes for names that do not parse: (A-scans, B-scans, depth).
    public static let knownSizes: [Int: (ascans: Int, bscans: Int, depth: Int)] = [
        67_108_864: (512, 128, 1024), 40_960_000: (200, 200, 1024), 22_020_096: (1024, 21, 1024),
        20_971_520: (4096, 5, 1024), 5_242_880: (1024, 5, 1024),
    ]

    /// Dimensions from the file name, else from the known sizes.
    public static func dimensions(fileName: String, size: Int, file: String) throws -> (ascans: Int, bscans: Int, depth: Int, name: CirrusFileName?) {
        guard size > 0 else { throw OCTError.empty(file: file) }
        if let name = CirrusFileName(fileName) {
            let plane = name.ascans * name.bscans
            guard size % plane == 0 else {
                throw OCTError.inconsistent(file: file, reason: "\(size) bytes is not a whole number of \(name.ascans)x\(name.bscans) planes (file name says \(name.ascans)x\(name.bscans))")
            }
            return (name.ascans, name.bscans, size / plane, name)
        }
        if let known = knownSizes[size] { return (known.ascans, known.bscans, known.depth, nil) }
        throw OCTError.unrecognized(file: file, reason: "name is not a Cirrus export name and \(size) bytes is no known Cirrus volume size")
    }

    public static func read(path: String) throws -> OCTVolume {
        var storage: [UInt8] = []
        return try read(path: path, reusing: &storage)
    }

    /// Reads into `storage`, reusing its memory when it already has the volume's size (a run over
    /// many volumes of one protocol then allocates once).
    public static func read(path: String, reusing storage: inout [UInt8]) throws -> OCTVolume {
        let mapped = try LoadedFile(path: path)
        let fileName = String(path.split(separator: "/").last ?? Substring(path))
        return try read(bytes: mapped.bytes, fileName: fileName, file: path, reusing: &storage)
    }

    public static func read(bytes: UnsafeRawBufferPointer, fileName: String, file: String) throws -> OCTVolume {
        var storage: [UInt8] = []
        return try read(bytes: bytes, fileName: fileName, file: file, reusing: &storage)
    }

    public static func read(bytes: UnsafeRawBufferPointer, fileName: String, file: String,
                            reusing storage: inout [UInt8]) throws -> OCTVolume {
        let dims = try dimensions(fileName: fileName, size: bytes.count, file: file)
        let (a, b, d) = (dims.ascans, dims.bscans, dims.depth)
        let plane = a * d
        storage.prepare(count: bytes.count)
        let source = SharedPointer(raw: bytes.baseAddress!)
        let ranges = storage.withUnsafeMutableBytes { out in
            let target = SharedPointer(raw: out.baseAddress!)
            return ParallelFrames.map(count: b, bytesPerFrame: plane) { frames -> (UInt8, UInt8) in
                var low: UInt8 = 255, high: UInt8 = 0
                for frame in frames {
                    var lo: UInt8 = 0, hi: UInt8 = 0
                    mims_reverse_copy(source.address.assumingMemoryBound(to: UInt8.self) + frame * plane,
                                      target.address.assumingMemoryBound(to: UInt8.self) + frame * plane, plane, &lo, &hi)
                    low = min(low, lo)
                    high = max(high, hi)
                }
                return (low, high)
            }
        }
        let low = ranges.map(\.0).min()!, high = ranges.map(\.1).max()!
        let pixels = storage
        var metadata = OCTMetadata(format: .cirrusImg)
        // The format records no device; only Zeiss Cirrus HD-OCT writes these exports.
        metadata.device = "Carl Zeiss Meditec Cirrus HD-OCT"
        if let name = dims.name {
            metadata.patientID = name.patientID
            metadata.laterality = name.laterality
            metadata.scanPattern = "\(name.protocolName) \(a)x\(b)"
            metadata.acquired = name.acquired
        }
        // Cirrus cubes span 6 x 6 mm laterally and 2 mm in depth (Zeiss's specification).
        if metadata.scanPattern?.contains("Cube") ?? (dims.name == nil && [512, 200].contains(a)) {
            metadata.spacing = VoxelSpacing(depth: 2.0 / Double(d), width: 6.0 / Double(a), betweenFrames: 6.0 / Double(b))
        } else {
            metadata.spacing = VoxelSpacing(depth: 2.0 / Double(d), width: 0, betweenFrames: 0)
        }
        metadata.valueRange = Double(low)...Double(high)
        return OCTVolume(width: a, height: d, frameCount: b, pixels: pixels, metadata: metadata)
    }
}
