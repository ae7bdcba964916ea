import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

struct SpectralisVolTests {
    /// The facts Tests/Fixtures/oct/SOURCES.md lists for the real samples.
    @Test(arguments: [("circle-valid.vol", 46080, 0, "", 2), ("line-willis-0.vol", 55296, 132, "01234", 1),
                      ("circle-willis-2.vol", 55296, 132, "01234", 2)])
    func realSamplesMatchTheirFacts(_ sample: (String, Int, Int, String, Int)) throws {
        let (name, headerSize, trailing, patient, pattern) = sample
        let path = octFixtures + "/" + name
        let bytes = try readFixture(name)
        let header = try bytes.withUnsafeBytes { try SpectralisVolHeader.parse(ByteReader(bytes: $0, file: path)) }
        #expect(header.sizeX == 768 && header.numBScans == 1 && header.sizeZ == 496)
        #expect(header.sizeXSlo == 768 && header.sizeYSlo == 768)
        #expect(header.bscanHeaderSize == headerSize)
        #expect(header.scanPattern == pattern)
        #expect(bytes.count - header.expectedFileSize == trailing)
        #expect(name != "circle-valid.vol" || bytes.count == 2_161_664)

        let volume = try SpectralisVolReader.read(path: path)
        #expect(volume.width == 768 && volume.height == 496 && volume.frameCount == 1)
        #expect(volume.metadata.laterality == .od)
        #expect((volume.metadata.patientID ?? "") == patient)
        #expect(volume.metadata.layers.count == 1 && volume.metadata.layers[0].count == 3)
        #expect(volume.metadata.fundus?.width == 768)
        #expect(volume.metadata.warnings.count == (trailing > 0 ? 1 : 0))
        let range = try #require(volume.metadata.valueRange)
        #expect(range.lowerBound >= 0 && range.upperBound <= 1)

        // Pixels and SLO against numpy reading the documented offsets (independent of mims).
        let reference = try numpyReference(["vol", path])
        let digests = reference["digests"] as! [String: String]
        #expect(sha256(volume.pixels) == digests["fourth-root"])
        #expect(sha256(try SpectralisVolReader.read(path: path, transform: .log).pixels) == digests["log"])
        #expect(sha256(volume.metadata.fundus!.pixels) == reference["slo_sha256"] as? String)
    }

