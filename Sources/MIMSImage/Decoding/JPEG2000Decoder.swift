import CImageCodecs

/// Decodes JPEG 2000 (raw J2K codestreams and JP2 files) with OpenJPEG, for the OCT readers that
/// store B-scans that way (Topcon `.fda`). Not one of the still-image formats `ImageDecoder` sniffs.
///
/// Strict mode: a truncated codestream is an error, not a partly gray image. The declared size is
/// checked against `limits` and what `bytes` can hold before anything is allocated.
public enum JPEG2000Decoder {
    /// The image (8-bit samples up to 8 coded bits, 16-bit samples holding the coded values above)
    /// and the coded precision in bits.
    public static func decode(_ bytes: UnsafeRawBufferPointer, file: String, limits: DecodeLimits = .default) throws -> (image: DecodedImage, precision: Int) {
        var image = mims_image()
        var precision: UInt32 = 0
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        // Lossless JPEG 2000 of OCT noise stays far below 1024:1; a header claiming more is hostile.
        let bounds = CodecResult.limits(limits, fileSize: bytes.count, expansion: 1024)
        let status = message.withUnsafeMutableBufferPointer { text in
            mims_j2k_decode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, bounds, &image, &precision,
                            text.baseAddress!, text.count)
        }
        guard status == MIMS_CODEC_OK else { throw CodecResult.error(status, message: message, file: file) }
        return (CodecResult.take(&image), Int(precision))
    }

    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> (image: DecodedImage, precision: Int) {
        try bytes.withUnsafeBytes { try decode($0, file: file, limits: limits) }
    }
}
