import CImageCodecs

/// Encodes gray or RGB frames as baseline JPEG with libjpeg-turbo (used for synthetic datasets).
public enum JPEGEncoder {
    public static func encode(_ frame: Frame, quality: Int = 90) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = frame.pixels.withUnsafeBufferPointer {
            mims_jpeg_encode($0.baseAddress, UInt32(frame.width), UInt32(frame.height), UInt32(frame.channels),
                             Int32(quality), &out, &size, &message, message.count)
        }
        guard status == MIMS_CODEC_OK, let out else { throw CodecResult.error(status, message: message, file: "<jpeg encoder>") }
        defer { mims_codec_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }
}
