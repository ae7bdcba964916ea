import CImageCodecs

/// Encodes frames as PNG (8-bit gray, gray+alpha, RGB, RGBA; 16-bit through ``encode(_:compressionLevel:)``).
public enum PNGEncoder {
    /// Encodes a uint8 frame of 1-4 channels.
    public static func encode(_ frame: Frame, compressionLevel: Int = 6) throws -> [UInt8] {
        try frame.pixels.withUnsafeBytes { raw in
            try encode(raw, width: frame.width, height: frame.height, channels: frame.channels, bitDepth: 8,
                       compressionLevel: compressionLevel)
        }
    }

    /// Encodes a decoded image at its own bit depth.
    public static func encode(_ image: DecodedImage, compressionLevel: Int = 6) throws -> [UInt8] {
        switch image.samples {
        case let .uint8(samples):
            return try samples.withUnsafeBytes {
                try encode($0, width: image.width, height: image.height, channels: image.channels, bitDepth: 8,
                           compressionLevel: compressionLevel)
            }
        case let .uint16(samples):
            return try samples.withUnsafeBytes {
                try encode($0, width: image.width, height: image.height, channels: image.channels, bitDepth: 16,
                           compressionLevel: compressionLevel)
            }
        }
    }

    static func encode(_ raw: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int, bitDepth: Int,
                       compressionLevel: Int) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = mims_png_encode(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(width), UInt32(height),
                                     UInt32(channels), UInt32(bitDepth), Int32(min(9, max(0, compressionLevel))),
                                     &out, &size, &message, message.count)
        guard status == MIMS_CODEC_OK, let out else { throw CodecResult.error(status, message: message, file: "<png encoder>") }
        defer { mims_codec_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }
}
