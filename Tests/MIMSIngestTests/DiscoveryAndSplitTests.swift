import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSIngest

struct DiscoveryTests {
    func touch(_ root: String, _ paths: [String]) throws {
        for path in paths {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: full, contents: Data([1]))
        }
    }

    func manifest(_ labels: String, root: String, extra: String = "", split: String = "policy: ratio\n  train: 0.5\n  test: 0.5") throws -> Manifest {
        try ManifestParser.parse("""
        dataset: t
        kind: image2d
        source:
          root: \(root)
          include: ["**/*.png", "**/*.jpg"]
        labels:
        \(labels)
        \(extra)
        split:
          \(split)
        normalize:
          channels: 3
        """, file: "t.yaml")
    }

    @Test func globs() {
        #expect(Glob("**/*.png").matches("a.png") && Glob("**/*.png").matches("x/y/a.png"))
        #expect(!Glob("*.png").matches("x/a.png") && Glob("CRC_DX_*/**/*.png").matches("CRC_DX_TEST_MSS/a/b.png"))
        #expect(Glob("scan?.img").matches("scan1.img") && !Glob("scan?.img").matches("scan10.img"))
    }

    /// Kather's layout: label from the folder, patient from the TCGA code, split from the folder.
    @Test func katherLayoutFolderLabelsPatientsAndOfficialSplit() throws {
        let dir = try TemporaryDirectory()
        try touch(dir.path, ["CRC_DX_TRAIN_MSIMUT/blk-AAAA-TCGA-AA-1234-01Z-00-DX1.png", "CRC_DX_TEST_MSS/blk-BBBB-TCGA-G4-0001-01Z-00-DX1.png",
                             "CRC_DX_TEST_MSS/notes.txt", "other/x.png"])
        let m = try manifest("  from: folder\n  classes: [MSS, MSIMUT]\n  map: {'CRC_DX_.*_MSS': MSS, 'CRC_DX_.*_MSIMUT': MSIMUT}", root: dir.path,
                             extra: "patient:\n  regex: 'TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}'\nofficial_split:\n  component: '^CRC_DX_(TRAIN|TEST)_'\n  map: {TRAIN: train, TEST: test}",
                             split: "policy: official")
        let found = try Discovery.discover(m)
        #expect(found.records.map(\.id) == ["CRC_DX_TEST_MSS/blk-BBBB-TCGA-G4-0001-01Z-00-DX1", "CRC_DX_TRAIN_MSIMUT/blk-AAAA-TCGA-AA-1234-01Z-00-DX1"])
        #expect(found.records.map(\.label) == [0, 1])
        #expect(found.records.map(\.patient) == ["TCGA-G4-0001", "TCGA-AA-1234"])
        #expect(found.records.map(\.officialSplit) == ["test", "train"])
        #expect(found.rejections.map(\.id) == ["other/x.png"])  // discovery rejections are named by their own path
        #expect(found.rejections.first?.reason == "no folder of 'other/x.png' matches a labels.map pattern")
    }

    /// PALM's P/H/N####.jpg: the label is the file-name prefix.
    @Test func prefixLabels() throws {
        let dir = try TemporaryDirectory()
        try touch(dir.path, ["P0001.jpg", "H0002.jpg", "N0003.jpg", "X0004.jpg"])
        let m = try manifest("  from: prefix\n  classes: [normal, pathologic]\n  map: {P: pathologic, H: normal, N: normal}", root: dir.path)
        let found = try Discovery.discover(m)
        #expect(found.records.map(\.id) == ["H0002", "N0003", "P0001"])
        #expect(found.records.map(\.label) == [0, 0, 1])
        #expect(found.rejections.map(\.reason) == ["file-name prefix 'X' is not in labels.map"])
    }

    @Test func csvLabels() throws {
        let dir = try TemporaryDirectory()
        try touch(dir.path, ["a/scan 1.png", "b/scan2.png", "scan3.png"])
        try "file,diagnosis\n\"scan 1\",DME\nscan2, normal \n".write(toFile: dir.path + "/labels.csv", atomically: true, encoding: .utf8)
        let m = try manifest("  from: csv\n  file: labels.csv\n  key: file\n  label: diagnosis\n  classes: [normal, DME]", root: dir.path)
        let found = try Discovery.discover(m)
        #expect(found.records.map(\.id) == ["a/scan 1", "b/scan2"])
        #expect(found.records.map(\.label) == [1, 0])
        #expect(found.records.map(\.patient) == ["a/scan 1", "b/scan2"])  // no patient regex: each record is its own patient
        #expect(found.rejections.map(\.reason) == ["'scan3' has no row in \((dir.path as NSString).standardizingPath)/labels.csv"])
    }
}

struct SplitTests {
    static func records(_ count: Int, patients: Int) -> [SourceRecord] {
        (0..<count).map { i in
            SourceRecord(id: "r\(i)", path: "/r\(i)", relativePath: "r\(i)", label: Int32(i % 2), patient: "p\(i % patients)")
        }
    }

    @Test func deterministicOrderFreeGroupedAndStratified() {
        let records = Self.records(300, patients: 60)
        let policy = SplitPolicy.ratio(train: 0.6, val: 0.2, test: 0.2)
        let a = SplitAssigner.assign(records, policy: policy, seed: 5)
        #expect(a == SplitAssigner.assign(records.reversed(), policy: policy, seed: 5))
        #expect(a == SplitAssigner.assign(records.shuffled(), policy: policy, seed: 5))
        #expect(a != SplitAssigner.assign(records, policy: policy, seed: 6))
        var sides: [String: Set<String>] = [:]
        for r in records { sides[r.patient, default: []].insert(a.assignment[r.id]!) }
        #expect(sides.values.allSatisfy { $0.count == 1 })
        // 30 patients per label: 18/6/6 patients of 5 records each.
        for split in ["train", "val", "test"] {
            for label: Int32 in [0, 1] {
                let n = records.filter { $0.label == label && a.assignment[$0.id] == split }.count
                #expect(n == (split == "train" ? 90 : 30), "\(split) label \(label): \(n)")
            }
        }
    }

    /// round(0.02 x test size), half rounding up, drawn from the whole test split with the seed; the
    /// patients left on both sides are recorded.
    @Test func crcMoveCountsRoundsAndRecordsStraddlers() {
        var records: [SourceRecord] = []
        for i in 0..<125 {  // 125 test images: 2.5 rounds up to 3
            records.append(SourceRecord(id: "t\(i)", path: "", relativePath: "", label: Int32(i % 2), patient: "P\(i / 5)", officialSplit: "test"))
        }
        for i in 0..<40 {
            records.append(SourceRecord(id: "a\(i)", path: "", relativePath: "", label: Int32(i % 2), patient: "Q\(i / 5)", officialSplit: "train"))
        }
        let result = SplitAssigner.assign(records, policy: .officialMove(fraction: 0.02), seed: 3)
        #expect(result.moved.count == 3)
        #expect(result.moved.allSatisfy { $0.hasPrefix("t") && result.assignment[$0] == "train" })
        #expect(result.assignment.values.filter { $0 == "test" }.count == 122)
        let movedPatients = Set(result.moved.map { id in records.first { $0.id == id }!.patient })
        #expect(Set(result.straddlingPatients) == movedPatients)
        #expect(result == SplitAssigner.assign(records.reversed(), policy: .officialMove(fraction: 0.02), seed: 3))
        #expect(result.moved != SplitAssigner.assign(records, policy: .officialMove(fraction: 0.02), seed: 4).moved)
    }
}
