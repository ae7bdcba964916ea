import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSShards

struct ShardRoundTripTests {
    static let shape = FrameShape(height: 496, width: 512, channels: 1)

    /// Volumes with smooth (compressible) and random (incompressible) frames, so both the deflated
    /// and the raw chunk paths are written.
    static func makeRecords(count: Int, shape: FrameShape) -> [ShardRecord] {
        var random = TestRandom(state: 42)
        return (0..<count).map { r in
            let frames = 1 + r % 3
            var pixels = [UInt8](repeating: 0, count: frames * shape.byteCount)
            for f in 0..<frames {
                if (r + f) % 2 == 0 {
                    for i in 0..<shape.byteCount { pixels[f * shape.byteCount + i] = UInt8(truncatingIfNeeded: (i / shape.width + r * 7 + f) & 0xFF) }
                } else {
                    let noise = random.bytes(shape.byteCount)
                    pixels.replaceSubrange(f * shape.byteCount..<(f + 1) * shape.byteCount, with: noise)
                }
            }
            return ShardRecord(id: "vol-\(r)", patient: "P\(r / 2)", source: "raw/päti-\(r).vol",
                               sourceSHA256: SHA256.hex(of: Array("source \(r)".utf8)), label: Int32(r % 2),
                               frameCount: frames, pixels: pixels, laterality: r % 2 == 0 ? "OD" : "OS",
                               spacingMM: [0.0039, 0.0115, 0.12], originalShape: [frames, 496, 512])
        }
    }

    static func header(split: String = "train", index: Int = 3) -> ShardHeader {
        ShardHeader(dataset: "spectralis-test", kind: .volume3d, split: split, shardIndex: index,
                    createdUTC: "2026-11-27T00:00:00Z", toolVersion: "test", manifestSHA256: String(repeating: "a", count: 64))
    }

