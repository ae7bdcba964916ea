import Foundation
import MIMSImage
import MIMSTestSupport
import Testing
@testable import MIMSOCT

func randomFundus(width: Int, height: Int, seed: UInt64) -> Frame {
    var random = TestRandom(state: seed)
    return Frame(width: width, height: height, channels: 3, pixels: (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: random.next()) })
}

struct TopconTests {
    /// The writer's files at a real Topcon 3D B-scan size (512 A-scans x 885 deep), read by mims and
    /// by OCT-Converter: the same uint8 frames, metadata and fundus.
    /// (OCT-Converter reads `.fds` samples as uint16 whatever bits_per_pixel says, so 8-bit `.fds`
    /// is checked against the independent writer below instead.)
    @Test(arguments: [(TopconWriter.Kind.fds, 16), (.fda, 16), (.fda, 8)])
    func writerRoundTripMatchesOCTConverter(_ kind: TopconWriter.Kind, _ bits: Int) throws {
        let (width, height, frames) = (512, 885, kind == .fds ? 16 : 3)
        let samples = randomSamples(width * height * frames, bits: bits, seed: UInt64(bits) * 31 + (kind == .fds ? 1 : 2))
        var writer = TopconWriter(kind: kind, width: width, height: height, samples: samples, bitsPerPixel: bits,
                                  fundus: randomFundus(width: 64, height: 48, seed: 9))
        writer.eye = 1
        // Two layer boundaries (OCT-Converter names MULTILAYERS_1 "ILM" and MULTILAYERS_7 "BM").
        writer.contours = [("MULTILAYERS_1", randomSamples(width * frames, bits: 9, seed: 21).map { $0 % UInt16(height) }),
                           ("MULTILAYERS_7", randomSamples(width * frames, bits: 10, seed: 22).map { $0 % UInt16(height) })]
        let dir = try TemporaryDirectory()
        let path = dir.path + "/scan." + (kind == .fds ? "fds" : "fda")
        try Data(try writer.bytes()).write(to: URL(fileURLWithPath: path))

        #expect(OCTReader.detect(path: path) == .topcon)
        let volume = try #require(try OCTReader.read(path: path).first)
        let reference = try topconReference(["read", path])
        #expect(volume.width == reference["width"] as? Int && volume.height == reference["height"] as? Int)
        #expect(volume.frameCount == reference["frames"] as? Int)
        #expect(sha256(volume.pixels) == reference["sha256"] as? String)
        let meta = volume.metadata
        #expect(meta.format == .topcon)
        #expect(meta.valueRange == Double(reference["min"] as! Int)...Double(reference["max"] as! Int))
        #expect(meta.patientID == reference["patient_id"] as? String && meta.patientID == "TOP-0042")
        #expect(reference["laterality"] as? String == "L" && meta.laterality == .os)
        #expect(meta.acquired == reference["acquired"] as? String)
        let spacing = try #require(meta.spacing)
        let expected = try #require(reference["pixel_spacing"] as? [Double])
        #expect(abs(spacing.width - expected[0]) < 1e-12 && abs(spacing.betweenFrames - expected[1]) < 1e-12 && abs(spacing.depth - expected[2]) < 1e-12)
        let fundus = try #require(meta.fundus)
        #expect(fundus.channels == 3 && [fundus.height, fundus.width, 3] == reference["fundus_shape"] as? [Int])
        #expect(sha256(fundus.pixels) == reference["fundus_sha256"] as? String)
        #expect(fundus.pixels == writer.fundus!.pixels)
        #expect(meta.device == "Topcon 3D OCT-2000")
        #expect(meta.visitID == "318")
        #expect(meta.scanPattern == "Macula 3D, 3D (2)")
        #expect(meta.warnings == ["chunks not read: @REPORT_INFO (30 bytes)"])
        // Layer lines: depths from the top, in acquisition order, as written and as OCT-Converter
        // (.fda only; its .fds reader has no contours) reads them.
        #expect(meta.layers.count == frames && meta.layers.allSatisfy { $0.count == 2 })
        for (line, contour) in writer.contours.enumerated() {
            #expect((0..<frames).allSatisfy { f in meta.layers[f][line] == contour.depths[f * width..<(f + 1) * width].map(Float.init) })
        }
        if kind == .fda {
            let contours = try #require(reference["contours"] as? [String: [[Double]]])
            for (line, name) in ["ILM", "BM"].enumerated() {
                let theirs = try #require(contours[name])
                #expect(theirs.count == frames && (0..<frames).allSatisfy { f in theirs[f].map(Float.init) == meta.layers[f][line] })
            }
        }
        // The rule itself, sample by sample, on the first and the last frame.
        let maximum = (1 << bits) - 1
        for index in [0, width * height * frames - 1] {
            #expect(Int(volume.pixels[index]) == (Int(samples[index]) * 255 + maximum / 2) / maximum)
        }
    }

