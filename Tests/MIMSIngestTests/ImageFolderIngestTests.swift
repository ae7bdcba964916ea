import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSImage
@testable import MIMSIngest
@testable import MIMSShards

struct ImageFolderIngestTests {
    /// A small folder dataset: 2 classes x 5 patients x 2 images, PNG and JPEG, odd sizes.
    static func makeSource(in dir: String) throws {
        let fundus = SyntheticFundus(width: 90, height: 60)
        for (label, name) in ["healthy", "disease"].enumerated() {
            try FileManager.default.createDirectory(atPath: dir + "/" + name, withIntermediateDirectories: true)
            for patient in 0..<5 {
                for eye in 0..<2 {
                    let frame = fundus.image(seed: UInt64(label * 100 + patient * 2 + eye), diseased: label == 1)
                    let bytes = eye == 0 ? try PNGEncoder.encode(frame) : try JPEGEncoder.encode(frame)
                    let file = dir + "/\(name)/P\(label)\(patient)-\(eye).\(eye == 0 ? "png" : "jpg")"
                    try Data(bytes).write(to: URL(fileURLWithPath: file))
                }
            }
        }
    }

    @Test func ingestsVerifiesAndKeepsPatientsTogether() throws {
        let dir = try TemporaryDirectory()
        try Self.makeSource(in: dir.path + "/src")
        let ingest = ImageFolderIngest(root: dir.path + "/src", datasetName: "t", classes: ["healthy", "disease"],
                                       frameShape: FrameShape(height: 32, width: 48, channels: 3), seed: 3,
                                       trainFraction: 0.6, recordsPerShard: 4)
        let summary = try ingest.run(output: dir.path + "/out", toolVersion: "test")
        #expect(summary.records == 20)
        #expect(summary.shards.reduce(0) { $0 + $1.recordCount } == 20)
        var sideOfPatient: [String: String] = [:]
        var trainLabels: [Int32] = []
        for shard in summary.shards {
            #expect(ShardVerifier.verify(path: shard.path).problems == [])
            let reader = try ShardReader(path: shard.path)
            for (index, record) in reader.records.enumerated() {
                #expect(sideOfPatient.updateValue(reader.header.split, forKey: record.patient) ?? reader.header.split == reader.header.split)
                if reader.header.split == "train" { trainLabels.append(record.label) }
                // The stored pixels are the decoded source resized by BilinearResize.
                let source = try ImageDecoder.decode(path: dir.path + "/src/" + record.source).frame(channels: 3)
                let expected = try BilinearResize.resize(source, height: 32, width: 48)
                #expect(try reader.frames(ofRecord: index) == expected.pixels)
                #expect(record.sourceSHA256 == SHA256.hex(of: try FileBytes.read(dir.path + "/src/" + record.source)))
            }
        }
        // 60% of 5 patients per class = 3 patients = 6 images per class in train.
        #expect(trainLabels.filter { $0 == 0 }.count == 6)
        #expect(trainLabels.filter { $0 == 1 }.count == 6)
        let splits = try SplitsFile.read(from: dir.path + "/out/splits.json")
        #expect(splits.seed == 3 && splits.assignment.count == 20)
    }

    @Test func splitIgnoresDiscoveryOrder() {
        let records = (0..<40).map { i in
            SourceRecord(id: "r\(i)", path: "/x/r\(i)", relativePath: "r\(i)", label: Int32(i % 2), patient: "p\(i / 2 % 13)")
        }
        let forward = PatientGroupedSplit.assign(records, seed: 11, trainFraction: 0.7)
        let reversed = PatientGroupedSplit.assign(records.reversed(), seed: 11, trainFraction: 0.7)
        #expect(forward == reversed)
        #expect(PatientGroupedSplit.assign(records, seed: 12, trainFraction: 0.7) != forward)
    }

    /// Same inputs and seed, same creation time: byte-identical shards.
    @Test func ingestIsByteReproducible() throws {
        let dir = try TemporaryDirectory()
        try Self.makeSource(in: dir.path + "/src")
        setenv("SOURCE_DATE_EPOCH", "1700000000", 1)
        defer { unsetenv("SOURCE_DATE_EPOCH") }
        let ingest = ImageFolderIngest(root: dir.path + "/src", datasetName: "t", classes: ["healthy", "disease"],
                                       frameShape: FrameShape(height: 20, width: 20, channels: 1), seed: 1, recordsPerShard: 7)
        let first = try ingest.run(output: dir.path + "/a", toolVersion: "test")
        let second = try ingest.run(output: dir.path + "/b", toolVersion: "test")
        #expect(first.shards.count == second.shards.count)
        for (a, b) in zip(first.shards, second.shards) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a.path)) == Data(contentsOf: URL(fileURLWithPath: b.path)))
        }
    }

    @Test func corruptSourceFailsNamingTheFileAndLeavesNoPartialShard() throws {
        let dir = try TemporaryDirectory()
        try Self.makeSource(in: dir.path + "/src")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: URL(fileURLWithPath: dir.path + "/src/disease/P19-0.png"))
        let ingest = ImageFolderIngest(root: dir.path + "/src", datasetName: "t", classes: ["healthy", "disease"],
                                       frameShape: FrameShape(height: 20, width: 20, channels: 3), recordsPerShard: 100)
        do {
            _ = try ingest.run(output: dir.path + "/out", toolVersion: "test")
            Issue.record("a corrupt PNG was ingested")
        } catch {
            #expect("\(error)".contains("P19-0.png"))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/out")
        #expect(left.filter { $0.hasSuffix(".part") || $0.hasSuffix(".h5") } == [])
    }
}
