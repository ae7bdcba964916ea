import MIMSImage

/// Which eye.
public enum Laterality: String, Sendable, Codable {
    case od = "OD"  // right
    case os = "OS"  // left
}

/// Voxel size in millimetres.
public struct VoxelSpacing: Equatable, Sendable, Codable {
    /// Between rows (axial, depth).
    public var depth: Double
    /// Between columns (A-scans).
    public var width: Double
    /// Between frames (B-scans); 0 for a single B-scan.
    public var betweenFrames: Double

    public init(depth: Double, width: Double, betweenFrames: Double) {
        self.depth = depth
        self.width = width
        self.betweenFrames = betweenFrames
    }
}

/// Where one B-scan lies on the fundus, in millimetres, and its quality.
public struct BScanGeometry: Equatable, Sendable, Codable {
    public var startX: Double
    public var startY: Double
    public var endX: Double
    public var endY: Double
    public var quality: Float
}

/// What a reader learned besides the pixels.
public struct OCTMetadata: Equatable, Sendable {
    public var format: OCTFormat
    public var spacing: VoxelSpacing?
    public var laterality: Laterality?
    public var patientID: String?
    public var visitID: String?
    /// Vendor scan pattern, e.g. "Macular Cube 512x128", "volume (3)", "circle (2)".
    public var scanPattern: String?
    /// Acquisition time, ISO 8601 UTC, when the file records it.
    public var acquired: String?
    /// The acquiring device (manufacturer and model, e.g. DICOM Manufacturer and
    /// ManufacturerModelName "Carl Zeiss Meditec CIRRUS HD-OCT 5000"), when the file records it.
    public var device: String?
    /// Smallest and largest source value (before conversion to uint8), invalid markers excluded.
    public var valueRange: ClosedRange<Double>?
    /// The scanning-laser / infrared fundus image, when the file has one.
    public var fundus: Frame?
    /// Per B-scan position and quality, when the file has them.
    public var bscans: [BScanGeometry]
    /// Layer segmentation lines per B-scan: `layers[frame][line]` holds one depth per A-scan
    /// (NaN where missing).
    public var layers: [[[Float]]]
    /// The layer lines' names (`layers[frame][i]` is `layerNames[i]`), when the format names them.
    public var layerNames: [String] = []
    /// Things the reader accepted but a user should know (cut chunks, trailing bytes).
    public var warnings: [String]

    public init(format: OCTFormat) {
        self.format = format
        bscans = []
        layers = []
        warnings = []
    }
}

/// A volume as uint8 frames in one orientation: rows are depth from the top of the retina down,
/// columns are A-scans left to right, frames are B-scans in acquisition order.
public struct OCTVolume: Sendable {
    /// A-scans per B-scan (columns).
    public var width: Int
    /// Samples per A-scan (rows).
    public var height: Int
    /// B-scans.
    public var frameCount: Int
    /// `frameCount * height * width` bytes, frame after frame, row after row.
    public var pixels: [UInt8]
    public var metadata: OCTMetadata

    public init(width: Int, height: Int, frameCount: Int, pixels: [UInt8], metadata: OCTMetadata) {
        precondition(pixels.count == width * height * frameCount, "volume buffer does not match its shape")
        self.width = width
        self.height = height
        self.frameCount = frameCount
        self.pixels = pixels
        self.metadata = metadata
    }

    /// One B-scan as a gray frame.
    public func frame(_ index: Int) -> Frame {
        let size = width * height
        return Frame(width: width, height: height, channels: 1, pixels: Array(pixels[index * size..<(index + 1) * size]))
    }
}
