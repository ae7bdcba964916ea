/// Bounds every decoder checks before it allocates its output, so a header that lies about its size
/// (100000 x 100000 pixels in a 1 KB file) gets an error instead of an allocation.
public struct DecodeLimits: Sendable {
    /// Largest width x height accepted.
    public var maxPixels: Int
    /// Largest decoded size in bytes accepted, whatever the file.
    public var maxOutputBytes: Int

    public init(maxPixels: Int = 1 << 28, maxOutputBytes: Int = 1 << 31) {
        self.maxPixels = maxPixels
        self.maxOutputBytes = maxOutputBytes
    }

    public static let `default` = DecodeLimits()

    /// The most a file of `fileSize` bytes can decode to with a codec of the given expansion ratio.
    ///
    /// Deflate cannot expand beyond about 1032:1, LZW about 2730:1, PackBits 64:1; JPEG photographs
    /// stay far below 1024:1. A file claiming more than its bytes can hold is damaged or hostile.
    func bound(fileSize: Int, expansion: Int) -> (pixels: UInt64, bytes: UInt64) {
        let fromFile = UInt64(fileSize) * UInt64(expansion) + (1 << 20)
        return (UInt64(maxPixels), min(UInt64(maxOutputBytes), fromFile))
    }
}