    /// Files written by Python from the documented layout (struct, Pillow's JPEG 2000), including
    /// 12-bit raw samples: mims reads what the writer says it wrote.
    @Test(arguments: [("fds", 16), ("fds", 12), ("fds", 8), ("fda", 16), ("fda", 8)])
    func readsIndependentlyWrittenFiles(_ kind: String, _ bits: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/py." + kind
        let written = try topconReference(["write", path, kind, "\(bits)", "320", "240", "6", "\(bits + 5)"])
        let volume = try TopconReader.read(path: path)
        #expect(volume.width == 320 && volume.height == 240 && volume.frameCount == 6)
        #expect(sha256(volume.pixels) == written["sha256"] as? String)
        let meta = volume.metadata
        #expect(meta.patientID == "PY-77" && meta.laterality == .od && meta.acquired == written["acquired"] as? String)
        #expect(meta.device == written["device"] as? String)
        #expect(meta.visitID == "\(written["session"] as! Int)")
        #expect(meta.scanPattern == "\(written["label"] as! String), 3D (2)")
        let spacing = try #require(meta.spacing)
        let expected = try #require(written["pixel_spacing"] as? [Double])
        #expect(abs(spacing.width - expected[0]) < 1e-12 && abs(spacing.betweenFrames - expected[1]) < 1e-12 && abs(spacing.depth - expected[2]) < 1e-12)
        #expect(sha256(try #require(meta.fundus).pixels) == written["fundus_sha256"] as? String)
        #expect(meta.warnings == ["chunks not read: @GLA_LITTMANN_01 (8 bytes)"])
        #expect(try OCTReader.headerPatientID(path: path) == "PY-77")
    }

    /// The JPEG 2000 codec against Pillow (its own OpenJPEG build): our lossless codestreams decode
    /// there to the encoded pixels, 8- and 16-bit.
    @Test func jpeg2000CodestreamsDecodeInPillow() throws {
        let dir = try TemporaryDirectory()
        let gray = Frame(width: 97, height: 61, channels: 1, pixels: randomSamples(97 * 61, bits: 8, seed: 4).map { UInt8($0) })
        try Data(try JPEG2000Encoder.encode(gray)).write(to: URL(fileURLWithPath: dir.path + "/g.j2k"))
        #expect(try pillowPixels(dir.path + "/g.j2k", mode: "L") == gray.pixels)
        let wide = randomSamples(33 * 20, bits: 16, seed: 5)
        let stream = try JPEG2000Encoder.encode16(wide, width: 33, height: 20)
        try Data(stream).write(to: URL(fileURLWithPath: dir.path + "/w.j2k"))
        let script = "import sys,numpy as np;from PIL import Image;sys.stdout.write(','.join(map(str,np.asarray(Image.open(sys.argv[1])).astype(int).ravel())))"
        let pillow = try run(["python3", "-c", script, dir.path + "/w.j2k"]).split(separator: ",").map { UInt16($0)! }
        #expect(pillow == wide)
        let decoded = try JPEG2000Decoder.decode(stream, file: "w.j2k")
        #expect(decoded.precision == 16 && decoded.image.samples == .uint16(wide))
        // Truncated codestreams are errors (strict mode), never a partly gray image.
        for cut in [10, stream.count / 2, stream.count - 3] {
            #expect(throws: ImageError.self) { try JPEG2000Decoder.decode(Array(stream.prefix(cut)), file: "cut.j2k") }
        }
    }

    func chunk(_ bytes: [UInt8], _ name: String) throws -> TopconContainer.Chunk {
        let container = try bytes.withUnsafeBytes { try TopconContainer.parse(ByteReader(bytes: $0, file: "x")) }
        return try #require(container.first(name))
    }

