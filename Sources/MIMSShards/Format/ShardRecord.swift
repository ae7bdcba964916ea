/// One image or volume on its way into a shard: its frames (uint8, H x W x C each, frame after
/// frame) and what is known about it.
public struct ShardRecord: Sendable {
    public var id: String
    public var patient: String
    /// Path of the source file relative to the manifest root.
    public var source: String
    /// SHA-256 of the source file's bytes, 64 lowercase hex characters.
    public var sourceSHA256: String
    public var label: Int32
    public var frameCount: Int
    /// `frameCount * frameShape.byteCount` bytes.
    public var pixels: [UInt8]
    /// "OD", "OS" or empty.
    public var laterality: String
    /// Voxel spacing in millimetres (depth, width, between frames) of the stored frames' grid
    /// (after any resize; the source's is `metadata.sourceSpacingMM`), or nil when unknown.
    public var spacingMM: [Double]?
    /// Shape of the source before normalization: frames, height, width.
    public var originalShape: [Int]?
    /// What the export records besides laterality and spacing (`/meta`).
    public var metadata: RecordMetadata

    public init(id: String, patient: String, source: String, sourceSHA256: String, label: Int32,
                frameCount: Int, pixels: [UInt8], laterality: String = "", spacingMM: [Double]? = nil,
                originalShape: [Int]? = nil, metadata: RecordMetadata = RecordMetadata()) {
        self.metadata = metadata
        self.id = id
        self.patient = patient
        self.source = source
        self.sourceSHA256 = sourceSHA256
        self.label = label
        self.frameCount = frameCount
        self.pixels = pixels
        self.laterality = laterality
        self.spacingMM = spacingMM
        self.originalShape = originalShape
    }
}

/// A record whose frames are already compressed into HDF5 chunks: the expensive part of writing,
/// done by ``ShardWriter/encode(_:frameShape:deflateLevel:)`` on any thread, outside the HDF5 lock.
public struct EncodedRecord: Sendable {
    /// One stored chunk per frame.
    public struct Chunk: Sendable {
        public var bytes: [UInt8]
        /// HDF5 filter mask: bit i set means filter i (0 shuffle, 1 deflate) was not applied.
        public var filterMask: UInt32
    }

    public var record: ShardRecord
    public var chunks: [Chunk]
    public var pixelsSHA256: String
    /// The stored ``RecordDigest`` of a copied record, kept as is so that a copy cannot launder a
    /// tampered record; nil for new records (the writer computes it).
    public var recordSHA256: String? = nil
    /// CRC-32 of the uncompressed frames, kept (not stored) so the ingest's own verification can
    /// re-check what it wrote without a second SHA-256; nil for copied records.
    public var pixelsCRC32: UInt32? = nil
}
