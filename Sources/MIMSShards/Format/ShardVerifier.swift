import Foundation
import MIMSCore
import CHDF5

/// The outcome of verifying one shard.
public struct ShardVerification: Sendable {
    public var path: String
    public var recordCount: Int
    public var frameCount: Int
    /// Every problem found, each a sentence naming what is wrong; empty when the shard is sound.
    public var problems: [String]
    /// What the verifier could not check (format-1 shards carry no record digests).
    public var notes: [String] = []

    public var isValid: Bool { problems.isEmpty }
}

/// Re-opens shards and checks them against format 2 (or 1): header, schema and types, counts, the
/// frame table, each record's digest (format 2), and the pixels against their SHA-256. A damaged
/// record is one problem naming it, not a cascade.
public enum ShardVerifier {
    /// Verifies one shard. Never throws: an unreadable file is reported as a problem.
    /// - Parameter expectedCRC32s: per record, the CRC-32 of the frames as they were written; where
    ///   given, a record's pixels are checked against it instead of the stored SHA-256 (the writer's
    ///   own check right after writing; `mims-ingest verify` always uses the SHA-256).
    public static func verify(path: String, checkPixels: Bool = true, expectedCRC32s: [UInt32?]? = nil) -> ShardVerification {
        var problems: [String] = []
        let reader: ShardReader
        do {
            reader = try ShardReader(path: path)
        } catch {
            return ShardVerification(path: path, recordCount: 0, frameCount: 0, problems: [ReadableError.describe(error)])
        }
        let name = String(path.split(separator: "/").last ?? "")
        if let parsed = ShardSet.parseShardName(name) {
            if parsed.split != reader.header.split {
                problems.append("file name says split '\(parsed.split)' but the header says '\(reader.header.split)'")
            }
            if parsed.index != reader.header.shardIndex {
                problems.append("file name says shard \(parsed.index) but the header says \(reader.header.shardIndex)")
            }
        } else {
            problems.append("file name '\(name)' is not <split>-<index:05d>.h5")
        }
        if reader.header.manifestSHA256.count != 0 && reader.header.manifestSHA256.count != 64 {
            problems.append("manifest_sha256 is not 64 hex characters")
        }
        if ![1, 3].contains(reader.frameShape.channels) {
            problems.append("frames have \(reader.frameShape.channels) channels; 1 or 3 expected")
        }
        problems += schemaProblems(path: path, frameShape: reader.frameShape, version: reader.formatVersion)
        var notes: [String] = []
        if reader.formatVersion < 2 { notes.append("format version 1: records carry no digests, so edits of labels, ids or patients cannot be detected") }
        if let problem = closedCleanlyProblem(path: path) { problems.append(problem) }

        var expectedStart = 0
        var seen = Set<String>()
        for (index, record) in reader.records.enumerated() {
            if record.frameStart != expectedStart {
                problems.append("record \(index) ('\(record.id)') starts at frame \(record.frameStart), expected \(expectedStart)")
            }
            expectedStart = record.frameStart + record.frameCount
            if !seen.insert(record.id).inserted { problems.append("record id '\(record.id)' appears twice") }
            if reader.header.kind == .image2d && record.frameCount != 1 {
                problems.append("record '\(record.id)' of an image2d shard has \(record.frameCount) frames")
            }
            if record.sourceSHA256.count != 64 || !record.sourceSHA256.utf8.allSatisfy(isHexDigit) {
                problems.append("record '\(record.id)' has a malformed source_sha256")
            } else if let stored = record.recordSHA256, stored != RecordDigest.of(record) {
                problems.append("record '\(record.id)': its id, label, patient or hashes changed after it was written (record_sha256 does not match; label now \(record.label), patient '\(record.patient)')")
            }
        }
        if expectedStart != reader.frameCount {
            problems.append("records cover \(expectedStart) frames but /frames holds \(reader.frameCount)")
        }
        if checkPixels {
            for (index, record) in reader.records.enumerated() {
                do {
                    let pixels = try reader.frames(start: record.frameStart, count: record.frameCount)
                    if let expected = expectedCRC32s, index < expected.count, let crc = expected[index] {
                        if PixelCRC.of(pixels) != crc { problems.append("record '\(record.id)': pixels differ from what was written") }
                    } else if SHA256.hex(of: pixels) != record.pixelsSHA256 {
                        problems.append("record '\(record.id)': pixels do not match pixels_sha256")
                    }
                } catch {
                    problems.append("record '\(record.id)': \(ReadableError.describe(error))")
                }
            }
        }
        return ShardVerification(path: path, recordCount: reader.recordCount, frameCount: reader.frameCount, problems: problems, notes: notes)
    }

    /// A file whose superblock still says "open for writing" was published before HDF5 finished
    /// closing it. The flags sit at byte 20 (superblock versions 0 and 1) or 11 (versions 2 and 3).
    static func closedCleanlyProblem(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 24), head.count == 24,
              head.prefix(8) == Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) else { return nil }
        let version = head[8]
        let flags = version <= 1 ? head[20] | head[21] | head[22] | head[23] : head[11]
        return flags == 0 ? nil : "the file was not closed cleanly (superblock version \(version) flags \(flags))"
    }

    /// Checks dataset presence, element types, ranks and the frames' chunking and filters.
    static func schemaProblems(path: String, frameShape: FrameShape, version: Int) -> [String] {
        var problems: [String] = []
        do {
            let file = try HDF5File.open(path)
            let root = try file.root()
            let expected: [(String, H5T_class_t, Int?)] = [
                (ShardSchema.frames, H5T_INTEGER, 1), (ShardSchema.recordFrameStart, H5T_INTEGER, 8),
                (ShardSchema.recordFrameCount, H5T_INTEGER, 4), (ShardSchema.label, H5T_INTEGER, 4),
                (ShardSchema.id, H5T_STRING, nil), (ShardSchema.patient, H5T_STRING, nil),
                (ShardSchema.source, H5T_STRING, nil), (ShardSchema.sourceSHA256, H5T_STRING, 64),
                (ShardSchema.pixelsSHA256, H5T_STRING, 64),
            ] + (version >= 2 ? [(ShardSchema.recordSHA256, H5T_STRING, 64)] : [])
            for (name, typeClass, size) in expected {
                guard root.contains(name) else {
                    problems.append("/\(name) is missing")
                    continue
                }
                let type = try root.dataset(name).elementType()
                if type.typeClass != typeClass || (size != nil && type.size != size!) {
                    problems.append("/\(name) has the wrong element type")
                }
            }
            let frames = try root.dataset(ShardSchema.frames)
            if try frames.chunkShape() != [1, frameShape.height, frameShape.width, frameShape.channels] {
                problems.append("/frames is not chunked one frame per chunk")
            }
            let filters = try frames.filters()
            if !filters.allSatisfy({ $0 == Int(H5Z_FILTER_SHUFFLE) || $0 == Int(H5Z_FILTER_DEFLATE) }) {
                problems.append("/frames uses filters \(filters); only shuffle and deflate are allowed")
            }
        } catch {
            problems.append(ReadableError.describe(error))
        }
        return problems
    }
}
