import Foundation
import MIMSTestSupport
import MIMSConfig
import MIMSOCT
import MIMSShards
import Testing
@testable import MIMSIngest

struct ManifestTests {
    static let valid = """
    dataset: demo
    kind: image2d
    source:
      root: ${DATA}/fundus
      include: ["**/*.jpg"]
    labels:
      from: folder
      classes: [healthy, MMD]
      map: {healthy: healthy, 'MMD.*': MMD}
    patient:
      regex: '(P\\d+)-'
    split:
      policy: ratio
      train: 0.7
      test: 0.3
      seed: 9
    normalize:
      size: [300, 450]
      channels: 3
    shards:
      records_per_shard: 64
      compression: none
    """

    @Test func parsesEveryField() throws {
        let manifest = try ManifestParser.parse(Self.valid, file: "m.yaml", environment: ["DATA": "/data"])
        #expect(manifest.dataset == "demo" && manifest.kind == .image2d)
        #expect(manifest.root == "/data/fundus")
        #expect(manifest.include == ["**/*.jpg"])
        #expect(manifest.classes == ["healthy", "MMD"])
        #expect(manifest.labels == .folder(map: [KeyValue(key: "healthy", value: "healthy"), KeyValue(key: "MMD.*", value: "MMD")]))
        #expect(manifest.split == .ratio(train: 0.7, val: 0, test: 0.3) && manifest.seed == 9)
        #expect(manifest.normalize.size?.height == 300 && manifest.normalize.size?.width == 450)
        #expect(manifest.shards == ShardOptions(recordsPerShard: 64, deflateLevel: nil))
        #expect(manifest.sha256.count == 64)
    }

    /// Each broken manifest names the key, its line and what was expected.
    @Test(arguments: [
        ("kind: image2d", "kind: image3d", "m.yaml:2: 'kind': one of image2d, volume3d"),
        ("  records_per_shard: 64", "  recrods_per_shard: 64", "m.yaml:21: 'shards.recrods_per_shard': not a known key here; known keys: records_per_shard, compression"),
        ("  test: 0.3", "  test: 0.4", "m.yaml:15: 'split.test': train + val + test = 1 (they add up to 1.1)"),
        ("  channels: 3", "  channels: 2", "m.yaml:19: 'normalize.channels': 1 or 3"),
        ("  size: [300, 450]", "  size: [300]", "m.yaml:18: 'normalize.size': [height, width], each 1...8192"),
        ("map: {healthy: healthy, 'MMD.*': MMD}", "map: {healthy: sick}", "m.yaml:9: 'labels.map': class names from labels.classes (healthy, MMD), not 'sick'"),
        ("  regex: '(P\\d+)-'", "  regex: '(P\\d+'", "m.yaml:11: 'patient.regex': a valid regular expression, not '(P\\d+'"),
        ("  root: ${DATA}/fundus", "  root: ${NOPE}/fundus", "m.yaml:4: 'source.root': environment variable NOPE to be set (used as ${NOPE})"),
    ])
    func errorsNameKeyLineAndExpectation(_ change: (String, String, String)) throws {
        let text = Self.valid.replacingOccurrences(of: change.0, with: change.1)
        #expect(text != Self.valid)
        do {
            _ = try ManifestParser.parse(text, file: "m.yaml", environment: ["DATA": "/data"])
            Issue.record("accepted: \(change.1)")
        } catch let error as ConfigError {
            #expect("\(error)" == change.2)
        }
    }