    func read(_ bytes: [UInt8], _ file: String = "t.fda") throws -> OCTVolume {
        try bytes.withUnsafeBytes { try TopconReader.read(bytes: $0, file: file) }
    }

    func put(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    }

    /// Sizes that lie give typed errors naming the file and the offset, before any allocation.
    @Test func hostileSizesGiveTypedErrors() throws {
        let fds = try TopconWriter(kind: .fds, width: 40, height: 30, samples: randomSamples(40 * 30 * 4, bits: 16, seed: 1)).bytes()
        let scan = try chunk(fds, "@IMG_SCAN_03")
        for (offset, value) in [(1, UInt32.max), (5, 1 << 20), (13, 60_000), (9, 32), (1, 0)] {
            var bytes = fds
            put(value, at: scan.offset + offset, in: &bytes)
            do { _ = try read(bytes, "h.fds"); Issue.record("accepted field \(offset) = \(value)") }
            catch let error as OCTError {
                switch error {
                case .invalidField(let file, _, let at, _, _): #expect(file == "h.fds" && at == scan.offset + offset)
                case .truncated(let file, _, _, _, _): #expect(file == "h.fds")
                default: Issue.record("\(error)")
                }
            }
        }
        var huge = fds
        put(UInt32.max, at: scan.offset - 4, in: &huge)  // the chunk's own size
        #expect(throws: OCTError.truncated(file: "h.fds", offset: scan.offset, needed: Int(UInt32.max), available: fds.count - scan.offset, what: "chunk @IMG_SCAN_03")) {
            try read(huge, "h.fds")
        }
        var noScan = fds
        noScan[scan.offset - 4 - 12 + 1] = UInt8(ascii: "X")  // @IMG_SCAN_03 -> @XMG_SCAN_03
        #expect(throws: OCTError.self) { try read(noScan, "h.fds") }

        let fda = try TopconWriter(kind: .fda, width: 40, height: 30, samples: randomSamples(40 * 30 * 3, bits: 8, seed: 2), bitsPerPixel: 8).bytes()
        let jpeg = try chunk(fda, "@IMG_JPEG")
        var frames = fda
        put(1 << 30, at: jpeg.offset + 17, in: &frames)
        #expect(throws: OCTError.self) { try read(frames) }
        var frameSize = fda
        put(UInt32.max, at: jpeg.offset + 25, in: &frameSize)
        #expect(throws: OCTError.truncated(file: "t.fda", offset: jpeg.offset + 29, needed: Int(UInt32.max), available: jpeg.size - 29,
                                           what: "JPEG 2000 B-scan 0 of 3 in @IMG_JPEG")) { try read(frameSize) }
        var damaged = fda
        damaged[jpeg.offset + 29] = 0  // the codestream's SOC marker
        do { _ = try read(damaged); Issue.record("accepted a broken codestream") }
        catch let error as OCTError {
            guard case .invalidField(let file, let field, let at, _, _) = error else { Issue.record("\(error)"); return }
            #expect(file == "t.fda" && field == "JPEG 2000 B-scan 0" && at == jpeg.offset + 29)
        }
        #expect(throws: OCTError.empty(file: "e.fda")) { try read([], "e.fda") }
        #expect(throws: OCTError.self) { try read(Array(fda.prefix(10))) }
    }

    /// Metadata that makes no sense is left empty with a warning; the B-scans are still read.
    @Test func implausibleMetadataBecomesWarnings() throws {
        var writer = TopconWriter(kind: .fds, width: 20, height: 10, samples: randomSamples(200, bits: 16, seed: 3))
        writer.eye = 7
        writer.captureDate = [2023, 13, 40, 25, 0, 0]
        writer.scanSize = (x: .nan, y: 6)
        writer.extraChunks = []
        writer.terminator = false
        let volume = try read(try writer.bytes(), "m.fds")
        #expect(volume.metadata.laterality == nil && volume.metadata.acquired == nil && volume.metadata.spacing == nil)
        #expect(volume.metadata.warnings.count == 3)
        #expect(volume.metadata.warnings.allSatisfy { $0.hasPrefix("@CAPTURE_INFO_02 at offset") || $0.hasPrefix("@PARAM_SCAN_04 at offset") })
        #expect(volume.metadata.patientID == "TOP-0042")
    }

    /// Mutated files (byte flips aimed at the chunk headers, truncation at random offsets) give a
    /// clean OCTError or a consistent volume: never a crash or an allocation beyond the file.
    @Test(arguments: [TopconWriter.Kind.fds, .fda])
    func fuzz(_ kind: TopconWriter.Kind) throws {
        var writer = TopconWriter(kind: kind, width: 48, height: 40, samples: randomSamples(48 * 40 * 4, bits: 16, seed: 11),
                                  fundus: randomFundus(width: 16, height: 12, seed: 12))
        writer.bitsPerPixel = 16
        writer.contours = [("MULTILAYERS_1", randomSamples(48 * 4, bits: 5, seed: 13)), ("MULTILAYERS_2", randomSamples(48 * 4, bits: 5, seed: 14))]
        let original = try writer.bytes()
        let name = "fuzz." + (kind == .fds ? "fds" : "fda")
        let container = try original.withUnsafeBytes { try TopconContainer.parse(ByteReader(bytes: $0, file: name)) }
        let hot = container.chunks.map { max(0, $0.offset - 20)..<min(original.count, $0.offset + 40) }
        var random = TestRandom(state: kind == .fds ? 101 : 202)
        var outcomes = (errors: 0, volumes: 0)
        for iteration in 0..<600 {
            let bytes = fuzzMutation(of: original, iteration: iteration, hot: hot, maxFlips: 3, random: &random)
            do {
                let volume = try read(bytes, name)
                #expect(volume.pixels.count == volume.width * volume.height * volume.frameCount)
                #expect(volume.pixels.count <= max(bytes.count, 1 << 16) * 1024)
                outcomes.volumes += 1
            } catch let error as OCTError {
                #expect("\(error)".hasPrefix(name + ": "))
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 50)
        #expect(outcomes.volumes > 50)
    }
}

