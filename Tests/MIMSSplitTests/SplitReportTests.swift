import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSSplit

struct SplitReportTests {
    func ingest(_ source: String, _ out: String) throws {
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        _ = try IngestRunner(manifest: manifest, output: out, options: .init(jobs: 2, toolVersion: "test"),
                             reporter: ProgressReporter(format: .quiet)).run()
    }

    /// The report's counts equal h5py's, for synthetic datasets of every kind.
    @Test(arguments: SyntheticDataset.allCases)
    func countsMatchAnIndependentCount(_ dataset: SyntheticDataset) throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: dataset, count: dataset == .crcMSI ? 60 : 6, seed: 2, small: true).write(to: dir.path + "/src")
        try ingest(dir.path + "/src", dir.path + "/out")
        let report = try SplitReport.build(directory: dir.path + "/out")
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/split_counts.py", dir.path + "/out"])
        let independent = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: [String: Any]]
        #expect(Set(report.splits.map(\.name)) == Set(independent.keys))
        for split in report.splits {
            let other = try #require(independent[split.name])
            #expect(split.records == other["records"] as? Int)
            #expect(split.frames == other["frames"] as? Int)
            #expect(split.patients == other["patients"] as? Int)
            #expect(split.bytes == other["bytes"] as? Int)
            let labels = other["labels"] as! [String: Int]
            #expect(Dictionary(uniqueKeysWithValues: split.classCounts.map { (String($0.key), $0.value) }) == labels)
        }
        #expect(report.classNames.count == 2)
        #expect(report.problems == [])
        // JSON round trip carries the same numbers.
        let json = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as! [String: Any]
        #expect((json["splits"] as! [[String: Any]]).map { $0["records"] as! Int } == report.splits.map(\.records))
        #expect(report.markdown().contains("| split | records | frames | patients |"))
    }

    /// The CRC layout: round(0.02 x test size) moved, their classes reported, the straddling
    /// patients marked as intended, not as leakage.
    @Test func crcMoveIsReportedExactly() throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 300, seed: 6).write(to: dir.path + "/src")
        try ingest(dir.path + "/src", dir.path + "/out")
        let officialTest = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/src").filter { $0.hasPrefix("CRC_DX_TEST") }
            .reduce(0) { $0 + (try FileManager.default.contentsOfDirectory(atPath: dir.path + "/src/" + $1).count) }
        let report = try SplitReport.build(directory: dir.path + "/out")
        let expected = Int((0.02 * Double(officialTest)).rounded(.toNearestOrAwayFromZero))
        #expect(expected > 0)
        #expect(report.moved.count == expected)
        #expect(report.movedPerClass.values.reduce(0, +) == expected)
        // Classes of the moved records, from their folders.
        var classes: [Int: Int] = [:]
        for id in report.moved { classes[id.contains("_MSIMUT/") ? 1 : 0, default: 0] += 1 }
        #expect(report.movedPerClass == classes)
        #expect(report.splits.first { $0.name == "test" }?.records == officialTest - expected)
        #expect(!report.overlaps.isEmpty && report.overlaps.allSatisfy(\.intended))
        #expect(report.problems == [])
        #expect(report.text().contains("moved test -> train by the policy: \(expected) records"))
    }

    /// A planted duplicate image and a planted patient overlap are both caught.
    @Test func plantedLeakageIsCaught() throws {
        let dir = try TemporaryDirectory()
        // A duplicate (the same bytes under another name in test) and an overlap (a training
        // patient's tile moved into test), planted by the shared fixture.
        try TrainingFixtures.writeLeakingShards(dir, to: dir.path + "/out")
        let report = try SplitReport.build(directory: dir.path + "/out")
        #expect(report.duplicates.contains { $0.acrossSplits })
        #expect(report.overlaps.contains { !$0.intended })
        #expect(report.problems.contains { $0.hasPrefix("duplicate image across splits") })
        #expect(report.problems.contains { $0.hasPrefix("patient overlap between train and test") })
        // That `mims-split check` fails on it: EndToEndTests/SplitCheckCommandTests.
    }

    @Test func singleClassSplitAndCountMismatchAreProblems() throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 8, small: true).write(to: dir.path + "/src")
        try ingest(dir.path + "/src", dir.path + "/out")
        var splits = try SplitsFile.read(from: dir.path + "/out/splits.json")
        let id = splits.assignment.keys.sorted()[0]
        splits.assignment[id] = splits.assignment[id] == "train" ? "test" : "train"
        try splits.write(to: dir.path + "/out/splits.json")
        let report = try SplitReport.build(directory: dir.path + "/out")
        #expect(report.inconsistencies.count == 1 && report.problems.contains { $0.contains("'\(id)' is assigned to") })
    }
}

