import CImageCodecs

/// Decodes every PNG kind with libpng: palette to RGB (RGBA with tRNS), gray below 8 bits scaled to
/// 8 (1-bit 0/255, 2-bit ×85, 4-bit ×17), tRNS to alpha, 16-bit kept, Adam7 de-interlaced.
public enum PNGDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        var image = mims_image()
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = bytes.withUnsafeBufferPointer { buffer in
            mims_png_decode(buffer.baseAddress, buffer.count,
                            CodecResult.limits(limits, fileSize: bytes.count, expansion: 1100),
                            &image, &message, message.count)
        }
        guard status == MIMS_CODEC_OK else { throw CodecResult.error(status, message: message, file: file) }
        return CodecResult.take(&image)
    }
}
