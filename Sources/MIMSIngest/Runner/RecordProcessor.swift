import Foundation
import MIMSCore
import MIMSImage
import MIMSOCT
import MIMSShards

/// Decode, normalize and compress one record: everything but the HDF5 write. Pure and safe on any
/// thread; failures are reasons for rejection, never crashes.
public struct RecordProcessor: Sendable {
    public let manifest: Manifest
    /// The frame shape every record must reach.
    public let frameShape: FrameShape

    public init(manifest: Manifest, frameShape: FrameShape) {
        self.manifest = manifest
        self.frameShape = frameShape
    }

    /// The frame shape of a run: the manifest's target size, else the size of the first record
    /// (in id order) that decodes.
    public static func frameShape(for manifest: Manifest, records: [SourceRecord]) -> FrameShape? {
        if let size = manifest.normalize.size {
            return FrameShape(height: size.height, width: size.width, channels: manifest.normalize.channels)
        }
        for record in records {
            if let source = try? read(path: record.path, kind: manifest.kind, reader: manifest.reader, intensity: manifest.normalize.intensity) {
                let frames = selectSlices(source, manifest.normalize.slices)
                return FrameShape(height: frames.frames[0].height, width: frames.frames[0].width, channels: manifest.normalize.channels)
            }
        }
        return nil
    }

    /// A record ready for the writer, and what the run should report about it.
    public struct Output: Sendable {
        public var encoded: EncodedRecord
        /// The reader's warnings (nothing rejected, but worth knowing).
        public var warnings: [String]
        /// Frames kept when the volume had fewer than `slices: central` asks for, else nil.
        public var shortFrames: (kept: Int, wanted: Int)?
    }

    public func encode(_ record: SourceRecord) -> Result<EncodedRecord, Rejection> {
        process(record).map(\.encoded)
    }

    /// One record through the stages, in order: read, select slices, resize and convert, encode.
    public func process(_ record: SourceRecord) -> Result<Output, Rejection> {
        do {
            let source = try Self.read(path: record.path, kind: manifest.kind, reader: manifest.reader, intensity: manifest.normalize.intensity)
            // The file must be the one discovery saw, unchanged, through the whole read: a file
            // rewritten or truncated meanwhile may have been decoded from a mix of versions.
            if let seen = record.identity {
                guard let now = FileIdentity.of(record.path) else {
                    throw IngestRejection("changed while being read: the file vanished")
                }
                if now != seen {
                    throw IngestRejection(now.size != seen.size
                        ? "changed while being read: it was \(seen.size) bytes when found, \(now.size) after reading"
                        : "changed while being read: it was modified (or replaced) after it was found")
                }
            }
            let decoded = Self.selectSlices(source, manifest.normalize.slices)
            var shortFrames: (Int, Int)? = nil
            if case let .central(wanted) = manifest.normalize.slices, decoded.originalShape[0] < wanted {
                shortFrames = (decoded.frames.count, wanted)
            }
            try manifest.normalize.requireMinFrames(decoded.originalShape[0])
            let pixels = try Self.resizeAndConvert(decoded.frames, frameShape: frameShape, resizes: manifest.normalize.size != nil)
            let encoded = try encode(record, decoded, pixels: pixels)
            return .success(Output(encoded: encoded, warnings: decoded.warnings, shortFrames: shortFrames))
        } catch let rejection as IngestRejection {
            return .failure(Rejection(id: record.id, path: record.path, reason: rejection.reason, label: record.label))
        } catch {
            return .failure(Rejection(id: record.id, path: record.path, reason: ReadableError.describe(error), label: record.label))
        }
    }

    /// The read stage's result: the source at its own size, every frame, and what it records.
    struct SourceFrames {
        /// A 2D image is one frame; a volume's frames stay in the volume until slice selection
        /// copies out the ones kept.
        enum Pixels {
            case image(Frame)
            case volume(OCTVolume)
        }
        var pixels: Pixels
        var warnings: [String] = []
        var sourceSHA256: String
        var laterality: String?
        var spacing: [Double]?
        var originalShape: [Int]
        var metadata = RecordMetadata()
    }

    /// The slice-selection stage's result: the frames kept, at the source's size.
    struct DecodedFrames {
        var frames: [Frame]
        var warnings: [String]
        var sourceSHA256: String
        var laterality: String?
        var spacing: [Double]?
        var originalShape: [Int]
        var metadata: RecordMetadata
    }

    /// The encode stage: the record with its frames' pixels, as the shard writer stores it.
    func encode(_ record: SourceRecord, _ decoded: DecodedFrames, pixels: [UInt8]) throws -> EncodedRecord {
        var metadata = decoded.metadata
        metadata.sourceSpacingMM = decoded.spacing
        let shardRecord = ShardRecord(
            id: record.id, patient: record.patient, source: record.relativePath, sourceSHA256: decoded.sourceSHA256,
            label: record.label, frameCount: decoded.frames.count, pixels: pixels, laterality: decoded.laterality ?? "",
            spacingMM: decoded.spacing.map { Self.gridSpacing($0, from: decoded.originalShape, to: frameShape) },
            originalShape: decoded.originalShape, metadata: metadata)
        return try ShardWriter.encode(shardRecord, frameShape: frameShape, deflateLevel: manifest.shards.deflateLevel)
    }

    /// The spacing of the stored frames' grid: a frame resized from H x W to H' x W' has pixels
    /// H/H' and W/W' times the source's (bilinear, corners not aligned: the same field of view);
    /// the distance between B-scans does not change.
    static func gridSpacing(_ source: [Double], from shape: [Int], to frame: FrameShape) -> [Double] {
        guard shape.count == 3, shape[1] > 0, shape[2] > 0 else { return source }
        return [source[0] * Double(shape[1]) / Double(frame.height), source[1] * Double(shape[2]) / Double(frame.width), source[2]]
    }

