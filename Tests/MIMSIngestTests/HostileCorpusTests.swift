import Foundation
import MIMSImage
import MIMSOCT
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// A hostile corpus run as a 2-class folder, the way a user would meet it: every image mode the
/// fixtures hold (each decoded by Pillow or tifffile into a `.raw` when they were made), and for each
/// of them truncated, bit-flipped and header-edited copies, beside broken links and a link loop;
/// then real and synthetic OCT volumes with the same damage. The run must not crash or hang,
/// every matched file must be written or rejected with a reason that names its cause, and every
/// accepted file must equal an independent decoder's pixels.
@Suite(.timeLimit(.minutes(5)))
struct HostileCorpusTests {
    static let imageFixtures = repositoryRoot + "/Tests/Fixtures/images"
    static let octFixtures = repositoryRoot + "/Tests/Fixtures/oct"
    static let size = (height: 24, width: 32)

    struct Fixture {
        var file: String
        var channels: Int
        var bitDepth: Int
        var width: Int
        var height: Int
    }

    static func fixtures() throws -> [Fixture] {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: imageFixtures + "/index.json"))) as! [String: Any]
        return (index["images"] as! [[String: Any]]).map {
            Fixture(file: $0["file"] as! String, channels: $0["channels"] as! Int, bitDepth: $0["bit_depth"] as! Int,
                    width: $0["width"] as! Int, height: $0["height"] as! Int)
        }
    }

    /// The damaged copies of one file: cut at three lengths, bits flipped at seeded places (in the
    /// header and in the data), and a dimension field of the header rewritten.
    static func mutations(of bytes: [UInt8], kind: String, random: inout SplitMix64) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for (name, keep) in [("cut16", 16), ("cut50", bytes.count / 2), ("cut95", bytes.count * 95 / 100)] where keep < bytes.count {
            out.append((name, Array(bytes.prefix(keep))))
        }
        for (name, range, flips) in [("fliphead", 0..<min(64, bytes.count), 1), ("flipdata", min(64, bytes.count - 1)..<bytes.count, 8)] {
            var copy = bytes
            for _ in 0..<flips {
                let at = range.lowerBound + Int(random.next() % UInt64(range.count))
                copy[at] ^= UInt8(1) << UInt8(random.next() % 8)
            }
            out.append((name, copy))
        }
        var edited = bytes
        switch kind {
        case "png" where bytes.count > 24:  // IHDR width -> 60000 (its CRC now disagrees too)
            edited.replaceSubrange(16..<20, with: [0, 0, 0xEA, 0x60])
        case "jpeg":  // the first SOF's height -> 1
            if let sof = (2..<bytes.count - 8).first(where: { bytes[$0] == 0xFF && (0xC0...0xC2).contains(bytes[$0 + 1]) }) {
                edited.replaceSubrange(sof + 5..<sof + 7, with: [0, 1])
            }
        default:  // TIFF: the first IFD's ImageWidth value -> 7
            if bytes.count > 8, bytes[0] == 0x49 {
                let ifd = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
                if ifd + 2 < bytes.count {
                    let n = Int(bytes[ifd]) | Int(bytes[ifd + 1]) << 8
                    for entry in 0..<n where ifd + 2 + 12 * entry + 12 <= bytes.count {
                        let at = ifd + 2 + 12 * entry
                        if bytes[at] == 0 && bytes[at + 1] == 1 { edited[at + 8] = 7; edited[at + 9] = 0 }
                    }
                }
            }
        }
        if edited != bytes { out.append(("headeredit", edited)) }
        return out
    }

    /// The frame the shard must hold for an image decoded (elsewhere) to `raw`: 16-bit to 8-bit by
    /// rounding, gray replicated, alpha dropped (docs/IMAGES.md), then the golden-tested resize.
    static func expectedFrame(raw: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int) throws -> [UInt8] {
        let samples: [Int] = bitDepth == 16
            ? stride(from: 0, to: raw.count, by: 2).map { ((Int(raw[$0]) | Int(raw[$0 + 1]) << 8) * 255 + 32767) / 65535 }
            : raw.map(Int.init)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for p in 0..<width * height {
            for c in 0..<3 {
                let source = channels <= 2 ? 0 : c
                rgb[3 * p + c] = UInt8(samples[p * channels + source])
            }
        }
        return try BilinearResize.resize(Frame(width: width, height: height, channels: 3, pixels: rgb), height: size.height, width: size.width).pixels
    }

    func ingest(_ source: String, _ out: String) throws -> IngestRunner.Report {
        try IngestRunner(manifest: ManifestParser.load(path: source + "/manifest.yaml"), output: out,
                         options: .init(jobs: 2, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z"),
                         reporter: ProgressReporter(format: .quiet)).run()
    }

    func checkReasons(_ report: IngestRunner.Report) {
        #expect(report.matched == report.written + report.rejections.count)
        for rejection in report.rejections {
            let reason = rejection.reason
            #expect(reason.count > 12 && !reason.contains("Error Domain=") && !reason.contains("NSCocoaErrorDomain"), "\(rejection.path): \(reason)")
        }
    }

    @Test func imageCorpusAsATwoClassFolder() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        let fm = FileManager.default
        for folder in ["valid", "damaged"] { try fm.createDirectory(atPath: source + "/" + folder, withIntermediateDirectories: true) }
        var random = SplitMix64(seed: 2026)
        var expected: [String: [UInt8]] = [:]  // record id -> frame, for the valid fixtures
        var damaged: [String] = []
        var pillowChecked: [String] = []   // compared with Pillow's decode instead of the fixture's .raw
        var sixteenBit = Set<String>()
        for fixture in try Self.fixtures() {
            let bytes = try FileBytes.read(Self.imageFixtures + "/" + fixture.file)
            let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.imageFixtures + "/" + fixture.file + ".raw")))
            let name = fixture.file.replacingOccurrences(of: ".", with: "_")
            let ext = (fixture.file as NSString).pathExtension
            try Data(bytes).write(to: URL(fileURLWithPath: source + "/valid/\(name).\(ext)"))
            if fixture.file.contains("stack") {
                pillowChecked.append("valid/\(name).\(ext)")  // its .raw is another page; Pillow reads the first, as ingest does
            } else {
                expected["valid/\(name)"] = try Self.expectedFrame(raw: raw, width: fixture.width, height: fixture.height,
                                                                   channels: fixture.channels, bitDepth: fixture.bitDepth)
            }
            let kind = ext == "png" ? "png" : ext == "jpg" ? "jpeg" : "tiff"
            for (mutation, copy) in Self.mutations(of: bytes, kind: kind, random: &random) {
                let relative = "damaged/\(name)_\(mutation).\(ext)"
                try Data(copy).write(to: URL(fileURLWithPath: source + "/" + relative))
                damaged.append(relative)
                if fixture.bitDepth == 16 { sixteenBit.insert(relative) }
            }
        }
        try fm.createSymbolicLink(atPath: source + "/damaged/gone.png", withDestinationPath: dir.path + "/gone.png")
        try fm.createSymbolicLink(atPath: source + "/valid/loop", withDestinationPath: ".")
        try """
        dataset: hostile
        kind: image2d
        source: {root: ., include: ["**/*.png", "**/*.jpg", "**/*.tif"]}
        labels: {from: folder, classes: [valid, damaged], map: {valid: valid, damaged: damaged}}
        split: {policy: ratio, train: 0.5, test: 0.5, seed: 1}
        normalize: {size: [\(Self.size.height), \(Self.size.width)], channels: 3}

        """.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)

        let report = try ingest(source, out)
        checkReasons(report)
        #expect(report.matched == expected.count + pillowChecked.count + damaged.count + 1)
        #expect(report.warnings.contains { $0.path.contains("tiff_stack3") && $0.text.contains("3 pages") })
        // Its width edited to 7, the deflate strip holds more than the header describes: libtiff
        // would hand back libdeflate's partial output as pixels.
        #expect(report.rejections.contains { $0.path.hasSuffix("tiff_stack3_tif_headeredit.tif") && $0.reason.contains("inflates to more than") })
        #expect(report.warnings.contains { $0.text.contains("valid/loop") })
        #expect(report.problems.isEmpty)
        var stored: [String: (ShardReader, Int)] = [:]
        for name in try fm.contentsOfDirectory(atPath: out) where ShardSet.parseShardName(name) != nil {
            let reader = try ShardReader(path: out + "/" + name)
            for (index, record) in reader.records.enumerated() { stored[record.id] = (reader, index) }
        }
        // Every valid fixture is in, pixel-equal to its independent decode.
        for (id, frame) in expected.sorted(by: { $0.key < $1.key }) {
            guard let (reader, index) = stored[id] else {
                Issue.record("\(id) was rejected: \(report.rejections.first { $0.path.hasSuffix(id.dropFirst(6) + "") }?.reason ?? "?")")
                continue
            }
            #expect(try reader.frames(ofRecord: index) == frame, "\(id)")
        }
        // Every damaged copy that was accepted decodes in Pillow to the same pixels (8-bit modes).
        for path in pillowChecked where stored[String(path.dropLast(4))] == nil { Issue.record("\(path) was rejected") }
        let accepted = pillowChecked + damaged.filter { stored[String($0.dropLast(4))] != nil }
        let pillow = """
        import sys, json, numpy as np
        from PIL import Image
        out = {}
        for path in sys.argv[2:]:
            try:
                im = Image.open(sys.argv[1] + '/' + path); im.load()
                mode = im.mode
                rgb = np.asarray(im.convert('RGB'))
                np.asarray(rgb).tofile(sys.argv[1] + '/' + path + '.pillow')
                out[path] = {'mode': mode, 'width': im.width, 'height': im.height}
            except Exception as e:
                out[path] = {'error': str(e)}
        print(json.dumps(out))
        """
        let decoded = accepted.isEmpty ? [:] : try JSONSerialization.jsonObject(with: Data(try run(["python3", "-c", pillow, source] + accepted).utf8)) as! [String: [String: Any]]
        var compared = 0
        for path in accepted {
            let info = try #require(decoded[path])
            if let error = info["error"] {
                Issue.record("\(path) was accepted, but Pillow cannot decode it: \(error)")
                continue
            }
            // Pillow keeps the high byte of 16-bit samples where ingest rounds (docs/IMAGES.md).
            guard let mode = info["mode"] as? String, !sixteenBit.contains(path), !mode.contains("16"), mode != "I", mode != "F" else { continue }
            let rgb = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source + "/" + path + ".pillow")))
            let frame = try BilinearResize.resize(Frame(width: info["width"] as! Int, height: info["height"] as! Int, channels: 3, pixels: rgb),
                                                  height: Self.size.height, width: Self.size.width).pixels
            let (reader, index) = stored[String(path.dropLast(4))]!
            #expect(try reader.frames(ofRecord: index) == frame, "\(path) (\(mode))")
            compared += 1
        }
        #expect(report.rejections.count > damaged.count / 2, "most damaged copies must be refused")
        #expect(compared > 0 || accepted.isEmpty)
    }

    @Test func volumeCorpusAsATwoClassFolder() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        let fm = FileManager.default
        for folder in ["valid", "damaged"] { try fm.createDirectory(atPath: source + "/" + folder, withIntermediateDirectories: true) }
        let synthetic = dir.path + "/cirrus"
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 2, seed: 3, small: true).write(to: synthetic)
        var originals: [(String, String)] = [("line-willis-0.vol", Self.octFixtures + "/line-willis-0.vol"),
                                              ("circle-valid.vol", Self.octFixtures + "/circle-valid.vol"),
                                              ("minimized.E2E", Self.octFixtures + "/e2e_minimized.E2E")]
        for name in try fm.contentsOfDirectory(atPath: synthetic) where name.hasSuffix(".img") { originals.append((name, synthetic + "/" + name)) }
        var random = SplitMix64(seed: 77)
        var damaged: [String] = []
        for (name, path) in originals {
            try fm.copyItem(atPath: path, toPath: source + "/valid/" + name)
            let bytes = try FileBytes.read(path)
            for (mutation, copy) in Self.mutations(of: bytes, kind: "volume", random: &random) {
                let stem = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
                // Cirrus files are recognised by name: keep the name's pattern, vary the serial number.
                let relative = ext == "img"
                    ? "damaged/" + name.replacingOccurrences(of: "_sn", with: "_sn\(mutation.count)\(damaged.count)")
                    : "damaged/\(stem)-\(mutation).\(ext)"
                try Data(copy).write(to: URL(fileURLWithPath: source + "/" + relative))
                damaged.append(relative)
            }
        }
        var header = try FileBytes.read(Self.octFixtures + "/line-willis-0.vol")
        header.replaceSubrange(20..<24, with: [2, 0, 0, 0])  // SizeZ = 2
        try Data(header).write(to: URL(fileURLWithPath: source + "/damaged/sizez2.vol"))
        damaged.append("damaged/sizez2.vol")
        try fm.createSymbolicLink(atPath: source + "/damaged/gone.vol", withDestinationPath: dir.path + "/gone.vol")
        try """
        dataset: hostile-volumes
        kind: volume3d
        source: {root: ., include: ["**/*.vol", "**/*.E2E", "**/*.img"]}
        reader: auto
        labels: {from: folder, classes: [valid, damaged], map: {valid: valid, damaged: damaged}}
        split: {policy: ratio, train: 0.5, test: 0.5, seed: 1}
        normalize: {size: [32, 32], channels: 1}

        """.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)

        let report = try ingest(source, out)
        checkReasons(report)
        #expect(report.matched == originals.count + damaged.count + 1)
        #expect(report.problems.isEmpty)
        let rejected = Set(report.rejections.map { ($0.path as NSString).lastPathComponent })
        for (name, _) in originals { #expect(!rejected.contains(name), "\(name): \(report.rejections.first { $0.path.hasSuffix("/valid/" + name) }?.reason ?? "")") }
        #expect(rejected.contains("sizez2.vol") && rejected.contains("gone.vol"))
        // Accepted damaged .vol files: the reader's frames equal the numpy reference's.
        for path in damaged where path.hasSuffix(".vol") && !rejected.contains((path as NSString).lastPathComponent) {
            let reference = try run(["python3", repositoryRoot + "/Tests/Interop/oct_reference.py", "vol", source + "/" + path])
            let digests = try #require((try JSONSerialization.jsonObject(with: Data(reference.utf8)) as? [String: Any])?["digests"] as? [String: String])
            let volume = try SpectralisVolReader.read(path: source + "/" + path)
            #expect(SHA256.hex(of: volume.pixels) == digests["fourth-root"], "\(path)")
        }
    }
}
