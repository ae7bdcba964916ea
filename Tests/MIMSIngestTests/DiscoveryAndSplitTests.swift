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
