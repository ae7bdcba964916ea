/// What a shard says about one record, without its pixels.
public struct ShardRecordInfo: Equatable, Sendable {
    public var id: String
    public var patient: String
    public var source: String
    public var sourceSHA256: String
    public var pixelsSHA256: String
    /// The record's ``RecordDigest`` as stored; nil in format-1 shards.
    public var recordSHA256: String? = nil
    public var label: Int32
    public var frameStart: Int
    public var frameCount: Int
    /// From /meta when the shard has them: "OD", "OS" or "".
    public var laterality: String = ""
    public var spacingMM: [Double]? = nil
    public var originalShape: [Int]? = nil
    /// From /meta: patient id, scan date, pattern, device, source spacing (empty when absent).
    public var metadata = RecordMetadata()
}

/// Opens a shard for random access: the per-record table is read at open, frames on demand, one
/// record's frames at a time through an HDF5 hyperslab (no other frame is read or decompressed).
public final class ShardReader {
    public let path: String
    public let header: ShardHeader
    /// 1 or 2 (see ``ShardSchema/readableVersions``).
    public let formatVersion: Int
    public let frameShape: FrameShape
    /// Total frames in the shard.
    public let frameCount: Int
    public let records: [ShardRecordInfo]
    private let file: HDF5File
    private let frames: HDF5Dataset
    /// Positions of shuffle and deflate in /frames' filter pipeline, when it holds nothing else:
    /// frames are then read as raw chunks and inflated here with libdeflate (2-3x faster than the
    /// zlib inside HDF5). Nil for any other pipeline (read through HDF5).
    private let fastFilters: (shuffle: Int?, deflate: Int?)?
    /// Whether /frames' pipeline has deflate (copied chunks need a writer with the same pipeline).
    public let hasDeflate: Bool

    public var recordCount: Int { records.count }