    @Test func writeReadVerify() throws {
        let dir = try TemporaryDirectory()
        let records = Self.makeRecords(count: 5, shape: Self.shape)
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/train-00003.h5.part"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/train-00003.h5"))
        for record in records { try writer.append(record) }
        let summary = try #require(try writer.finish())
        #expect(summary.path == dir.path + "/train-00003.h5")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/train-00003.h5.part"))

        let reader = try ShardReader(path: summary.path)
        #expect(reader.header == Self.header())
        #expect(reader.frameShape == Self.shape)
        #expect(reader.recordCount == 5)
        for (index, record) in records.enumerated() {
            #expect(reader.records[index].id == record.id)
            #expect(reader.records[index].source == record.source)
            #expect(reader.records[index].label == record.label)
            #expect(try reader.frames(ofRecord: index) == record.pixels)
        }
        let verification = ShardVerifier.verify(path: summary.path)
        #expect(verification.problems == [])
        #expect(verification.frameCount == records.reduce(0) { $0 + $1.frameCount })
    }

    @Test func incompressibleChunksAreStoredRaw() throws {
        let dir = try TemporaryDirectory()
        let records = Self.makeRecords(count: 2, shape: Self.shape)
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        for record in records { try writer.append(record) }
        let path = try #require(try writer.finish()).path
        let frames = try HDF5File.open(path).root().dataset(ShardSchema.frames)
        // Record 0 frame 0 is a smooth ramp (deflates well); record 1 frame 0 is noise (stored raw).
        #expect(try frames.storedChunkSize(at: [0, 0, 0, 0]) < Self.shape.byteCount / 10)
        #expect(try frames.storedChunkSize(at: [1, 0, 0, 0]) == Self.shape.byteCount)
    }

    @Test func h5pyReadsTheSamePixelsAndLabels() throws {
        let dir = try TemporaryDirectory()
        let records = Self.makeRecords(count: 4, shape: Self.shape)
        let writer = try ShardWriter(directory: dir.path, header: Self.header(split: "test", index: 0), frameShape: Self.shape)
        for record in records { try writer.append(record) }
        let path = try #require(try writer.finish()).path
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/read_shard.py", path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let attrs = try #require(json["attrs"] as? [String: Any])
        #expect(attrs["format"] as? String == "mims-shard")
        #expect(attrs["format_version"] as? Int == 2)
        #expect(attrs["split"] as? String == "test")
        #expect(attrs["kind"] as? String == "volume3d")
        #expect(json["frames_dtype"] as? String == "uint8")
        #expect(json["frames_chunks"] as? [Int] == [1, 496, 512, 1])
        #expect(json["frames_compression"] as? String == "gzip")
        #expect(json["ids"] as? [String] == records.map(\.id))
        #expect(json["sources"] as? [String] == records.map(\.source))
        #expect(json["labels"] as? [Int] == records.map { Int($0.label) })
        #expect(json["source_sha256"] as? [String] == records.map(\.sourceSHA256))
        let pyRecords = try #require(json["records"] as? [[String: Any]])
        for (index, record) in records.enumerated() {
            #expect(pyRecords[index]["frame_count"] as? Int == record.frameCount)
            #expect(pyRecords[index]["sha256"] as? String == SHA256.hex(of: record.pixels))
            #expect(pyRecords[index]["first_pixels"] as? [Int] == record.pixels.prefix(8).map(Int.init))
        }
    }

    @Test func verifierCatchesCorruptedPixels() throws {
        let dir = try TemporaryDirectory()
        let records = Self.makeRecords(count: 2, shape: Self.shape)
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape, deflateLevel: 0)
        for record in records { try writer.append(record) }
        let path = try #require(try writer.finish()).path
        // Flip one byte inside record 1's raw (noise) chunk, found by its pixel content in the file.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(records[1].pixels[1000..<1032])
        let at = try #require(bytes.indices.first { i in i + 32 <= bytes.count && Array(bytes[i..<i + 32]) == needle })
        bytes[at] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let verification = ShardVerifier.verify(path: path)
        #expect(verification.problems == ["record 'vol-1': pixels do not match pixels_sha256"])
    }

    /// A shard published before HDF5 finished closing it keeps the superblock's open-for-writing
    /// flag; the writer closes every handle first, and the verifier catches the flag.
    @Test func publishedShardsAreClosedCleanly() throws {
        let dir = try TemporaryDirectory()
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        try writer.append(Self.makeRecords(count: 1, shape: Self.shape)[0])
        let path = try #require(try writer.finish()).path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes[8] == 0 && bytes[20..<24].allSatisfy { $0 == 0 })
        bytes[20] = 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(ShardVerifier.verify(path: path).problems == ["the file was not closed cleanly (superblock version 0 flags 1)"])
    }

    /// The writer's own check compares re-read frames with the CRC-32 of what it wrote.
    @Test func writerCRCsCatchAMismatch() throws {
        let dir = try TemporaryDirectory()
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        for record in Self.makeRecords(count: 3, shape: Self.shape) { try writer.append(record) }
        let summary = try #require(try writer.finish())
        #expect(summary.pixelCRC32s.count == 3 && summary.pixelCRC32s.allSatisfy { $0 != nil })
        #expect(ShardVerifier.verify(path: summary.path, expectedCRC32s: summary.pixelCRC32s).problems == [])
        var wrong = summary.pixelCRC32s
        wrong[1] = wrong[1]! ^ 1
        #expect(ShardVerifier.verify(path: summary.path, expectedCRC32s: wrong).problems == ["record 'vol-1': pixels differ from what was written"])
    }

    @Test func closingWithOpenObjectsIsRefused() throws {
        let dir = try TemporaryDirectory()
        let file = try HDF5File.create(dir.path + "/x.h5")
        let group = try file.root().createGroup("g")
        #expect(throws: HDF5Error.self) { try file.close() }
        _ = group
    }

    @Test func abandonedAndEmptyWritersLeaveNothing() throws {
        let dir = try TemporaryDirectory()
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        try writer.append(Self.makeRecords(count: 1, shape: Self.shape)[0])
        writer.abandon()
        let empty = try ShardWriter(directory: dir.path, header: Self.header(index: 4), frameShape: Self.shape)
        #expect(try empty.finish() == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
    }

    @Test func badRecordsAreRejectedWithTheirId() throws {
        let dir = try TemporaryDirectory()
        let writer = try ShardWriter(directory: dir.path, header: Self.header(), frameShape: Self.shape)
        defer { writer.abandon() }
        var record = Self.makeRecords(count: 1, shape: Self.shape)[0]
        record.pixels.removeLast()
        #expect(throws: ShardError.self) { try writer.append(record) }
        do {
            try writer.append(record)
        } catch {
            #expect("\(error)".hasPrefix("record 'vol-0': holds"))
        }
    }

    @Test func notAShardIsReported() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/train-00000.h5"
        try Data("definitely not hdf5".utf8).write(to: URL(fileURLWithPath: path))
        let verification = ShardVerifier.verify(path: path)
        #expect(verification.problems.count == 1)
        #expect(verification.problems[0].contains(path))
    }

    @Test func fileNames() {
        #expect(ShardSet.shardName(split: "val", index: 12) == "val-00012.h5")
        #expect(ShardSet.parseShardName("train-00007.h5")! == ("train", 7))
        #expect(ShardSet.parseShardName("train-7.h5") == nil)
        #expect(ShardSet.parseShardName("dev-00001.h5") == nil)
    }
}
