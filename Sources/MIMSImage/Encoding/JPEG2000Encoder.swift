import CImageCodecs

/// Encodes gray or RGB images as lossless JPEG 2000 codestreams (J2K) with OpenJPEG; used by the
/// Topcon `.fda` writer for tests and synthetic data.
public enum JPEG2000Encoder {
    /// Encodes a uint8 frame of 1 or 3 channels.
    public static func encode(_ frame: Frame) throws -> [UInt8] {
        try frame.pixels.withUnsafeBytes { try encode($0, width: frame.width, height: frame.height, channels: frame.channels, bitDepth: 8) }
    }

    /// Encodes 16-bit gray samples (`width * height`, rows top to bottom) at 16 coded bits.
    public static func encode16(_ samples: [UInt16], width: Int, height: Int) throws -> [UInt8] {
        try samples.withUnsafeBytes { try encode($0, width: width, height: height, channels: 1, bitDepth: 16) }
    }

    static func encode(_ pixels: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int, bitDepth: Int) throws -> [UInt8] {
        guard pixels.count >= width * height * channels * (bitDepth / 8) else {
            throw ImageError.invalidArgument(reason: "\(pixels.count) bytes for a \(width)x\(height)x\(channels) image of \(bitDepth) bits")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = mims_j2k_encode(pixels.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(width), UInt32(height),
                                     UInt32(channels), UInt32(bitDepth), &out, &size, &message, message.count)
        guard status == MIMS_CODEC_OK, let out else { throw CodecResult.error(status, message: message, file: "<jpeg 2000 encoder>") }
        defer { mims_codec_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }
}