    public init(path: String) throws {
        self.path = path
        file = try HDF5File.open(path)
        let root = try file.root()
        guard root.hasAttribute("format"), try root.stringAttribute("format") == ShardSchema.format else {
            throw ShardError.notAShard(path: path, reason: "root attribute format is not '\(ShardSchema.format)'")
        }
        let version = try root.int64Attribute("format_version")
        guard ShardSchema.readableVersions.contains(version) else {
            throw ShardError.notAShard(path: path, reason: "format_version \(version) is not supported (this reader reads versions 1 and 2)")
        }
        formatVersion = Int(version)
        let kindText = try root.stringAttribute("kind")
        guard let kind = DatasetKind(rawValue: kindText) else {
            throw ShardError.notAShard(path: path, reason: "kind '\(kindText)' is neither image2d nor volume3d")
        }
        header = ShardHeader(
            dataset: try root.stringAttribute("dataset"), kind: kind, split: try root.stringAttribute("split"),
            shardIndex: Int(try root.int64Attribute("shard_index")), createdUTC: try root.stringAttribute("created_utc"),
            toolVersion: try root.stringAttribute("tool_version"), manifestSHA256: try root.stringAttribute("manifest_sha256"),
            frameRecipe: root.hasAttribute(ShardSchema.frameRecipe) ? FrameRecipe(json: try root.stringAttribute(ShardSchema.frameRecipe)) : nil)
        frames = try root.dataset(ShardSchema.frames)
        let shape = try frames.shape()
        guard shape.count == 4 else {
            throw ShardError.notAShard(path: path, reason: "/frames has rank \(shape.count), expected 4 (F, H, W, C)")
        }
        frameCount = shape[0]
        frameShape = FrameShape(height: shape[1], width: shape[2], channels: shape[3])
        let pipeline = try frames.filters()
        if pipeline.allSatisfy({ $0 == 1 || $0 == 2 }), try frames.chunkShape() == [1, shape[1], shape[2], shape[3]],
           try frames.elementType().size == 1 {
            fastFilters = (pipeline.firstIndex(of: 2), pipeline.firstIndex(of: 1))
        } else {
            fastFilters = nil
        }
        let starts = try root.dataset(ShardSchema.recordFrameStart).read(as: Int64.self)
        let counts = try root.dataset(ShardSchema.recordFrameCount).read(as: Int32.self)
        let labels = try root.dataset(ShardSchema.label).read(as: Int32.self)
        let ids = try root.dataset(ShardSchema.id).readStrings()
        let patients = try root.dataset(ShardSchema.patient).readStrings()
        let sources = try root.dataset(ShardSchema.source).readStrings()
        let sourceHashes = try root.dataset(ShardSchema.sourceSHA256).readStrings()
        let pixelHashes = try root.contains(ShardSchema.pixelsSHA256)
            ? root.dataset(ShardSchema.pixelsSHA256).readStrings() : [String](repeating: "", count: ids.count)
        let recordHashes = version >= 2 && root.contains(ShardSchema.recordSHA256)
            ? try root.dataset(ShardSchema.recordSHA256).readStrings() : nil
        let n = ids.count
        if let recordHashes, recordHashes.count != n {
            throw ShardError.notAShard(path: path, reason: "/record_sha256 has \(recordHashes.count) entries but /id has \(n)")
        }
        for (name, count) in [("record_frame_start", starts.count), ("record_frame_count", counts.count),
                              ("label", labels.count), ("patient", patients.count), ("source", sources.count),
                              ("source_sha256", sourceHashes.count), ("pixels_sha256", pixelHashes.count)] where count != n {
            throw ShardError.notAShard(path: path, reason: "/\(name) has \(count) entries but /id has \(n)")
        }
        var lateralities = [String](repeating: "", count: n)
        var spacings: [Double]? = nil, shapes: [Int64]? = nil
        var metadata = [RecordMetadata](repeating: RecordMetadata(), count: n)
        if root.contains(ShardSchema.meta) {
            let meta = try root.group(ShardSchema.meta)
            if meta.contains(ShardSchema.laterality) { lateralities = try meta.dataset(ShardSchema.laterality).readStrings() }
            if meta.contains(ShardSchema.spacingMM) { spacings = try meta.dataset(ShardSchema.spacingMM).read(as: Double.self) }
            if meta.contains(ShardSchema.originalShape) { shapes = try meta.dataset(ShardSchema.originalShape).read(as: Int64.self) }
            guard lateralities.count == n, spacings.map({ $0.count == 3 * n }) ?? true, shapes.map({ $0.count == 3 * n }) ?? true else {
                throw ShardError.notAShard(path: path, reason: "/meta arrays do not have one entry per record")
            }
            for field in RecordMetadata.stringFields where meta.contains(field.name) {
                let values = try meta.dataset(field.name).readStrings()
                guard values.count == n else { throw ShardError.notAShard(path: path, reason: "/meta/\(field.name) has \(values.count) entries for \(n) records") }
                for r in 0..<n { metadata[r][keyPath: field.key] = values[r] }
            }
            if meta.contains(ShardSchema.sourceSpacingMM) {
                let values = try meta.dataset(ShardSchema.sourceSpacingMM).read(as: Double.self)
                guard values.count == 3 * n else { throw ShardError.notAShard(path: path, reason: "/meta/\(ShardSchema.sourceSpacingMM) has \(values.count) values for \(n) records") }
                for r in 0..<n where !values[3 * r].isNaN { metadata[r].sourceSpacingMM = Array(values[3 * r..<3 * r + 3]) }
            }
        }
        hasDeflate = try frames.filters().contains(1)
        var records: [ShardRecordInfo] = []
        records.reserveCapacity(n)
        for r in 0..<n {
            let start = Int(starts[r]), count = Int(counts[r])
            guard start >= 0, count >= 1, start + count <= frameCount else {
                throw ShardError.notAShard(path: path, reason: "record \(r) ('\(ids[r])') claims frames \(start)..<\(start + count) of \(frameCount)")
            }
            var info = ShardRecordInfo(id: ids[r], patient: patients[r], source: sources[r], sourceSHA256: sourceHashes[r],
                                       pixelsSHA256: pixelHashes[r], label: labels[r], frameStart: start, frameCount: count)
            info.recordSHA256 = recordHashes?[r]
            info.laterality = lateralities[r]
            info.metadata = metadata[r]
            if let spacings, !spacings[3 * r].isNaN { info.spacingMM = Array(spacings[3 * r..<3 * r + 3]) }
            if let shapes, shapes[3 * r] >= 0 { info.originalShape = shapes[3 * r..<3 * r + 3].map { Int($0) } }
            records.append(info)
        }
        self.records = records
    }

