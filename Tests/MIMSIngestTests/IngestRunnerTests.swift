import Foundation
import MIMSImage
import MIMSOCT
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// The runner end to end on synthetic datasets in the vendors' formats.
struct IngestRunnerTests {
    func ingest(_ source: String, _ out: String, resume: Bool = false) throws -> IngestRunner.Report {
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        return try IngestRunner(manifest: manifest, output: out,
                                options: .init(jobs: 2, resume: resume, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z"),
                                reporter: ProgressReporter(format: .json)).run()
    }

    /// Every lesion box of lesions.json lands on lesion pixels of the shard's frame: the darkest
    /// (OCT fluid) or most lesion-coloured pixels lie inside the boxes.
    func checkLesions(source: String, out: String, isLesion: ([UInt8]) -> Bool, minimumFraction: Double) throws {
        let lesions = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/lesions.json"))) as! [[String: Any]]
        #expect(!lesions.isEmpty)
        var readers: [String: (ShardReader, Int)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out) where name.hasSuffix(".h5") {
            let reader = try ShardReader(path: out + "/" + name)
            for (index, record) in reader.records.enumerated() { readers[record.id] = (reader, index) }
        }
        for lesion in lesions {
            let id = lesion["id"] as! String
            let (reader, index) = try #require(readers[id], "\(id) not in any shard")
            let record = reader.records[index]
            let shape = reader.frameShape
            let frame = lesion["frame"] as! Int
            #expect(frame < record.frameCount)
            let pixels = try reader.frames(start: record.frameStart + frame, count: 1)
            let (y0, x0, y1, x1) = (lesion["y0"] as! Int, lesion["x0"] as! Int, lesion["y1"] as! Int, lesion["x1"] as! Int)
            #expect(0 <= y0 && y0 < y1 && y1 <= shape.height && 0 <= x0 && x0 < x1 && x1 <= shape.width)
            var hits = 0
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let at = (y * shape.width + x) * shape.channels
                    if isLesion(Array(pixels[at..<at + shape.channels])) { hits += 1 }
                }
            }
            #expect(Double(hits) / Double((y1 - y0) * (x1 - x0)) >= minimumFraction, "\(id) frame \(frame)")
        }
    }

    @Test func crcTilesEndToEnd() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 48, seed: 4).write(to: source)
        let report = try ingest(source, out)
        #expect(report.discovered == 48 && report.written == 48 && report.rejections.isEmpty && report.problems.isEmpty)
        for name in ["splits.json", "ingest.journal", "rejected.jsonl", "manifest.yaml", "train-00000.h5", "test-00000.h5"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        // Pixels are the decoded PNGs, untouched (224x224 RGB needs no resize).
        let reader = try ShardReader(path: out + "/train-00000.h5")
        for index in [0, reader.recordCount - 1] {
            let record = reader.records[index]
            let decoded = try ImageDecoder.decode(path: source + "/" + record.source).frame(channels: 3)
            #expect(try reader.frames(ofRecord: index) == decoded.pixels)
            #expect(record.sourceSHA256 == SHA256.hex(of: try FileBytes.read(source + "/" + record.source)))
            #expect(record.patient.hasPrefix("TCGA-"))
        }
        // Dark lymphocyte nuclei fill the lesion boxes.
        try checkLesions(source: source, out: out, isLesion: { $0[0] < 80 && $0[2] < 130 }, minimumFraction: 0.15)
    }

    @Test func cirrusVolumesLandInReaderOrientationWithTheirLesions() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 4, seed: 2, small: true).write(to: source)
        let report = try ingest(source, out)
        #expect(report.written == 4 && report.problems.isEmpty)
        let shards = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".h5") }.sorted()
        let reader = try ShardReader(path: out + "/" + shards[0])
        #expect(reader.frameShape == FrameShape(height: 224, width: 224, channels: 1))
        #expect(reader.records.allSatisfy { $0.frameCount == 30 })
        // The shard frame is the reader's central slice, resized.
        let record = reader.records[0]
        let volume = try CirrusImgReader.read(path: source + "/" + record.source)
        let expected = try BilinearResize.resize(volume.frame(1 + 0), height: 224, width: 224)
        #expect(try reader.frames(start: record.frameStart, count: 1) == expected.pixels)
        // Fluid pockets are dark.
        try checkLesions(source: source, out: out, isLesion: { $0[0] < 45 }, minimumFraction: 0.4)
    }

    @Test func spectralisAndFundusIngest() throws {
        for dataset in [SyntheticDataset.spectralis, .mmd] {
            let dir = try TemporaryDirectory()
            let source = dir.path + "/src", out = dir.path + "/out"
            _ = try SyntheticDatasetWriter(dataset: dataset, count: 6, seed: 3, small: true).write(to: source)
            let report = try ingest(source, out)
            #expect(report.written == 6 && report.problems.isEmpty)
            if dataset == .mmd {
                try checkLesions(source: source, out: out, isLesion: { $0[0] > 200 && $0[1] > 170 }, minimumFraction: 0.3)
            } else {
                try checkLesions(source: source, out: out, isLesion: { $0[0] < 45 }, minimumFraction: 0.4)
            }
        }
    }

    @Test func refusesANonEmptyFolderWithoutResume() throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 8).write(to: dir.path + "/src")
        try FileManager.default.createDirectory(atPath: dir.path + "/out", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.path + "/out/precious.txt", contents: Data("keep".utf8))
        #expect(throws: IngestError.outputNotEmpty(path: dir.path + "/out")) { try ingest(dir.path + "/src", dir.path + "/out") }
        #expect(FileManager.default.contents(atPath: dir.path + "/out/precious.txt") == Data("keep".utf8))
    }

    /// Unreadable files are rejected into rejected.jsonl and the run goes on.
    @Test func rejectsBadFilesAndCarriesOn() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 16).write(to: source)
        let victims = try FileManager.default.contentsOfDirectory(atPath: source + "/CRC_DX_TRAIN_MSS").sorted().prefix(2)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: source + "/CRC_DX_TRAIN_MSS/" + victims.first!))
        let small = Frame(width: 100, height: 100, channels: 3)
        try Data(PNGEncoder.encode(small)).write(to: URL(fileURLWithPath: source + "/CRC_DX_TRAIN_MSS/" + victims.last!))
        let report = try ingest(source, dir.path + "/out")
        #expect(report.written == 14 && report.rejections.count == 2 && report.problems.isEmpty)
        let lines = try String(contentsOfFile: dir.path + "/out/rejected.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let reasons = lines.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["reason"] as! String }
        #expect(reasons.contains { $0.contains("100x100 (HxW), expected 224x224") })
        #expect(reasons.contains { $0.contains("not a JPEG, PNG or TIFF file") })
    }

    /// Same inputs, same bytes: pixel data, splits and (with a fixed creation time) whole shard files.
    @Test func reproducible() throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 10, small: true).write(to: dir.path + "/src")
        _ = try ingest(dir.path + "/src", dir.path + "/a")
        _ = try ingest(dir.path + "/src", dir.path + "/b")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path + "/a") where name.hasSuffix(".h5") || name == "splits.json" {
            #expect(FileManager.default.contents(atPath: dir.path + "/a/" + name) == FileManager.default.contents(atPath: dir.path + "/b/" + name), "\(name)")
        }
    }

    /// A run cut short after some shards (a published shard not yet journaled, a stale .part)
    /// resumes to exactly the uninterrupted result.
    @Test func resumeFinishesAnInterruptedRun() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 40).write(to: source)
        var text = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "records_per_shard: 1000", with: "records_per_shard: 6")
        try text.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
        _ = try ingest(source, dir.path + "/full")
        _ = try ingest(source, dir.path + "/cut")
        // Simulate a kill: drop the journal's tail after the second shard (so one published shard
        // is unjournaled), delete the later shards, leave a half-written .part.
        let journal = try String(contentsOfFile: dir.path + "/cut/ingest.journal", encoding: .utf8).split(separator: "\n")
        let shardLines = journal.enumerated().filter { $0.element.contains("\"event\":\"shard\"") }.map(\.offset)
        try (journal[...shardLines[1]].joined(separator: "\n") + "\n{\"event\":\"sha").write(toFile: dir.path + "/cut/ingest.journal", atomically: true, encoding: .utf8)
        let shards = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/cut").filter { $0.hasSuffix(".h5") }.sorted()
        let keep = Set(shards.filter { $0.hasPrefix("test") } + ["train-00000.h5", "train-00001.h5", "train-00002.h5"])
        for name in shards where !keep.contains(name) { try FileManager.default.removeItem(atPath: dir.path + "/cut/" + name) }
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: dir.path + "/cut/train-00003.h5.part"))
        try FileManager.default.removeItem(atPath: dir.path + "/cut/rejected.jsonl")

        #expect(throws: IngestError.self) { try ingest(source, dir.path + "/cut") }  // no --resume: refused
        let report = try ingest(source, dir.path + "/cut", resume: true)
        #expect(report.problems.isEmpty && report.written == 40)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/full").filter { $0.hasSuffix(".h5") }.sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/cut").filter { $0.hasSuffix(".h5") || $0.hasSuffix(".part") }.sorted() == names)
        for name in names {
            #expect(FileManager.default.contents(atPath: dir.path + "/full/" + name) == FileManager.default.contents(atPath: dir.path + "/cut/" + name), "\(name)")
        }
    }
}
