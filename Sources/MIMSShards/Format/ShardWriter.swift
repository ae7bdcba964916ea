import CDeflate
import MIMSCore

/// Writes one shard: records stream in, frames go straight to the file, and the shard becomes
/// visible under its final name only when ``finish()`` has written, flushed and fsynced it.
///
/// Until then it is `<split>-<index:05d>.h5.part`; a killed run leaves at most a `.part` file, never
/// a half-written `.h5`. HDF5 calls are serialized by the library, so compress frames with
/// ``encode(_:frameShape:deflateLevel:)`` on worker threads and call ``append(_:)-2y0eg`` from one.
public final class ShardWriter {
    public let header: ShardHeader
    public let frameShape: FrameShape
    /// Deflate level 1-9 (with shuffle), or nil for shards without filters.
    public let deflateLevel: Int?
    /// Final path of the shard.
    public let path: String
    /// Path while it is being written.
    public let partPath: String

    private var file: HDF5File?
    private var frames: HDF5Dataset?
    private var frameTotal = 0
    /// Frames the dataset's extent covers; grown in steps so HDF5 rewrites its metadata rarely.
    private var allocatedFrames = 0
    private var starts: [Int64] = []
    private var counts: [Int32] = []
    private var labels: [Int32] = []
    private var ids: [String] = []
    private var patients: [String] = []
    private var sources: [String] = []
    private var sourceHashes: [String] = []
    private var pixelHashes: [String] = []
    private var recordHashes: [String] = []
    private var pixelCRCs: [UInt32?] = []
    private var lateralities: [String] = []
    private var spacings: [Double] = []
    private var originalShapes: [Int64] = []
    private var hasSpacing = false
    private var metadata: [RecordMetadata] = []
    private var hasOriginalShape = false

    /// Number of records appended so far.
    public var recordCount: Int { ids.count }
    /// Number of frames appended so far.
    public var frameCount: Int { frameTotal }

    /// Creates `directory/<split>-<index:05d>.h5.part` (replacing a stale one from a killed run).
    public init(directory: String, header: ShardHeader, frameShape: FrameShape, deflateLevel: Int? = 4) throws {
        guard frameShape.height > 0, frameShape.width > 0, frameShape.channels == 1 || frameShape.channels == 3 else {
            throw ShardError.invalidRecord(id: "-", reason: "frame shape \(frameShape) must be HxWx1 or HxWx3")
        }
        guard ShardSchema.splits.contains(header.split) else {
            throw ShardError.invalidRecord(id: "-", reason: "split '\(header.split)' is not one of \(ShardSchema.splits)")
        }
        self.header = header
        self.frameShape = frameShape
        self.deflateLevel = deflateLevel.map { min(9, max(1, $0)) }
        path = directory + "/" + ShardSet.shardName(split: header.split, index: header.shardIndex)
        partPath = ShardSet.unfinishedName(of: path)
        let file = try HDF5File.create(partPath)
        let root = try file.root()
        frames = try root.createDataset(
            ShardSchema.frames, of: UInt8.self, shape: [0, frameShape.height, frameShape.width, frameShape.channels],
            maxShape: [nil, frameShape.height, frameShape.width, frameShape.channels],
            chunk: [1, frameShape.height, frameShape.width, frameShape.channels], deflateLevel: self.deflateLevel)
        self.file = file
    }