    @Test func emptyFileIsRejected() {
        #expect(throws: OCTError.empty(file: octFixtures + "/empty.vol")) {
            try SpectralisVolReader.read(path: octFixtures + "/empty.vol")
        }
    }

    /// Writer and reader agree at the paper's Spectralis size, 768 x 496 x 31, including invalid
    /// pixels, layer lines and trailing bytes.
    @Test func roundTripAtRealSize() throws {
        let (x, z, n) = (768, 496, 31)
        var random = TestRandom(state: 31)
        var intensities = (0..<x * z * n).map { _ in Float(random.next() % 1_000_001) / 1_000_000 }
        for i in stride(from: 17, to: intensities.count, by: 9973) { intensities[i] = Float(bitPattern: 0x7F7F_FFFF) }
        var writer = SpectralisVolWriter(sizeX: x, sizeZ: z, intensities: intensities,
                                         slo: (0..<64 * 48).map { UInt8($0 % 251) }, sizeXSlo: 64, sizeYSlo: 48)
        writer.scanPosition = "OS"
        writer.patientID = "P_42"
        writer.layers = (0..<n).map { f in [(0..<x).map { Float($0 + f) }, (0..<x).map { _ in Float(bitPattern: 0x7F7F_FFFF) }] }
        writer.trailingBytes = 77
        let bytes = writer.bytes()
        let volume = try bytes.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "synthetic.vol") }
        #expect(volume.width == x && volume.height == z && volume.frameCount == n)
        #expect(volume.metadata.laterality == .os && volume.metadata.patientID == "P_42")
        #expect(volume.metadata.spacing == VoxelSpacing(depth: 0.0039, width: 0.0115, betweenFrames: 0.12))
        #expect(volume.metadata.layers[5][0][10] == 15)
        #expect(volume.metadata.layers[5][1][10].isNaN)
        #expect(volume.metadata.bscans[3].startY == 0.36)
        #expect(volume.metadata.warnings == ["77 bytes after the last B-scan are not referenced by any header; ignored"])
        #expect(volume.metadata.fundus?.pixels == writer.slo)
        for i in stride(from: 0, to: intensities.count, by: 101) {
            #expect(volume.pixels[i] == IntensityTransform.fourthRoot.reference(intensities[i]))
        }
        #expect(volume.pixels[17] == 0)
    }

    @Test func headerClaimingMoreThanTheFileIsRejectedBeforeAllocating() throws {
        var bytes = try readFixture("circle-valid.vol")
        // NumBScans = 60000: 60000 x 768 x 496 x 4 bytes promised by a 2 MB file.
        bytes.replaceSubrange(16..<20, with: [0x60, 0xEA, 0, 0])
        do {
            _ = try bytes.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "claims.vol") }
            Issue.record("accepted")
        } catch let error as OCTError {
            guard case .truncated(let file, _, _, _, _) = error else { Issue.record("\(error)"); return }
            #expect(file == "claims.vol")
        }
    }

    @Test func truncatedBScanAndWrongMagic() throws {
        let bytes = try readFixture("circle-valid.vol")
        let cut = Array(bytes[0..<bytes.count - 1000])
        #expect(throws: OCTError.self) { try cut.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "cut.vol") } }
        var wrong = bytes
        wrong[0] = 0x01  // not text: not a .vol (a text version field is read, SpectralisUnusualVersionTests)
        #expect(throws: OCTError.badMagic(file: "w.vol", offset: 0, expected: "\"HSF-OCT-\" (or a text version field)", found: "\"\\x1SF-OCT-\"")) {
            try wrong.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "w.vol") }
        }
        var badBScan = bytes
        badBScan[2048 + 768 * 768] = 0
        #expect(throws: OCTError.self) { try badBScan.withUnsafeBytes { try SpectralisVolReader.read(bytes: $0, file: "b.vol") } }
    }
}

struct IntensityTransformTests {
    /// The table conversion equals the double-precision definition on a dense sweep of float
    /// patterns and around every step of the table.
    @Test(arguments: IntensityTransform.allCases)
    func tableMatchesDefinition(_ transform: IntensityTransform) {
        var patterns: [UInt32] = Array(stride(from: 0, to: 0x7F80_0000, by: 1009).map { UInt32($0) })
        patterns += [0x3F80_0000, 0x3F80_0001, 0x7F7F_FFFF, 0x7F80_0000, 0x7FC0_0000, 0x8000_0000, 0xBF80_0000, 1, 0x0080_0000]
        // Every step threshold of [0, 1]: values whose exact result is k - 0.5.
        for k in 1...255 {
            let target = (Double(k) - 0.5) / 255
            let v: Double = transform == .fourthRoot ? pow(target, 4) : exp(target * 8.285 - 8.3) - 2.44e-4
            if v > 0 { let bits = Float(v).bitPattern; patterns += (bits - 3...bits + 3).map { $0 } }
        }
        var output = [UInt8](repeating: 0, count: patterns.count)
        patterns.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { transform.convert(input.baseAddress!, count: patterns.count, into: $0.baseAddress!) }
        }
        var mismatches = 0
        for (bits, value) in zip(patterns, output) where value != transform.reference(Float(bitPattern: bits)) { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(transform.reference(1) == 255 && transform.reference(0) == 0)
        #expect(transform.reference(Float(bitPattern: 0x7F7F_FFFF)) == 0)
    }

    @Test func knownValues() {
        #expect(IntensityTransform.fourthRoot.reference(0.0625) == 128)  // 0.5 * 255 = 127.5 rounds up
        #expect(IntensityTransform.fourthRoot.reference(0.00390625) == 64)  // 0.25 * 255 = 63.75
        #expect(IntensityTransform.log.reference(2) == 255)
    }
}
