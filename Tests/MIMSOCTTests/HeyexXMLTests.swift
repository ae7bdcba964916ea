import Foundation
import MIMSImage
import MIMSTestSupport
import Testing
@testable import MIMSOCT

/// Heyex XML export folders: written by ``HeyexXMLWriter`` from the documented layout, read back
/// exactly, read the same by eyepy, and refused cleanly when damaged.
struct HeyexXMLTests {
    @Test func roundTripAtRealSize() throws {
        let dir = try TemporaryDirectory()
        let writer = heyexRealSizeWriter()
        try writer.write(to: dir.path)
        let volume = try HeyexXMLReader.read(path: dir.path)
        #expect(volume.width == 512 && volume.height == 496 && volume.frameCount == 25)
        #expect(volume.pixels == writer.bscans.flatMap(\.pixels))
        let meta = volume.metadata
        #expect(meta.format == .heyexXML)
        #expect(meta.patientID == writer.patientID && meta.visitID == "\(writer.seriesID)")
        #expect(meta.laterality == .os)
        #expect(meta.scanPattern == writer.seriesType && meta.device == "\(writer.manufacturer) \(writer.model)")
        let spacing = try #require(meta.spacing)
        #expect(spacing.depth == writer.scaleY && spacing.width == writer.scaleX)
        #expect(abs(spacing.betweenFrames - writer.distance) < 1e-12)
        // Local 2019-12-31 00:30:05 at UTC+2 h is 2019-12-30 22:30:05 UTC, computed by Foundation here.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 120 * 60)!
        let local = calendar.date(from: DateComponents(year: 2019, month: 12, day: 31, hour: 0, minute: 30, second: 5))!
        let formatter = ISO8601DateFormatter()
        #expect(meta.acquired == formatter.string(from: local))
        #expect(meta.fundus == writer.localizer)
        #expect(meta.layerNames == ["ILM", "BM"])
        #expect(meta.layers.count == 25)
        for (frame, lines) in meta.layers.enumerated() {
            for (index, line) in lines.enumerated() {
                let written = writer.layers[frame][index].depths
                #expect(line.count == written.count)
                #expect(zip(line, written).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 })
            }
        }
        #expect(meta.bscans.count == 25 && meta.bscans[3].startY == 6.807 - 3 * writer.distance)
        #expect(meta.warnings.isEmpty)
        // The XML file itself and the folder read the same; detection finds both.
        #expect(try HeyexXMLReader.read(path: dir.path + "/" + writer.xmlName).pixels == volume.pixels)
        #expect(OCTReader.detect(path: dir.path) == .heyexXML && OCTReader.detect(path: dir.path + "/" + writer.xmlName) == .heyexXML)
        #expect(try OCTReader.headerPatientID(path: dir.path) == writer.patientID)
        let header = try OCTReader.headerMetadata(path: dir.path)
        #expect(header.spacing == meta.spacing && header.laterality == .os && header.fundus == nil)
    }

    /// eyepy (ElementTree and imageio, no code shared with mims) reads the writer's folders to the
    /// same B-scans, localizer, scales, laterality, patient id and layer height maps.
    @Test(arguments: [("R", 25, 512, 496), ("L", 7, 384, 200)])
    func eyepyReadsTheSameExport(_ sample: (String, Int, Int, Int)) throws {
        let (side, frames, width, height) = sample
        let dir = try TemporaryDirectory()
        var writer = heyexRealSizeWriter(frames: frames, width: width, height: height, seed: UInt64(frames))
        writer.laterality = side
        try writer.write(to: dir.path)
        let volume = try HeyexXMLReader.read(path: dir.path)
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/heyex_eyepy.py", dir.path])
        let eyepy = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(eyepy["shape"] as? [Int] == [volume.frameCount, volume.height, volume.width])
        #expect(eyepy["sha256"] as? String == sha256(volume.pixels))
        let spacing = try #require(volume.metadata.spacing)
        #expect(eyepy["scale_x"] as? Double == spacing.width && eyepy["scale_y"] as? Double == spacing.depth)
        #expect(abs((eyepy["scale_z"] as? Double ?? 0) - spacing.betweenFrames) < 1e-12)
        #expect(eyepy["laterality"] as? String == volume.metadata.laterality?.rawValue)
        #expect(eyepy["patient_id"] as? String == volume.metadata.patientID)
        let fundus = try #require(volume.metadata.fundus)
        #expect(eyepy["localizer_shape"] as? [Int] == [fundus.height, fundus.width])
        #expect(eyepy["localizer_sha256"] as? String == sha256(fundus.pixels))
        let layers = try #require(eyepy["layers"] as? [String: [String: Any]])
        #expect(Set(layers.keys) == Set(volume.metadata.layerNames))
        for (index, name) in volume.metadata.layerNames.enumerated() {
            var bytes: [UInt8] = []
            var nans = 0
            for frame in volume.metadata.layers {
                for value in frame[index] {
                    if value.isNaN { nans += 1 }
                    withUnsafeBytes(of: (value.isNaN ? Float(-1) : value).bitPattern.littleEndian) { bytes += $0 }
                }
            }
            #expect(layers[name]?["sha256"] as? String == sha256(bytes), "layer \(name)")
            #expect(layers[name]?["nans"] as? Int == nans)
        }
    }

