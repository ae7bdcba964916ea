import CImageCodecs

/// A TIFF file held in memory, page by page (multi-page TIFFs are volume stacks).
///
/// Decodes 8/16-bit gray, gray+alpha, RGB, RGBA and 8-bit palette, min-is-white (inverted to
/// min-is-black), stripped or tiled, contiguous or planar, with any compression libtiff has
/// (none, LZW, deflate, PackBits, JPEG).
public final class TIFFDecoder {
    public let file: String
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private var handle: OpaquePointer?
    private let limits: DecodeLimits
    /// Number of pages.
    public let pageCount: Int

    public init(_ data: [UInt8], file: String, limits: DecodeLimits = .default) throws {
        self.file = file
        self.limits = limits
        // libtiff keeps pointers into the buffer, so it lives as long as the decoder.
        bytes = .allocate(capacity: max(1, data.count))
        _ = bytes.initialize(from: data)
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        var tiff: OpaquePointer?
        let status = mims_tiff_open(bytes.baseAddress, data.count, &tiff, &message, message.count)
        guard status == MIMS_CODEC_OK, let tiff else {
            bytes.deallocate()
            throw CodecResult.error(status, message: message, file: file)
        }
        handle = tiff
        var count: UInt32 = 0
        let countStatus = mims_tiff_page_count(tiff, &count, &message, message.count)
        guard countStatus == MIMS_CODEC_OK, count > 0 else {
            mims_tiff_close(tiff)
            bytes.deallocate()
            throw countStatus == MIMS_CODEC_OK ? ImageError.corrupt(file: file, reason: "TIFF has no pages")
                : CodecResult.error(countStatus, message: message, file: file)
        }
        pageCount = Int(count)
        fileSize = data.count
    }

    private let fileSize: Int

    /// Decodes page `index` (0-based).
    public func decodePage(_ index: Int) throws -> DecodedImage {
        guard index >= 0, index < pageCount else {
            throw ImageError.invalidArgument(reason: "\(file): page \(index) of \(pageCount)")
        }
        var image = mims_image()
        var message = [CChar](repeating: 0, count: CodecResult.messageCapacity)
        let status = mims_tiff_decode_page(handle, UInt32(index),
                                           CodecResult.limits(limits, fileSize: fileSize, expansion: 2800),
                                           &image, &message, message.count)
        guard status == MIMS_CODEC_OK else { throw CodecResult.error(status, message: message, file: file) }
        return CodecResult.take(&image)
    }

    deinit {
        mims_tiff_close(handle)
        bytes.deallocate()
    }
}