    /// The frames of record `index`, frame after frame (`frameCount * frameShape.byteCount` bytes).
    public func frames(ofRecord index: Int) throws -> [UInt8] {
        guard records.indices.contains(index) else {
            throw ShardError.outOfRange(path: path, what: "record", index: index, count: records.count)
        }
        return try frames(start: records[index].frameStart, count: records[index].frameCount)
    }

    /// `count` consecutive frames starting at frame `start` of the shard.
    public func frames(start: Int, count: Int) throws -> [UInt8] {
        guard start >= 0, count >= 0, start + count <= frameCount else {
            throw ShardError.outOfRange(path: path, what: "frame", index: start + count - 1, count: frameCount)
        }
        let bytes = count * frameShape.byteCount
        return try [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            try readFrames(start: start, count: count, into: buffer)
            initialized = bytes
        }
    }

    /// Record `index` with its frames as stored (compressed chunks and their filter masks), for
    /// copying into another shard without decoding: ``ShardWriter/append(_:)-2y0eg`` takes it as is
    /// when the destination has the same filter pipeline (see ``hasDeflate``).
    public func storedRecord(_ index: Int) throws -> EncodedRecord {
        guard records.indices.contains(index) else {
            throw ShardError.outOfRange(path: path, what: "record", index: index, count: records.count)
        }
        let info = records[index]
        var chunks: [EncodedRecord.Chunk] = []
        for frame in info.frameStart..<info.frameStart + info.frameCount {
            let offset = [frame, 0, 0, 0]
            var bytes = [UInt8](repeating: 0, count: try frames.storedChunkSize(at: offset))
            let mask = try bytes.withUnsafeMutableBytes { try frames.readRawChunk(at: offset, into: $0) }
            chunks.append(EncodedRecord.Chunk(bytes: bytes, filterMask: mask))
        }
        let record = ShardRecord(id: info.id, patient: info.patient, source: info.source, sourceSHA256: info.sourceSHA256,
                                 label: info.label, frameCount: info.frameCount, pixels: [], laterality: info.laterality,
                                 spacingMM: info.spacingMM, originalShape: info.originalShape, metadata: info.metadata)
        return EncodedRecord(record: record, chunks: chunks, pixelsSHA256: info.pixelsSHA256, recordSHA256: info.recordSHA256)
    }

    /// Reads frames into caller-owned memory (no allocation per call); `buffer` holds exactly them.
    public func readFrames(start: Int, count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) throws {
        guard start >= 0, count >= 0, start + count <= frameCount else {
            throw ShardError.outOfRange(path: path, what: "frame", index: start + count - 1, count: frameCount)
        }
        guard let fast = fastFilters else {
            try frames.read(into: buffer, start: [start, 0, 0, 0],
                            count: [count, frameShape.height, frameShape.width, frameShape.channels])
            return
        }
        let frameBytes = frameShape.byteCount
        var stored = [UInt8]()
        for frame in 0..<count {
            let target = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[frame * frameBytes..<(frame + 1) * frameBytes])
            let offset = [start + frame, 0, 0, 0]
            let size = try frames.storedChunkSize(at: offset)
            if stored.count < size { stored = [UInt8](repeating: 0, count: size) }
            let mask = try stored.withUnsafeMutableBytes { try frames.readRawChunk(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<size])) }
            // Shuffle is the identity on 1-byte elements, so only deflate matters.
            let deflated = fast.deflate.map { mask & (1 << UInt32($0)) == 0 } ?? false
            let ok = stored.withUnsafeBytes { source -> Bool in
                let chunk = UnsafeRawBufferPointer(rebasing: source[0..<size])
                if deflated { return ChunkCompressor.shared.decompress(chunk, into: target) }
                guard size == frameBytes else { return false }
                target.copyMemory(from: chunk)
                return true
            }
            if !ok {
                throw ShardError.notAShard(path: path, reason: "frame \(start + frame): its stored chunk (\(size) bytes, filter mask \(mask)) does not decode to \(frameBytes) bytes")
            }
        }
    }
}
