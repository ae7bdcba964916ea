import CDICOM

/// A DICOM object parsed by GDCM (through the CDICOM shim): text values by path, and the decoded
/// frames. Only built after ``DICOMStructure`` has checked the bytes it parses.
final class DICOMObject {
    private let handle: OpaquePointer
    private let file: String

    /// `bytes` must outlive the object (GDCM reads them in place).
    init(bytes: UnsafeRawBufferPointer, file: String, headerOnly: Bool) throws {
        self.file = file
        var message = [CChar](repeating: 0, count: 512)
        guard let handle = mims_dicom_open(bytes.baseAddress, bytes.count, headerOnly ? 1 : 0, &message, message.count) else {
            throw OCTError.inconsistent(file: file, reason: "the DICOM library (GDCM) refused the data set: " + String(cString: message))
        }
        self.handle = handle
    }

    deinit { mims_dicom_free(handle) }

    /// The value at `path` (tag, item, tag, ...) as text, nil when absent.
    func value(_ path: [UInt32]) -> String? {
        var out = [CChar](repeating: 0, count: 1024)
        let length = mims_dicom_value(handle, path, path.count, &out, out.count)
        guard length >= 0 else { return nil }
        if length < out.count { return String(cString: out) }
        out = [CChar](repeating: 0, count: length + 1)
        _ = mims_dicom_value(handle, path, path.count, &out, out.count)
        return String(cString: out)
    }

    /// Every frame's samples (native-endian for 16 bits), decoded by GDCM's codec for the
    /// object's transfer syntax into the layout the checked header gives.
    func decode(_ image: ImageAttributes, structure: DICOMStructure) throws -> [UInt8] {
        var message = [CChar](repeating: 0, count: 512)
        var layout = mims_dicom_image_layout(columns: UInt32(image.columns), rows: UInt32(image.rows), frames: UInt32(image.frames),
                                             bits_allocated: UInt16(image.bitsAllocated), bits_stored: UInt16(image.bitsStored),
                                             monochrome1: image.inverted ? 1 : 0)
        var samples = [UInt8](repeating: 0, count: image.sampleBytes)
        let status = samples.withUnsafeMutableBytes { mims_dicom_decode(handle, &layout, $0.baseAddress, $0.count, &message, message.count) }
        guard status == 0 else {
            throw OCTError.inconsistent(file: file, reason: "pixel data at offset \(structure.pixelDataOffset ?? 0) (\(DICOMStructure.supportedSyntaxes[structure.transferSyntax] ?? structure.transferSyntax)) does not decode: " + String(cString: message))
        }
        return samples
    }
}
