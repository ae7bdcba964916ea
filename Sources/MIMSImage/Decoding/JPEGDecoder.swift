import CImageCodecs

/// Decodes JPEG (baseline and progressive) with libjpeg-turbo.
///
/// Gray stays 1 channel; YCbCr becomes RGB; CMYK and YCCK become RGB with Pillow's rule
/// R = (255 − K) − round(C·(255 − K)/255) (Adobe-inverted CMYK is un-inverted first).
/// A truncated or corrupt entropy stream is an error, not gray filler.
public enum JPEGDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        try CodecResult.decode(bytes, file: file, limits: limits, expansion: 1024, with: mims_jpeg_decode)
    }
}
