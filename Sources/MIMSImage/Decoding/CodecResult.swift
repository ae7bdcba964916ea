import CImageCodecs

/// Turns a C codec's status, message and image into Swift values.
enum CodecResult {
    static let messageCapacity = 512

    static func error(_ status: Int32, message: [CChar], file: String) -> ImageError {
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(MIMS_CODEC_UNSUPPORTED): return .unsupported(file: file, reason: text)
        case Int(MIMS_CODEC_TOO_LARGE): return .tooLarge(file: file, reason: text)
        case Int(MIMS_CODEC_NO_MEMORY): return .tooLarge(file: file, reason: "out of memory: \(text)")
        case Int(MIMS_CODEC_BAD_ARGUMENT): return .invalidArgument(reason: text)
        default: return .corrupt(file: file, reason: text.isEmpty ? "undecodable data" : text)
        }
    }

    /// Copies a C image into Swift arrays and frees it.
    static func take(_ image: inout mims_image) -> DecodedImage {
        defer { mims_codec_free(image.pixels) }
        let count = Int(image.width) * Int(image.height) * Int(image.channels)
        let samples: DecodedImage.Samples
        if image.bit_depth == 16 {
            samples = .uint16([UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: image.pixels, byteCount: count * 2)
                initialized = count
            })
        } else {
            samples = .uint8([UInt8](UnsafeBufferPointer(start: image.pixels, count: count)))
        }
        return DecodedImage(width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
                            samples: samples, conversions: .init(rawValue: image.flags))
    }

    /// Runs a whole-buffer C decoder and turns its result into a DecodedImage or an ImageError.
    static func decode(
        _ bytes: [UInt8], file: String, limits: DecodeLimits, expansion: Int,
        with decoder: (UnsafePointer<UInt8>?, Int, mims_decode_limits, UnsafeMutablePointer<mims_image>, UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws -> DecodedImage {
        var image = mims_image()
        var message = [CChar](repeating: 0, count: messageCapacity)
        let bounds = Self.limits(limits, fileSize: bytes.count, expansion: expansion)
        let status = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { text in
                decoder(buffer.baseAddress, buffer.count, bounds, &image, text.baseAddress!, text.count)
            }
        }
        guard status == MIMS_CODEC_OK else { throw error(status, message: message, file: file) }
        return take(&image)
    }

    static func limits(_ limits: DecodeLimits, fileSize: Int, expansion: Int) -> mims_decode_limits {
        let bound = limits.bound(fileSize: fileSize, expansion: expansion)
        return mims_decode_limits(max_pixels: bound.pixels, max_output_bytes: bound.bytes)
    }
}