/// `.vol` files whose version field is not `HSF-OCT-...` but whose header fits the file.
struct SpectralisUnusualVersionTests {
    func replacingVersion(_ bytes: [UInt8], with version: [UInt8]) -> [UInt8] {
        var out = bytes
        out.replaceSubrange(0..<12, with: version + [UInt8](repeating: 0, count: 12 - version.count))
        return out
    }

    @Test(arguments: ["XYZ-OCT-103", "OCTVOL", "HSF_OCT_102"])
    func readsWithAWarning(_ version: String) throws {
        let original = try readFixture("circle-valid.vol")
        let reference = try original.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "o.vol") }
        let bytes = replacingVersion(original, with: Array(version.utf8))
        let volume = try bytes.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "u.vol") }
        #expect(volume.pixels == reference.pixels)
        #expect(volume.metadata.patientID == reference.metadata.patientID && volume.metadata.spacing == reference.metadata.spacing)
        #expect(volume.metadata.warnings.contains { $0.contains("\"\(version)\"") && $0.contains("not HSF-OCT-10x") })
        let dir = try TemporaryDirectory()
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/u.vol"))
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/u.bin"))
        #expect(OCTReader.detect(path: dir.path + "/u.vol") == .spectralisVol)
        #expect(OCTReader.detect(path: dir.path + "/u.bin") == nil)
        #expect(try OCTReader.read(path: dir.path + "/u.vol").first?.pixels == reference.pixels)
    }

    /// Without the signature, a header whose sizes do not describe the file, a binary version field
    /// or random bytes are not a .vol.
    @Test func refusesWhatDoesNotFit() throws {
        let original = try readFixture("circle-valid.vol")
        let dir = try TemporaryDirectory()
        var wrongCount = replacingVersion(original, with: Array("XYZ-OCT-103".utf8))
        wrongCount[16] = 2  // NumBScans 2: the header now describes more than the file
        let binary = replacingVersion(original, with: [0x01, 0xFE, 0x33, 0x44, 0x55])
        var random = TestRandom(state: 77)
        let noise = (0..<original.count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for (name, bytes) in [("count.vol", wrongCount), ("binary.vol", binary), ("noise.vol", noise)] {
            try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/" + name))
            #expect(OCTReader.detect(path: dir.path + "/" + name) == nil, "\(name)")
            do { _ = try bytes.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: name) }; Issue.record("read \(name)") }
            catch let error as OCTError {
                guard case .badMagic(let file, 0, _, _) = error else { Issue.record("\(error)"); continue }
                #expect(file == name)
            }
        }
    }
}