    /// Only the images the XML lists are read, whatever else the folder holds; names differing in
    /// case from ExamURL (copies off Windows shares) are found.
    @Test func readsOnlyListedImagesAndToleratesCase() throws {
        let dir = try TemporaryDirectory()
        let writer = heyexRealSizeWriter(frames: 4, width: 64, height: 32)
        try writer.write(to: dir.path)
        try Data(try PNGEncoder.encode(Frame(width: 9, height: 9, channels: 1, pixels: [UInt8](repeating: 1, count: 81))))
            .write(to: URL(fileURLWithPath: dir.path + "/B99.png"))
        try FileManager.default.moveItem(atPath: dir.path + "/B3.png", toPath: dir.path + "/b3.PNG")
        let volume = try HeyexXMLReader.read(path: dir.path)
        #expect(volume.frameCount == 4 && volume.pixels == writer.bscans.flatMap(\.pixels))
        let files = try HeyexXMLReader.sourceFiles(path: dir.path).map { ($0 as NSString).lastPathComponent }
        #expect(files == [writer.xmlName, writer.localizerName, "B1.png", "B2.png", "b3.PNG", "B4.png"])
    }

    /// The complaints about eyepy's reader, checked: miscounted B-scans, wrong or missing
    /// laterality, missing spacing, files that fail.
    @Test func checksWhatEyepyGuesses() throws {
        let dir = try TemporaryDirectory()
        var writer = heyexRealSizeWriter(frames: 3, width: 40, height: 20)

        writer.declaredImageCount = 9
        writer.laterality = nil
        writer.imageLaterality = ["R", "L", "R"]
        try writer.write(to: dir.path + "/a")
        let a = try HeyexXMLReader.read(path: dir.path + "/a")
        #expect(a.frameCount == 3)
        #expect(a.metadata.laterality == nil, "images disagree and the series records none: unknown, not OS")
        #expect(a.metadata.warnings.contains { $0.contains("NumImages says 9") })
        #expect(a.metadata.warnings.contains { $0.contains("disagree on laterality") })

        writer = heyexRealSizeWriter(frames: 3, width: 40, height: 20)
        writer.imageLaterality = ["L", "L", "R"]
        try writer.write(to: dir.path + "/b")
        let b = try HeyexXMLReader.read(path: dir.path + "/b")
        #expect(b.metadata.laterality == .os)
        #expect(b.metadata.warnings.filter { $0.contains("says laterality OD, the series OS") }.count == 1)

        // A single B-scan: no distance between frames, and none is invented.
        writer = heyexRealSizeWriter(frames: 1, width: 40, height: 20)
        try writer.write(to: dir.path + "/c")
        #expect(try HeyexXMLReader.read(path: dir.path + "/c").metadata.spacing?.betweenFrames == 0)

        // Missing B-scan file: a typed error naming the XML, the line of its Image and the file.
        writer = heyexRealSizeWriter(frames: 3, width: 40, height: 20)
        try writer.write(to: dir.path + "/d")
        try FileManager.default.removeItem(atPath: dir.path + "/d/B2.png")
        let xml = dir.path + "/d/" + writer.xmlName
        let imageLine = try String(contentsOfFile: xml, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("B2.png") }! + 1
        #expect(throws: OCTError.self) { try HeyexXMLReader.read(path: dir.path + "/d") }
        do { _ = try HeyexXMLReader.read(path: dir.path + "/d") } catch let error as OCTError {
            guard case let .markup(file, line, element, reason) = error else { Issue.record("\(error)"); return }
            #expect(file == xml && element == "ExamURL" && reason.contains("B2.png"))
            #expect(line == imageLine)
        }

        // An image of another size than the XML declares.
        try Data(try PNGEncoder.encode(Frame(width: 41, height: 20, channels: 1, pixels: [UInt8](repeating: 3, count: 820))))
            .write(to: URL(fileURLWithPath: dir.path + "/d/B2.png"))
        let wrongSize = #expect(throws: OCTError.self) { try HeyexXMLReader.read(path: dir.path + "/d") }
        #expect(wrongSize.map { "\($0)".contains("is 41x20 pixels, the XML says 40x20") } == true)

        // Two XML files in one folder: which is the export is not guessed.
        try writer.write(to: dir.path + "/e")
        try writer.xml().write(toFile: dir.path + "/e/other.xml", atomically: true, encoding: .utf8)
        #expect(throws: OCTError.self) { try HeyexXMLReader.read(path: dir.path + "/e") }
        #expect(OCTReader.detect(path: dir.path + "/e") == .sliceFolder)
    }

