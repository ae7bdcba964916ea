import CDICOMTestWriter
import Foundation
import MIMSTestSupport
@testable import MIMSOCT

/// A DICOM object the tests have GDCM write (and, for a compressed syntax, encode with its own
/// codec), with known samples and attributes.
struct GDCMTestObject {
    var sopClass = DICOMSOPClass.ophthalmicTomography
    var syntax = "1.2.840.10008.1.2.1"
    var columns = 96, rows = 128, frames = 12
    var bitsAllocated = 8, bitsStored = 8
    var photometric = "MONOCHROME2"
    /// Column, row and frame spacing in mm: PixelSpacing (row\\column) and SpacingBetweenSlices.
    var spacing = (0.0117, 0.0039, 0.047)
    var attributes: [(String, String)] = [
        ("0010,0020", "PAT-0042"), ("0008,0020", "20240131"), ("0008,0030", "101500"),
        ("0020,0062", "R"), ("0008,0070", "Carl Zeiss Meditec"), ("0008,1090", "CIRRUS HD-OCT 5000"),
        ("0008,103E", "Macular Cube 512x128"),
    ]
    var samples: [UInt16] = []

    /// Random samples over the stored range, some runs of one value so the codecs have both.
    mutating func fillSamples(seed: UInt64) {
        var random = TestRandom(state: seed)
        let top = UInt64(1) << UInt64(bitsStored)
        samples = (0..<columns * rows * frames).map { i in
            (i / 7) % 5 == 0 ? UInt16(i % Int(top)) : UInt16(random.next() % top)
        }
    }

    /// The samples as the uint8 frames the documented rule gives (MONOCHROME1 inverted,
    /// round(v x 255 / (2^BitsStored - 1))), computed here from what was written.
    var expectedPixels: [UInt8] {
        let top = (1 << bitsStored) - 1
        return samples.map { v in
            let shown = photometric == "MONOCHROME1" ? top - Int(v) : Int(v)
            return UInt8((Double(shown) * 255 / Double(top)).rounded())
        }
    }

    func write(to path: String) throws {
        var bytes: [UInt8]
        if bitsAllocated == 8 {
            bytes = samples.map { UInt8($0) }
        } else {
            bytes = samples.withUnsafeBytes { Array($0) }
        }
        // GDCM writes no spacing for this class from its image spacing: give it as attributes.
        let spacingAttributes = [("0028,0030", "\(spacing.1)\\\(spacing.0)"), ("0018,0088", "\(spacing.2)")]
        let flat = (attributes + spacingAttributes).flatMap { [$0.0, $0.1] }
        var message = [CChar](repeating: 0, count: 512)
        var spacingValues = [spacing.0, spacing.1, spacing.2]
        let status = withCStrings(flat) { pointers in
            mims_test_write_dicom(path, sopClass, syntax, UInt32(columns), UInt32(rows), UInt32(frames),
                                  UInt16(bitsAllocated), UInt16(bitsStored), photometric, bytes, bytes.count,
                                  &spacingValues, pointers, pointers.count, &message, message.count)
        }
        if status != 0 { throw OCTError.unreadable(file: path, reason: "GDCM test writer: " + String(cString: message)) }
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}

/// pydicom's reading of a DICOM file (Tests/Interop/dicom_reference.py).
func pydicomReference(_ path: String) throws -> [String: Any] {
    let output = try run(["python3", repositoryRoot + "/Tests/Interop/dicom_reference.py", "read", path])
    return try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
}

/// An object written by pydicom alone (Tests/Interop/dicom_reference.py write).
func pydicomWrite(_ path: String, _ spec: [String: Any]) throws {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
    _ = try run(["python3", repositoryRoot + "/Tests/Interop/dicom_reference.py", "write", path, json])
}