    @Test func missingKeyAndBadYAML() {
        let noSplit = Self.valid.components(separatedBy: "\n").filter {
            !$0.hasPrefix("split:") && !$0.hasPrefix("  policy") && !$0.hasPrefix("  train") && !$0.hasPrefix("  test") && !$0.hasPrefix("  seed")
        }.joined(separator: "\n")
        #expect(throws: ConfigError(file: "m.yaml", key: "split", line: 1, expected: "missing; expected a value")) {
            try ManifestParser.parse(noSplit, file: "m.yaml", environment: ["DATA": "/d"])
        }
        #expect(throws: ConfigError.self) { try ManifestParser.parse("dataset: [unclosed", file: "m.yaml") }
    }

    /// `labels: none`: no classes, every record in test, and a split section is refused by line.
    @Test func unlabelledManifests() throws {
        let labelled = Self.valid.components(separatedBy: "\n")
        func replacingLabels(with replacement: [String], keepSplit: Bool) -> String {
            var out: [String] = [], skipping = false
            for line in labelled {
                if line.hasPrefix("labels:") || (!keepSplit && line.hasPrefix("split:")) {
                    skipping = true
                    if line.hasPrefix("labels:") { out += replacement }
                    continue
                }
                if skipping && line.hasPrefix("  ") { continue }
                skipping = false
                out.append(line)
            }
            return out.joined(separator: "\n")
        }
        let manifest = try ManifestParser.parse(replacingLabels(with: ["labels: none"], keepSplit: false), file: "m.yaml", environment: ["DATA": "/d"])
        #expect(manifest.labels == .none && manifest.classes.isEmpty && manifest.split == .unlabelled && manifest.isUnlabelled)
        #expect(manifest.frameRecipe == FrameRecipe(kind: .image2d, reader: "auto", size: [300, 450], channels: 3, centralSlices: nil,
                                                    intensity: "fourth-root", minFrames: nil))
        #expect(FrameRecipe(json: manifest.frameRecipe.json) == manifest.frameRecipe)
        do {
            _ = try ManifestParser.parse(replacingLabels(with: ["labels: none"], keepSplit: true), file: "m.yaml", environment: ["DATA": "/d"])
            Issue.record("labels: none with a split section was accepted")
        } catch let error as ConfigError {
            #expect("\(error)".hasPrefix("m.yaml:") && "\(error)".contains("'split': no split section: with labels: none"), "\(error)")
        }
        do {
            _ = try ManifestParser.parse(replacingLabels(with: ["labels: nothing"], keepSplit: false), file: "m.yaml", environment: ["DATA": "/d"])
            Issue.record("labels: nothing was accepted")
        } catch let error as ConfigError {
            #expect("\(error)".contains("'labels': none (unlabelled data to score)"), "\(error)")
        }
    }

    /// The manifests shipped in manifests/ parse (with their environment variables set).
    @Test(arguments: ["cirrus.yaml", "spectralis.yaml", "mmd.yaml", "crc-msi.yaml", "topcon.yaml", "dicom-opt.yaml"])
    func shippedManifestsParse(_ name: String) throws {
        let environment = ["CIRRUS_ROOT": "/c", "SPECTRALIS_ROOT": "/s", "MMD_ROOT": "/m", "CRC_MSI_ROOT": "/k", "TOPCON_ROOT": "/t", "DICOM_OCT_ROOT": "/d"]
        let manifest = try ManifestParser.load(path: repositoryRoot + "/manifests/" + name, environment: environment)
        #expect(manifest.root.hasPrefix("/"))
        switch name {
        case "cirrus.yaml": #expect(manifest.split == .ratio(train: 0.67, val: 0, test: 0.33))
        case "spectralis.yaml": #expect(manifest.split == .ratio(train: 0.5, val: 0, test: 0.5))
        case "mmd.yaml": #expect(manifest.split == .ratio(train: 0.7, val: 0, test: 0.3))
        case "topcon.yaml":
            #expect(manifest.split == .ratio(train: 0.7, val: 0, test: 0.3))
            #expect(manifest.reader == .volume(.topcon) && manifest.patientFromHeader)
        case "dicom-opt.yaml": #expect(manifest.split == .ratio(train: 0.7, val: 0, test: 0.3) && manifest.reader == .volume(.dicomOPT))
        default: #expect(manifest.split == .officialMove(fraction: 0.02))
        }
    }

    /// Every synthetic dataset's generated manifest parses.
    @Test(arguments: SyntheticDataset.allCases)
    func syntheticManifestsParse(_ dataset: SyntheticDataset) throws {
        let text = SyntheticDatasetWriter(dataset: dataset).manifest
        let manifest = try ManifestParser.parse(text, file: "synth.yaml", baseFolder: "/x")
        #expect(manifest.root == "/x")  // "." components are standardized away
    }

    /// Every OCT format has a manifest reader name, and the names map back to their formats.
    @Test func everyOCTFormatHasAReaderName() {
        for format in OCTFormat.allCases {
            #expect(ReaderChoice.allCases.contains { $0.volumeFormat == format }, "\(format)")
        }
        #expect(ReaderChoice.auto.volumeFormat == nil && ReaderChoice.auto.readsVolumes && !ReaderChoice.png.readsVolumes)
        #expect(ReaderChoice.allCases.map(\.rawValue) == ["auto", "png", "jpeg", "tiff", "cirrus-img", "spectralis-vol", "heidelberg-e2e", "tiff-stack",
                                                          "slice-folder", "topcon", "heyex-xml", "dicom-opt"])
        #expect(ReaderChoice(rawValue: "topcon") == .volume(.topcon) && ReaderChoice(rawValue: "tiff") == .tiff && ReaderChoice(rawValue: "bmp") == nil)
    }
}