    /// Compresses a record's frames into stored chunks and hashes its pixels. Pure and thread-safe.
    ///
    /// A chunk that deflate does not shrink by at least 10% is stored raw, with both filters marked
    /// as skipped in its filter mask, so every HDF5 reader still decodes it with no plugin.
    /// With `deflateLevel` nil every chunk is stored as is (the shard then has no filters).
    public static func encode(_ record: ShardRecord, frameShape: FrameShape, deflateLevel: Int? = 4) throws -> EncodedRecord {
        guard record.frameCount >= 1 else {
            throw ShardError.invalidRecord(id: record.id, reason: "has no frames")
        }
        guard record.pixels.count == record.frameCount * frameShape.byteCount else {
            throw ShardError.invalidRecord(
                id: record.id,
                reason: "holds \(record.pixels.count) pixel bytes; \(record.frameCount) frames of \(frameShape) need \(record.frameCount * frameShape.byteCount)")
        }
        guard record.sourceSHA256.utf8.count == 64, record.sourceSHA256.utf8.allSatisfy(isHexDigit) else {
            throw ShardError.invalidRecord(id: record.id, reason: "source_sha256 must be 64 hex characters")
        }
        guard !record.id.isEmpty else {
            throw ShardError.invalidRecord(id: record.id, reason: "id is empty")
        }
        let frameBytes = frameShape.byteCount
        guard let deflateLevel else {
            let chunks = (0..<record.frameCount).map { frame in
                EncodedRecord.Chunk(bytes: Array(record.pixels[frame * frameBytes..<(frame + 1) * frameBytes]), filterMask: 0)
            }
            return EncodedRecord(record: record, chunks: chunks, pixelsSHA256: SHA256.hex(of: record.pixels),
                                 pixelsCRC32: PixelCRC.of(record.pixels))
        }
        let level = min(9, max(1, deflateLevel))
        var chunks: [EncodedRecord.Chunk] = []
        chunks.reserveCapacity(record.frameCount)
        record.pixels.withUnsafeBytes { pixels in
            for frame in 0..<record.frameCount {
                let source = UnsafeRawBufferPointer(rebasing: pixels[frame * frameBytes..<(frame + 1) * frameBytes])
                if let compressed = ChunkCompressor.shared.compress(source, level: level) {
                    // Shuffle is the identity on 1-byte elements; mark it skipped to say so plainly.
                    chunks.append(.init(bytes: compressed, filterMask: 0b01))
                } else {
                    chunks.append(.init(bytes: Array(source), filterMask: 0b11))
                }
            }
        }
        return EncodedRecord(record: record, chunks: chunks, pixelsSHA256: SHA256.hex(of: record.pixels),
                             pixelsCRC32: PixelCRC.of(record.pixels))
    }

    /// Appends a record, compressing it on this thread.
    public func append(_ record: ShardRecord) throws {
        try append(Self.encode(record, frameShape: frameShape, deflateLevel: deflateLevel))
    }

    /// Appends a record compressed by ``encode(_:frameShape:deflateLevel:)``.
    public func append(_ encoded: EncodedRecord) throws {
        guard let frames else { throw ShardError.writerClosed(path: partPath) }
        let record = encoded.record
        if let spacing = record.spacingMM, spacing.count != 3 {
            throw ShardError.invalidRecord(id: record.id, reason: "spacing_mm needs 3 values, got \(spacing.count)")
        }
        if let spacing = record.metadata.sourceSpacingMM, spacing.count != 3 {
            throw ShardError.invalidRecord(id: record.id, reason: "source_spacing_mm needs 3 values, got \(spacing.count)")
        }
        if let shape = record.originalShape, shape.count != 3 {
            throw ShardError.invalidRecord(id: record.id, reason: "original_shape needs 3 values, got \(shape.count)")
        }
        let first = frameTotal
        if first + encoded.chunks.count > allocatedFrames {
            allocatedFrames = max(first + encoded.chunks.count, allocatedFrames + max(64, allocatedFrames / 2))
            try frames.extend(to: [allocatedFrames, frameShape.height, frameShape.width, frameShape.channels])
        }
        for (offset, chunk) in encoded.chunks.enumerated() {
            try chunk.bytes.withUnsafeBytes { bytes in
                try frames.writeRawChunk(at: [first + offset, 0, 0, 0], filterMask: chunk.filterMask, bytes: bytes)
            }
        }
        frameTotal += encoded.chunks.count
        starts.append(Int64(first))
        counts.append(Int32(encoded.chunks.count))
        labels.append(record.label)
        ids.append(record.id)
        patients.append(record.patient)
        sources.append(record.source)
        sourceHashes.append(record.sourceSHA256.lowercased())
        pixelHashes.append(encoded.pixelsSHA256)
        recordHashes.append(encoded.recordSHA256 ?? RecordDigest.of(
            id: record.id, label: record.label, patient: record.patient, sourceSHA256: record.sourceSHA256, pixelsSHA256: encoded.pixelsSHA256))
        pixelCRCs.append(encoded.pixelsCRC32)
        lateralities.append(record.laterality)
        spacings.append(contentsOf: record.spacingMM ?? [.nan, .nan, .nan])
        originalShapes.append(contentsOf: (record.originalShape ?? [-1, -1, -1]).map(Int64.init))
        hasSpacing = hasSpacing || record.spacingMM != nil
        metadata.append(record.metadata)
        hasOriginalShape = hasOriginalShape || record.originalShape != nil
    }