    @Test func malformedAndHostileXMLGiveTypedErrorsWithLines() throws {
        let dir = try TemporaryDirectory()
        let writer = heyexRealSizeWriter(frames: 2, width: 16, height: 8)
        try writer.write(to: dir.path)
        let xml = dir.path + "/" + writer.xmlName
        let good = writer.xml()
        func expectError(_ text: String, _ check: (String) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try text.write(toFile: xml, atomically: true, encoding: .utf8)
            do {
                _ = try HeyexXMLReader.read(path: dir.path)
                Issue.record("read a damaged export", sourceLocation: sourceLocation)
            } catch let error as OCTError {
                #expect(check("\(error)"), "\(error)", sourceLocation: sourceLocation)
                #expect("\(error)".hasPrefix(xml), sourceLocation: sourceLocation)
            }
        }
        // Not well-formed: libxml2's message with the line it stopped at.
        let lines = good.split(separator: "\n", omittingEmptySubsequences: false)
        try expectError(lines.prefix(12).joined(separator: "\n") + "\n<Broken attr=>\n", { $0.hasPrefix("\(xml):13: <document>: not well-formed XML:") && !$0.contains("Premature end") })
        // Entity expansion is never reached: a DOCTYPE is refused before parsing.
        let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\n<HEDX>&lol2;</HEDX>\n"
        try expectError(laughs, { $0.contains(":2: <DOCTYPE>") })
        try expectError(good.replacingOccurrences(of: "<HEDX>", with: "<HEDY>").replacingOccurrences(of: "</HEDX>", with: "</HEDY>"), { $0.contains("root element must be HEDX") })
        try expectError(good.replacingOccurrences(of: "<Width>16</Width>", with: "<Width>100000</Width>"), { $0.contains("expected a size of 1...16384") })
        try expectError(good.replacingOccurrences(of: "<ScaleX>0.01134</ScaleX>", with: "<ScaleX>wide</ScaleX>"), { $0.contains("expected a number, found 'wide'") })
        try expectError(good.replacingOccurrences(of: "<Laterality>L</Laterality>", with: "<Laterality>X</Laterality>"), { $0.contains("expected R or L") })
        try expectError(good.replacingOccurrences(of: "n=\"16\"", with: "n=\"17\""), { $0.contains("declares n=17 values and holds 16") })
        try expectError(good.replacingOccurrences(of: "<Type>OCT</Type>", with: "<Type>SLO</Type>"), { $0.contains("no Image of ImageType OCT") })
        try expectError(good.replacingOccurrences(of: "B1.png</ExamURL>", with: "..</ExamURL>"), { $0.contains("names no file") })
        // A SegLine with far more values than the B-scan has A-scans stops at the bound.
        let long = Array(repeating: "1.0", count: 100_000).joined(separator: " ")
        try expectError(good.replacingOccurrences(of: "n=\"16\" type=\"real\">", with: "type=\"real\">\(long) "), { $0.contains("more than 16 values") })
        // Thousands of images: refused by count, before any image is looked for.
        let image = String(good[good.range(of: "<Image>")!.lowerBound..<good.range(of: "</Image>")!.upperBound])
        let many = good.replacingOccurrences(of: "</Series>", with: String(repeating: image + "\n", count: HeyexXMLExport.maxImages) + "</Series>")
        try expectError(many, { $0.contains("more than \(HeyexXMLExport.maxImages) images") })
        try expectError("", { $0.contains("file is empty") })
    }

    /// Byte flips and truncations of the XML, and damaged images, give clean OCTErrors or
    /// consistent volumes: never a crash or an allocation beyond the bounds.
    @Test func fuzzedExports() throws {
        let dir = try TemporaryDirectory()
        let writer = heyexRealSizeWriter(frames: 3, width: 48, height: 24)
        try writer.write(to: dir.path)
        let xml = dir.path + "/" + writer.xmlName
        let original = Array(writer.xml().utf8)
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/B2.png")))
        var random = TestRandom(state: 1801)
        var outcomes = (errors: 0, volumes: 0)
        for iteration in 0..<1500 {
            var bytes = original
            var image = png
            switch iteration % 5 {
            case 0: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            case 1: image.removeLast(1 + Int(random.next() % UInt64(image.count - 1)))
            case 2:
                // Digits are where sizes live: replace one run of digits by a hostile number.
                let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
                let at = digits[Int(random.next() % UInt64(digits.count))]
                let hostile = ["0", "-1", "99999999999999999999", "4294967296", "1e308", "nan", "65536", "3e+038"][Int(random.next() % 8)]
                bytes.replaceSubrange(at...at, with: Array(hostile.utf8))
            default:
                for _ in 0..<(1 + random.next() % 4) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: xml))
            try Data(image).write(to: URL(fileURLWithPath: dir.path + "/B2.png"))
            do {
                let volume = try HeyexXMLReader.read(path: dir.path)
                #expect(volume.pixels.count == volume.width * volume.height * volume.frameCount)
                #expect(volume.frameCount <= 3 && volume.metadata.layers.allSatisfy { $0.allSatisfy { $0.count == volume.width } })
                outcomes.volumes += 1
            } catch let error as OCTError {
                #expect("\(error)".hasPrefix(dir.path), "\(error)")
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 300)
        #expect(outcomes.volumes > 100)
    }
}
