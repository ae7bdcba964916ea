/// Names and constants of shard format version 2 (docs/SHARDS.md).
public enum ShardSchema {
    public static let format = "mims-shard"
    /// The version this package writes.
    public static let version: Int64 = 2
    /// The versions it reads: 1 lacks `record_sha256`.
    public static let readableVersions: [Int64] = [1, 2]

    public static let frames = "frames"
    public static let recordFrameStart = "record_frame_start"
    public static let recordFrameCount = "record_frame_count"
    public static let label = "label"
    /// The label of a record without one (`labels: none` sets: data to score, not to train on).
    public static let unlabelled: Int32 = -1
    /// The root attribute holding the ``FrameRecipe`` as JSON.
    public static let frameRecipe = "frame_recipe"
    public static let id = "id"
    public static let patient = "patient"
    public static let source = "source"
    public static let sourceSHA256 = "source_sha256"
    /// SHA-256 of each record's uncompressed frame bytes; lets the verifier prove the pixels intact.
    public static let pixelsSHA256 = "pixels_sha256"
    /// Per record, ``RecordDigest`` over id, label, patient, source and pixel hashes (version 2).
    public static let recordSHA256 = "record_sha256"
    public static let meta = "meta"
    public static let laterality = "laterality"
    public static let spacingMM = "spacing_mm"
    public static let originalShape = "original_shape"
    public static let patientID = "patient_id"
    public static let scanDate = "scan_date"
    public static let scanPattern = "scan_pattern"
    public static let device = "device"
    public static let sourceSpacingMM = "source_spacing_mm"

    /// The splits a shard can belong to.
    public static let splits = ["train", "val", "test"]
    // Shard file names live in ShardSet: shardName(split:index:) and parseShardName(_:).
}

/// Whether a dataset holds single images or volumes of frames.
public enum DatasetKind: String, Sendable, CaseIterable {
    case image2d
    case volume3d
}

/// Height, width and channel count shared by every frame of a dataset.
public struct FrameShape: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Bytes of one uint8 frame.
    public var byteCount: Int { height * width * channels }

    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// The root attributes of a shard.
public struct ShardHeader: Equatable, Sendable {
    public var dataset: String
    public var kind: DatasetKind
    public var split: String
    public var shardIndex: Int
    /// ISO 8601 UTC time of writing; honours `SOURCE_DATE_EPOCH` for reproducible shards.
    public var createdUTC: String
    public var toolVersion: String
    /// SHA-256 of the manifest the shard was made from (64 hex characters, or empty).
    public var manifestSHA256: String
    /// How the frames were made from the source files; nil in shards written before it was
    /// recorded (root attribute `frame_recipe`, optional in both format versions).
    public var frameRecipe: FrameRecipe?

    public init(dataset: String, kind: DatasetKind, split: String, shardIndex: Int,
                createdUTC: String = UTCTimestamp.now(), toolVersion: String, manifestSHA256: String, frameRecipe: FrameRecipe? = nil) {
        self.dataset = dataset
        self.kind = kind
        self.split = split
        self.shardIndex = shardIndex
        self.createdUTC = createdUTC
        self.toolVersion = toolVersion
        self.manifestSHA256 = manifestSHA256
        self.frameRecipe = frameRecipe
    }
}
