/// An image as its file holds it: native channel count (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) and
/// native bit depth (8 or 16), samples interleaved, rows top to bottom.
public struct DecodedImage: Equatable, Sendable {
    /// The samples, one array per bit depth.
    public enum Samples: Equatable, Sendable {
        case uint8([UInt8])
        case uint16([UInt16])
    }

    public var width: Int
    public var height: Int
    public var channels: Int
    public var samples: Samples
    /// What the decoder converted on the way (palette expansion, CMYK, min-is-white).
    public var conversions: Conversions
    /// Pages in the file (TIFF); the image is the first. More than one is worth telling a user.
    public var pageCount: Int = 1

    public var bitDepth: Int {
        if case .uint16 = samples { return 16 }
        return 8
    }

    /// Conversions the decoder applied to reach gray/RGB(A).
    public struct Conversions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let fromCMYK = Conversions(rawValue: 1)
        public static let fromPalette = Conversions(rawValue: 2)
        public static let invertedMinIsWhite = Conversions(rawValue: 4)
    }

    public init(width: Int, height: Int, channels: Int, samples: Samples, conversions: Conversions = []) {
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
        self.conversions = conversions
    }
}

/// A uint8 frame as shards store it: height x width x channels, interleaved, rows top to bottom.
public struct Frame: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "frame buffer does not match its shape")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A frame of zeros.
    public init(width: Int, height: Int, channels: Int) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: 0, count: width * height * channels))
    }
}