    /// Writes the per-record arrays and the header, closes, fsyncs and renames the shard to its
    /// final name. Returns nil (and leaves no file) when no record was appended.
    @discardableResult
    public func finish() throws -> ShardSummary? {
        guard let file else { throw ShardError.writerClosed(path: partPath) }
        if ids.isEmpty {
            abandon()
            return nil
        }
        do {
            // Every group and dataset handle is released when writeTables returns, so the close
            // below really closes the file (HDF5 defers it while objects are open, and would then
            // finish writing after the rename).
            try frames?.extend(to: [frameTotal, frameShape.height, frameShape.width, frameShape.channels])
            try writeTables(file)
            frames = nil
            try file.flush()
            try file.close()
            self.file = nil
            try FileDurability.publish(partPath, as: path)
        } catch {
            abandon()
            throw error
        }
        return ShardSummary(path: path, header: header, frameShape: frameShape, recordCount: ids.count,
                            frameCount: frameTotal, ids: ids, pixelCRC32s: pixelCRCs)
    }

    /// The per-record arrays and the header attributes.
    private func writeTables(_ file: HDF5File) throws {
        let root = try file.root()
        let n = ids.count
        let chunk = [min(n, 65_536)]
        try root.createDataset(ShardSchema.recordFrameStart, of: Int64.self, shape: [n], chunk: chunk, deflateLevel: deflateLevel).write(starts)
        try root.createDataset(ShardSchema.recordFrameCount, of: Int32.self, shape: [n], chunk: chunk, deflateLevel: deflateLevel).write(counts)
        try root.createDataset(ShardSchema.label, of: Int32.self, shape: [n], chunk: chunk, deflateLevel: deflateLevel).write(labels)
        try root.createStringDataset(ShardSchema.id, values: ids)
        try root.createStringDataset(ShardSchema.patient, values: patients)
        try root.createStringDataset(ShardSchema.source, values: sources)
        try root.createStringDataset(ShardSchema.sourceSHA256, values: sourceHashes, fixedLength: 64)
        try root.createStringDataset(ShardSchema.pixelsSHA256, values: pixelHashes, fixedLength: 64)
        try root.createStringDataset(ShardSchema.recordSHA256, values: recordHashes, fixedLength: 64)
        let meta = try root.createGroup(ShardSchema.meta)
        if lateralities.contains(where: { !$0.isEmpty }) {
            try meta.createStringDataset(ShardSchema.laterality, values: lateralities)
        }
        if hasSpacing {
            try meta.createDataset(ShardSchema.spacingMM, of: Double.self, shape: [n, 3]).write(spacings)
        }
        if hasOriginalShape {
            try meta.createDataset(ShardSchema.originalShape, of: Int64.self, shape: [n, 3]).write(originalShapes)
        }
        // Each array only when some record has a value, as laterality: older readers see none.
        for field in RecordMetadata.stringFields where metadata.contains(where: { !$0[keyPath: field.key].isEmpty }) {
            try meta.createStringDataset(field.name, values: metadata.map { $0[keyPath: field.key] })
        }
        if metadata.contains(where: { $0.sourceSpacingMM != nil }) {
            try meta.createDataset(ShardSchema.sourceSpacingMM, of: Double.self, shape: [n, 3])
                .write(metadata.flatMap { $0.sourceSpacingMM ?? [.nan, .nan, .nan] })
        }
        try root.setAttribute("format", ShardSchema.format)
        try root.setAttribute("format_version", ShardSchema.version)
        try root.setAttribute("dataset", header.dataset)
        try root.setAttribute("kind", header.kind.rawValue)
        try root.setAttribute("split", header.split)
        try root.setAttribute("shard_index", Int64(header.shardIndex))
        try root.setAttribute("created_utc", header.createdUTC)
        try root.setAttribute("tool_version", header.toolVersion)
        try root.setAttribute("manifest_sha256", header.manifestSHA256)
        if let recipe = header.frameRecipe { try root.setAttribute(ShardSchema.frameRecipe, recipe.json) }
    }

    /// Stops writing and deletes the `.part` file.
    public func abandon() {
        frames = nil
        try? file?.close()
        file = nil
        FileDurability.remove(partPath)
    }
}

/// What a finished shard holds.
public struct ShardSummary: Sendable {
    public var path: String
    public var header: ShardHeader
    public var frameShape: FrameShape
    public var recordCount: Int
    public var frameCount: Int
    public var ids: [String]
    /// Per record, the CRC-32 of its frames as written (nil for copied records).
    public var pixelCRC32s: [UInt32?] = []
}

/// CRC-32 of pixel bytes (libdeflate's, about 10x faster than SHA-256).
public enum PixelCRC {
    public static func of(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(libdeflate_crc32(0, $0.baseAddress, $0.count)) }
    }
}

@inline(__always)
func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
}