struct ResplitTests {
    func ingestCRC(_ dir: String, count: Int = 80) throws -> String {
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: count, seed: 9).write(to: dir + "/src")
        let manifest = try ManifestParser.load(path: dir + "/src/manifest.yaml")
        _ = try IngestRunner(manifest: manifest, output: dir + "/out", options: .init(jobs: 2, toolVersion: "test"),
                             reporter: ProgressReporter(format: .quiet)).run()
        return dir + "/out"
    }

    func records(_ directory: String) throws -> [String: (split: String, patient: String, pixels: String, frames: [UInt8])] {
        var result: [String: (String, String, String, [UInt8])] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where ShardSet.parseShardName(name) != nil {
            let reader = try ShardReader(path: directory + "/" + name)
            for (index, record) in reader.records.enumerated() {
                #expect(result[record.id] == nil, "\(record.id) twice")
                result[record.id] = (reader.header.split, record.patient, record.pixelsSHA256, try reader.frames(ofRecord: index))
            }
        }
        return result
    }

    @Test func ratioResplitCopiesEveryRecordOnceWithoutLeakage() throws {
        let dir = try TemporaryDirectory()
        let source = try ingestCRC(dir.path)
        let result = try Resplitter.run(from: source, to: dir.path + "/new", policy: .ratio(train: 0.6, val: 0.2, test: 0.2), seed: 4,
                                        recordsPerShard: 15, toolVersion: "test")
        #expect(result.perSplit.values.reduce(0, +) == 80)
        let before = try records(source), after = try records(dir.path + "/new")
        #expect(Set(before.keys) == Set(after.keys))
        for (id, record) in after {
            #expect(record.pixels == before[id]!.pixels && record.frames == before[id]!.frames)
        }
        var sides: [String: Set<String>] = [:]
        for record in after.values { sides[record.patient, default: []].insert(record.split) }
        #expect(sides.values.allSatisfy { $0.count == 1 })
        #expect(try ShardSetVerifier.verify(directory: dir.path + "/new").problems == [])
        let report = try SplitReport.build(directory: dir.path + "/new")
        #expect(report.problems == [])
        // Deterministic: the same seed gives the same files.
        _ = try Resplitter.run(from: source, to: dir.path + "/again", policy: .ratio(train: 0.6, val: 0.2, test: 0.2), seed: 4,
                               recordsPerShard: 15, toolVersion: "test")
        #expect(try SplitsFile.read(from: dir.path + "/new/splits.json").assignment == SplitsFile.read(from: dir.path + "/again/splits.json").assignment)
        #expect(throws: SplitReportError.outputNotEmpty(path: dir.path + "/new")) {
            try Resplitter.run(from: source, to: dir.path + "/new", policy: .ratio(train: 0.5, val: 0, test: 0.5), seed: 1, toolVersion: "t")
        }
        // The same records, re-sharded: the same set digest, which verify checks on the copy.
        let digest = try SplitsFile.read(from: source + "/splits.json").setDigest
        let copied = try SplitsFile.read(from: dir.path + "/new/splits.json").setDigest
        #expect(digest != nil && copied == digest)
        #expect(throws: SplitReportError.notAFolder(path: dir.path + "/missing")) {
            try Resplitter.run(from: dir.path + "/missing", to: dir.path + "/never", policy: .ratio(train: 0.5, val: 0, test: 0.5), seed: 1, toolVersion: "t")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/never"))
    }

    @Test func kFoldsPartitionThePatients() throws {
        let dir = try TemporaryDirectory()
        let source = try ingestCRC(dir.path, count: 60)
        var testIDs: [Set<String>] = []
        for fold in 0..<3 {
            _ = try Resplitter.run(from: source, to: dir.path + "/fold\(fold)", policy: .kFold(folds: 3, index: fold), seed: 1, toolVersion: "test")
            let after = try records(dir.path + "/fold\(fold)")
            #expect(after.count == 60)
            testIDs.append(Set(after.filter { $0.value.split == "test" }.keys))
            #expect(try SplitReport.build(directory: dir.path + "/fold\(fold)").overlaps.isEmpty)
        }
        #expect(testIDs[0].union(testIDs[1]).union(testIDs[2]).count == 60)
        #expect(testIDs[0].isDisjoint(with: testIDs[1]) && testIDs[1].isDisjoint(with: testIDs[2]) && testIDs[0].isDisjoint(with: testIDs[2]))
    }

    /// Shards keep no official split, so a re-split refuses the policies that read it instead of
    /// putting every record in train.
    @Test func officialPoliciesAreRefused() throws {
        let dir = try TemporaryDirectory()
        for policy in [SplitPolicy.official, .officialMove(fraction: 0.02)] {
            #expect(throws: SplitReportError.policyNeedsSource(policy: policy.summary)) {
                try Resplitter.run(from: dir.path, to: dir.path + "/never", policy: policy, seed: 1, toolVersion: "t")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/never"))
    }
}
