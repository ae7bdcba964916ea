import CImageCodecs

/// Decodes every PNG kind with libpng: palette to RGB (RGBA with tRNS), gray below 8 bits scaled to
/// 8 (1-bit 0/255, 2-bit ×85, 4-bit ×17), tRNS to alpha, 16-bit kept, Adam7 de-interlaced.
public enum PNGDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        try CodecResult.decode(bytes, file: file, limits: limits, expansion: 1100, with: mims_png_decode)
    }
}
