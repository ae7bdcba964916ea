import CImageCodecs

/// Decodes JPEG (baseline and progressive) with libjpeg-turbo.
///
/// Gray stays 1 channel; YCbCr becomes RGB; CMYK and YCCK become RGB with Pillow's rule
/// R = (255 − K) − round(C·(255 − K)/255) (Adobe-inverted CMYK is un-inverted first).
/// A truncated or corrupt entropy stream is an error, not gray filler.
public enum JPEGDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        var image = mims_image()
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = bytes.withUnsafeBufferPointer { buffer in
            mims_jpeg_decode(buffer.baseAddress, buffer.count,
                             CodecResult.limits(limits, fileSize: bytes.count, expansion: 1024),
                             &image, &message, message.count)
        }
        guard status == MIMS_CODEC_OK else { throw CodecResult.error(status, message: message, file: file) }
        return CodecResult.take(&image)
    }
}
