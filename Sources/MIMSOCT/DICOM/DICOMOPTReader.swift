import CDICOM

/// Reads DICOM Ophthalmic Tomography Image Storage objects (SOP class 1.2.840.10008.5.1.4.1.1.77.1.5.4):
/// one multi-frame object, a frame per B-scan, rows along depth, columns along the A-scans.
///
/// The file is first walked by ``DICOMStructure`` (every length against the file, nesting, tag
/// order), the SOP class and image attributes are checked and the decoded size is bounded; only
/// then does GDCM (Debian's libgdcm-dev, through the CDICOM shim) parse the data set and decode the
/// frames, in any transfer syntax it supports (native, JPEG, JPEG-LS, JPEG 2000, RLE).
///
/// Samples become uint8 by one fixed linear rule over the stored range: v → round(v · 255 /
/// (2^BitsStored − 1)), after MONOCHROME1 is inverted (v → 2^BitsStored − 1 − v). A fixed rule, not a
/// per-volume stretch, keeps one intensity meaning one thing across records.
public enum DICOMOPTReader {
    /// Largest volume read, in voxels (= bytes of uint8 output): 1 GiB, four times the largest
    /// OCT cube on the market (1024 x 1024 x 256), so a header cannot make the reader allocate
    /// more than that for a compressed file whose size says nothing about its decoded size.
    public static let maxVoxels = 1 << 30

    public static func read(path: String) throws -> OCTVolume {
        let loaded = try LoadedFile(path: path)
        return try read(bytes: loaded.bytes, file: path)
    }