    /// The record metadata of an OCT export, the same fields for every reader.
    static func recordMetadata(_ meta: OCTMetadata) -> RecordMetadata {
        RecordMetadata(patientID: meta.patientID ?? "", scanDate: String((meta.acquired ?? "").prefix(10)),
                       scanPattern: meta.scanPattern ?? "", device: meta.device ?? "")
    }

    /// The resize and convert stages: the frames at `frameShape` (resized when `resizes`, else
    /// they must have its size), with its channel count, concatenated. One loop over the frames,
    /// each resized then converted then appended, so that only one frame at a time exists at the
    /// target size: two passes would hold a resized copy of every frame between them.
    static func resizeAndConvert(_ frames: [Frame], frameShape: FrameShape, resizes: Bool) throws -> [UInt8] {
        var pixels = [UInt8]()
        pixels.reserveCapacity(frames.count * frameShape.byteCount)
        for (index, var frame) in frames.enumerated() {
            if frame.width != frameShape.width || frame.height != frameShape.height {
                guard resizes else {
                    throw IngestRejection("frame \(index) is \(frame.height)x\(frame.width) (HxW), expected \(frameShape.height)x\(frameShape.width) like the first record; set normalize.size to resize")
                }
                frame = try BilinearResize.resize(frame, height: frameShape.height, width: frameShape.width)
            }
            pixels += try frame.converted(toChannels: frameShape.channels).pixels
        }
        return pixels
    }

    /// The read stage: the file (or folder) at `path` as decoded (its own size), every frame.
    static func read(path: String, kind: DatasetKind, reader: ReaderChoice, intensity: IntensityTransform) throws -> SourceFrames {
        switch kind {
        case .image2d:
            let bytes = try FileBytes.read(path)
            let expected: ImageFormat? = switch reader {
            case .png: .png
            case .jpeg: .jpeg
            case .tiff: .tiff
            case .auto: nil
            default: throw IngestRejection("reader \(reader.rawValue) does not read 2D images")
            }
            if let expected, let found = ImageFormat.sniff(bytes), found != expected {
                throw IngestRejection("content is \(found.rawValue), not the manifest's reader \(expected.rawValue)")
            }
            let image = try ImageDecoder.decode(bytes, file: path)
            let warnings = image.pageCount > 1
                ? ["the TIFF holds \(image.pageCount) pages; the first is ingested (a stack of B-scans belongs in a volume3d dataset)"] : []
            return SourceFrames(pixels: .image(image.to8Bit()), warnings: warnings, sourceSHA256: SHA256.hex(of: bytes), laterality: nil, spacing: nil,
                                originalShape: [1, image.height, image.width])
        case .volume3d:
            let volume = try readVolume(path: path, reader: reader, intensity: intensity)
            let spacing = volume.metadata.spacing.map { [$0.depth, $0.width, $0.betweenFrames] }
            return SourceFrames(pixels: .volume(volume), warnings: volume.metadata.warnings,
                                sourceSHA256: try hashSource(path, format: volume.metadata.format),
                                laterality: volume.metadata.laterality?.rawValue, spacing: spacing,
                                originalShape: [volume.frameCount, volume.height, volume.width], metadata: recordMetadata(volume.metadata))
        }
    }

    /// The slice-selection stage: a volume's B-scans that `selection` keeps (an image's one frame).
    static func selectSlices(_ source: SourceFrames, _ selection: SliceSelection) -> DecodedFrames {
        let frames: [Frame]
        switch source.pixels {
        case let .image(frame): frames = [frame]
        case let .volume(volume):
            let keep: Range<Int>
            switch selection {
            case .all: keep = 0..<volume.frameCount
            case let .central(count):
                let n = min(count, volume.frameCount)
                let start = (volume.frameCount - n) / 2
                keep = start..<start + n
            }
            frames = keep.map { volume.frame($0) }
        }
        return DecodedFrames(frames: frames, warnings: source.warnings, sourceSHA256: source.sourceSHA256, laterality: source.laterality,
                             spacing: source.spacing, originalShape: source.originalShape, metadata: source.metadata)
    }

    static func readVolume(path: String, reader: ReaderChoice, intensity: IntensityTransform) throws -> OCTVolume {
        guard reader.readsVolumes else {
            throw IngestRejection("reader \(reader.rawValue) does not read volumes")
        }
        let wanted = reader.volumeFormat
        if let wanted, OCTReader.reader(for: wanted).recognizedByContent,
           let detected = OCTReader.detect(path: path), detected != wanted {
            throw IngestRejection("content is \(detected.rawValue), not the manifest's reader \(wanted.rawValue)")
        }
        let volumes = try OCTReader.read(path: path, as: wanted, transform: intensity)
        guard volumes.count == 1 else {
            throw IngestRejection("holds \(volumes.count) volumes; export one volume per file")
        }
        return volumes[0]
    }

    /// SHA-256 of the files the export consists of, in its reader's order (`sourceFiles`: the file
    /// itself, a slice folder's files in natural order, a Heyex export's XML and the images it lists).
    static func hashSource(_ path: String, format: OCTFormat) throws -> String {
        var hasher = SHA256()
        for file in try OCTReader.reader(for: format).sourceFiles(path: path) {
            let mapped = try LoadedFile(path: file)
            hasher.update(mapped.bytes)
        }
        return hasher.finalizeHex()
    }
}

/// A reason to reject a record, in words for rejected.jsonl.
struct IngestRejection: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
