import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

/// The DICOM Ophthalmic Tomography reader on objects made by GDCM itself (uncompressed and with
/// its own encoders) and by pydicom, checked against the written samples and against pydicom's
/// independent decoding.
struct DICOMOPTTests {
    /// Syntaxes pydicom decodes with what the tests install (numpy; Pillow for JPEG 2000):
    /// the others are checked against the written samples alone.
    static let pydicomDecodes: Set<String> = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.90"]

    @Test(arguments: ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
                      "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5"], [8, 12])
    func gdcmObjectsRoundTrip(_ syntax: String, _ bits: Int) throws {
        let folder = try TemporaryDirectory()
        var object = GDCMTestObject(syntax: syntax, bitsAllocated: bits > 8 ? 16 : 8, bitsStored: bits)
        if bits > 8 { object.photometric = "MONOCHROME1" }
        object.fillSamples(seed: UInt64(bits) &* 977 &+ UInt64(syntax.utf8.count))
        let path = folder.path + "/object.dcm"
        try object.write(to: path)

        #expect(OCTReader.detect(path: path) == .dicomOPT)
        let volume = try #require(try OCTReader.read(path: path).first)
        #expect(volume.width == object.columns && volume.height == object.rows && volume.frameCount == object.frames)
        #expect(volume.pixels == object.expectedPixels, "\(syntax), \(bits) bits: frames differ from the written samples")
        let written = object.samples.map(Double.init)
        #expect(volume.metadata.valueRange == written.min()!...written.max()!)
        let meta = volume.metadata
        #expect(meta.format == .dicomOPT)
        #expect(meta.patientID == "PAT-0042" && meta.laterality == .od)
        #expect(meta.acquired == "2024-01-31T10:15:00")
        #expect(meta.device == "Carl Zeiss Meditec CIRRUS HD-OCT 5000" && meta.scanPattern == "Macular Cube 512x128")
        #expect(try OCTReader.headerPatientID(path: path) == "PAT-0042")

        // pydicom, on its own, reads the same object.
        let reference = try pydicomReference(path)
        #expect(reference["transfer_syntax"] as? String == syntax)
        if Self.pydicomDecodes.contains(syntax) {
            #expect(sha256(volume.pixels) == reference["sha256"] as? String)
            #expect(reference["value_range"] as? [Double] == [meta.valueRange!.lowerBound, meta.valueRange!.upperBound])
        }
        let spacing = try #require(meta.spacing)
        let pixelSpacing = try #require(reference["pixel_spacing"] as? [Double])
        #expect(spacing.depth == pixelSpacing[0] && spacing.width == pixelSpacing[1])
        #expect(abs(spacing.depth - object.spacing.1) < 1e-9 && abs(spacing.width - object.spacing.0) < 1e-9)
        if let between = reference["spacing_between_slices"] as? Double {
            #expect(spacing.betweenFrames == between)
        }
        #expect(reference["patient_id"] as? String == meta.patientID && reference["study_date"] as? String == "20240131")
        #expect(reference["study_uid"] as? String == meta.visitID)
    }

    /// An object pydicom wrote by itself: implicit VR, MONOCHROME1, 12 of 16 bits, spacing,
    /// laterality and acquisition time only in the functional groups, the distance between
    /// B-scans only in the per-frame positions.
    @Test func pydicomObjectWithFunctionalGroups() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path + "/pydicom.dcm"
        let spec: [String: Any] = [
            "frames": 7, "rows": 160, "columns": 90, "bits_stored": 12, "seed": 5, "patient_id": "P-7", "study_date": "20231105",
            "manufacturer": "Topcon", "model": "3D OCT-2000", "series_description": "3D Macula", "photometric": "MONOCHROME1",
            "pixel_spacing": [0.0026, 0.0234], "slice_spacing": 0.05, "laterality": "L", "acquired": "20231105093012.5+0100",
        ]
        try pydicomWrite(path, spec)
        let reference = try pydicomReference(path)
        let volume = try DICOMOPTReader.read(path: path)
        #expect(volume.width == 90 && volume.height == 160 && volume.frameCount == 7)
        #expect(sha256(volume.pixels) == reference["sha256"] as? String)
        #expect(reference["value_range"] as? [Double] == [volume.metadata.valueRange!.lowerBound, volume.metadata.valueRange!.upperBound])
        let meta = volume.metadata
        #expect(meta.laterality == .os && meta.patientID == "P-7" && meta.device == "Topcon 3D OCT-2000" && meta.scanPattern == "3D Macula")
        #expect(meta.acquired == "2023-11-05T09:30:12+01:00")
        let spacing = try #require(meta.spacing)
        #expect(spacing.depth == 0.0026 && spacing.width == 0.0234)
        let positions = try #require(reference["positions"] as? [[Double]])
        let span = zip(positions.first!, positions.last!).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        #expect(abs(spacing.betweenFrames - span / Double(positions.count - 1)) < 1e-12 && abs(spacing.betweenFrames - 0.05) < 1e-9)
        #expect(meta.warnings.isEmpty)
    }

    /// At the size of a Cirrus macular cube (512 A-scans x 1024 deep x 128 B-scans, 64 MiB), uncompressed
    /// and as JPEG-LS.
    @Test(arguments: ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.80"])
    func realSizeCube(_ syntax: String) throws {
        let folder = try TemporaryDirectory()
        var object = GDCMTestObject(syntax: syntax, columns: 512, rows: 1024, frames: 128)
        object.fillSamples(seed: 128)
        let path = folder.path + "/cube.dcm"
        try object.write(to: path)
        let volume = try DICOMOPTReader.read(path: path)
        #expect(volume.pixels == object.expectedPixels)
        if syntax == "1.2.840.10008.1.2.1" {
            #expect(sha256(volume.pixels) == (try pydicomReference(path))["sha256"] as? String)
        }
    }

    /// Other DICOM objects are refused with their SOP class named, by read and by headerPatientID.
    /// (GDCM writes only classes it knows; the unlisted one is the OP object with its UID patched.)
    @Test(arguments: [("1.2.840.10008.5.1.4.1.1.77.1.5.1", "Ophthalmic Photography 8 Bit Image Storage"),
                      ("1.2.840.10008.5.1.4.1.1.77.1.5.9", "an unlisted SOP class")])
    func otherSOPClassesAreRefusedByName(_ sop: (String, String)) throws {
        let folder = try TemporaryDirectory()
        var object = GDCMTestObject(sopClass: "1.2.840.10008.5.1.4.1.1.77.1.5.1", frames: 1)
        object.fillSamples(seed: 1)
        let path = folder.path + "/other.dcm"
        try object.write(to: path)
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let from = Array(object.sopClass.utf8), to = Array(sop.0.utf8)
        var bytes = written
        for at in 0...(bytes.count - from.count) where Array(bytes[at..<at + from.count]) == from {
            bytes.replaceSubrange(at..<at + from.count, with: to)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(OCTReader.detect(path: path) == .dicomOPT)
        for attempt in [{ _ = try OCTReader.read(path: path) }, { _ = try OCTReader.headerPatientID(path: path) }] {
            do {
                try attempt()
                Issue.record("\(sop.1) was read as an OCT volume")
            } catch let error as OCTError {
                let text = "\(error)"
                #expect(text.hasPrefix(path + ": ") && text.contains("\(sop.1) (\(sop.0))") && text.contains("is not an OCT volume"), "\(text)")
            }
        }
    }

    @Test func otherFilesAreNotDICOM() throws {
        let vol = octFixtures + "/line-willis-0.vol"
        #expect(OCTReader.detect(path: vol) == .spectralisVol)
        #expect(throws: OCTError.badMagic(file: vol, offset: 128, expected: "\"DICM\" (DICOM Part 10 file after the 128-byte preamble)",
                                         found: try readFixture("line-willis-0.vol")[128..<132].withUnsafeBytes { ByteReader(bytes: $0, file: vol).preview(0, 4) })) {
            try OCTReader.read(path: vol, as: .dicomOPT)
        }
    }

    /// Header fields patched to hostile values give typed errors before anything is decoded.
    @Test func hostileSizesGiveTypedErrors() throws {
        let folder = try TemporaryDirectory()
        var object = GDCMTestObject()
        object.fillSamples(seed: 3)
        let path = folder.path + "/native.dcm"
        try object.write(to: path)
        let native = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        object.syntax = "1.2.840.10008.1.2.5"
        try object.write(to: path)
        let rle = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // One frame (12 KiB): a 2-byte length of 0xFFFF runs past its end.
        var single = GDCMTestObject(frames: 1)
        single.fillSamples(seed: 4)
        try single.write(to: path)
        let small = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))

        func read(_ bytes: [UInt8]) throws -> OCTVolume { try bytes.withUnsafeBytes { try DICOMOPTReader.read(bytes: $0, file: "hostile.dcm") } }
        func patched(_ bytes: [UInt8], _ tag: (UInt16, UInt16), _ vr: String, _ value: [UInt8], lengthOnly: Bool = false) throws -> [UInt8] {
            let marker = [UInt8(tag.0 & 0xFF), UInt8(tag.0 >> 8), UInt8(tag.1 & 0xFF), UInt8(tag.1 >> 8)] + Array(vr.utf8)
            let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
            var out = bytes
            let long = ["OB", "OW", "SQ", "UN", "UT"].contains(vr)
            let start = lengthOnly ? at + (long ? 8 : 6) : at + (long ? 12 : 8)
            out.replaceSubrange(start..<start + value.count, with: value)
            return out
        }
        let huge: [UInt8] = [0xFF, 0xFF]
        let cases: [(String, [UInt8], String)] = [
            ("rows and columns of 65535", try patched(try patched(native, (0x0028, 0x0010), "US", huge), (0x0028, 0x0011), "US", huge), "Mi voxels"),
            ("rows of 65535", try patched(native, (0x0028, 0x0010), "US", huge), "truncated: native pixel data"),
            ("bits allocated 32", try patched(native, (0x0028, 0x0100), "US", [32, 0]), "BitsAllocated"),
            ("pixel data length 0xFFFFFFF0", try patched(native, (0x7FE0, 0x0010), "OB", [0xF0, 0xFF, 0xFF, 0xFF], lengthOnly: true), "value of (7FE0,0010)"),
            ("patient id length 0xFFFF", try patched(small, (0x0010, 0x0020), "LO", huge, lengthOnly: true), "value of (0010,0020)"),
            ("more frames than fragments", try patched(rle, (0x0028, 0x0008), "IS", Array("99".utf8)), "fragments"),
            ("zero rows", try patched(native, (0x0028, 0x0010), "US", [0, 0]), "Rows"),
        ]
        for (name, bytes, needle) in cases {
            do {
                let volume = try read(bytes)
                Issue.record("\(name): read as \(volume.width)x\(volume.height)x\(volume.frameCount)")
            } catch let error as OCTError {
                #expect("\(error)".hasPrefix("hostile.dcm: ") && "\(error)".contains(needle), "\(name): \(error)")
            }
        }
        // The unpatched objects read.
        #expect(try read(native).pixels == object.expectedPixels && read(rle).pixels == object.expectedPixels)
    }
}