    public static func read(bytes: UnsafeRawBufferPointer, file: String) throws -> OCTVolume {
        let reader = ByteReader(bytes: bytes, file: file)
        let structure = try DICOMStructure.parse(reader)
        try checkSOPClass(structure, file: file)
        let image = try ImageAttributes(structure, reader)
        try DICOMCodestreams.check(structure, reader, image)
        let object = try DICOMObject(bytes: bytes, file: file, headerOnly: false)
        let samples = try object.decode(image, structure: structure)

        var metadata = OCTMetadata(format: .dicomOPT)
        fill(&metadata, from: object, frames: image.frames)
        let maxValue = (1 << image.bitsStored) - 1
        var low = maxValue, high = 0
        var table = [UInt8](repeating: 0, count: maxValue + 1)
        for v in 0...maxValue {
            let shown = image.inverted ? maxValue - v : v
            table[v] = UInt8((shown * 255 * 2 + maxValue) / (2 * maxValue))
        }
        let count = image.voxels
        var pixels = [UInt8](repeating: 0, count: count)
        let mask = maxValue
        samples.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBufferPointer { out in
                if image.bitsAllocated == 8 {
                    for i in 0..<count {
                        let v = Int(raw[i]) & mask
                        low = min(low, v); high = max(high, v)
                        out[i] = table[v]
                    }
                } else {
                    let words = raw.bindMemory(to: UInt16.self)
                    for i in 0..<count {
                        let v = Int(words[i]) & mask
                        low = min(low, v); high = max(high, v)
                        out[i] = table[v]
                    }
                }
            }
        }
        metadata.valueRange = Double(low)...Double(max(low, high))
        return OCTVolume(width: image.columns, height: image.rows, frameCount: image.frames, pixels: pixels, metadata: metadata)
    }

    /// PatientID (0010,0020), read without decoding pixels.
    public static func headerPatientID(bytes: UnsafeRawBufferPointer, file: String) throws -> String? {
        let structure = try DICOMStructure.parse(ByteReader(bytes: bytes, file: file))
        try checkSOPClass(structure, file: file)
        let object = try DICOMObject(bytes: bytes, file: file, headerOnly: true)
        return object.value([0x0010_0020])
    }

    static func checkSOPClass(_ structure: DICOMStructure, file: String) throws {
        guard let sop = structure.sopClass else {
            throw OCTError.inconsistent(file: file, reason: "no SOPClassUID (0008,0016) or MediaStorageSOPClassUID (0002,0002): cannot tell what the object holds")
        }
        guard sop == DICOMSOPClass.ophthalmicTomography else {
            throw OCTError.invalidField(file: file, field: "SOPClassUID (0008,0016)", offset: structure.sopClassOffset, value: DICOMSOPClass.describe(sop),
                                        reason: "is not an OCT volume; expected Ophthalmic Tomography Image Storage (\(DICOMSOPClass.ophthalmicTomography))")
        }
    }

    // Tags of the metadata, and paths into the functional groups (tag, item, tag, ...).
    private static let shared: UInt32 = 0x5200_9229, perFrame: UInt32 = 0x5200_9230
    private static let pixelMeasures: UInt32 = 0x0028_9110, planePosition: UInt32 = 0x0020_9113
    private static let frameAnatomy: UInt32 = 0x0020_9071, frameContent: UInt32 = 0x0020_9111

    /// The first of `tag` at the top level, in the shared functional groups' `group` macro, or in
    /// the first frame's.
    private static func functional(_ object: DICOMObject, _ group: UInt32, _ tag: UInt32) -> String? {
        object.value([tag]) ?? object.value([shared, 0, group, 0, tag]) ?? object.value([perFrame, 0, group, 0, tag])
    }

    static func fill(_ metadata: inout OCTMetadata, from object: DICOMObject, frames: Int) {
        metadata.patientID = object.value([0x0010_0020]).flatMap { $0.isEmpty ? nil : $0 }
        metadata.visitID = object.value([0x0020_000D]).flatMap { $0.isEmpty ? nil : $0 }
        metadata.scanPattern = [object.value([0x0008_103E]), object.value([0x0018_1030])].compactMap { $0 }.first { !$0.isEmpty }
        let device = [object.value([0x0008_0070]), object.value([0x0008_1090])].compactMap { $0 }.filter { !$0.isEmpty }
        metadata.device = device.isEmpty ? nil : device.joined(separator: " ")

        let side = object.value([0x0020_0062]) ?? object.value([0x0020_0060]) ?? functional(object, frameAnatomy, 0x0020_9072)
        metadata.laterality = side == "R" ? .od : side == "L" ? .os : nil

        if let dateTime = object.value([0x0008_002A]) ?? object.value([perFrame, 0, frameContent, 0, 0x0018_9074]) {
            metadata.acquired = DICOMDateTime.iso8601(dateTime: dateTime)
        }
        if metadata.acquired == nil {
            for (date, time) in [(0x0008_0022, 0x0008_0032), (0x0008_0020, 0x0008_0030)] as [(UInt32, UInt32)] {
                if let day = object.value([date]), let text = DICOMDateTime.iso8601(date: day, time: object.value([time])) {
                    metadata.acquired = text
                    break
                }
            }
        }

        let pixelSpacing = functional(object, pixelMeasures, 0x0028_0030).flatMap(decimals)
        guard let pixelSpacing, pixelSpacing.count == 2, pixelSpacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            metadata.warnings.append("no valid PixelSpacing (0028,0030) at the top level or in the functional groups: spacing unknown")
            return
        }
        var between: Double?
        if let value = functional(object, pixelMeasures, 0x0018_0088).flatMap(decimals)?.first, value > 0, value.isFinite {
            between = value
        } else if frames > 1,
                  let first = object.value([perFrame, 0, planePosition, 0, 0x0020_0032]).flatMap(decimals),
                  let last = object.value([perFrame, UInt32(frames - 1), planePosition, 0, 0x0020_0032]).flatMap(decimals),
                  first.count == 3, last.count == 3 {
            let distance = zip(first, last).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / Double(frames - 1)
            if distance > 0 && distance.isFinite { between = distance }
        }
        if between == nil && frames > 1 {
            metadata.warnings.append("no SpacingBetweenSlices (0018,0088) or per-frame ImagePositionPatient: spacing between B-scans unknown (0)")
        }
        // PixelSpacing is (row spacing, column spacing): rows are depth, columns the A-scans.
        metadata.spacing = VoxelSpacing(depth: pixelSpacing[0], width: pixelSpacing[1], betweenFrames: between ?? 0)
    }

    /// A DS value: decimal strings separated by backslashes; nil when one does not parse.
    static func decimals(_ text: String) -> [Double]? {
        let parts = text.split(separator: "\\", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        let values = parts.compactMap { Double($0) }
        return values.count == parts.count && !values.isEmpty ? values : nil
    }
}
