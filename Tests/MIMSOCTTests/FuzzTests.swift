import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

/// Mutated real samples (flipped bytes, truncation at random offsets) give either a clean OCTError
/// or a consistent volume: never a crash, a hang or an allocation beyond the file.
struct FuzzTests {
    @Test(arguments: ["circle-valid.vol", "line-willis-0.vol", "circle-willis-2.vol", "e2e_minimized.E2E"])
    func mutatedSamples(_ name: String) throws {
        let original = try readFixture(name)
        var random = TestRandom(state: UInt64(name.utf8.count) * 7919)
        // Headers are where mutations bite; aim most of them at the first few KB and the first
        // B-scan header, the rest anywhere.
        let hot = name.hasSuffix(".vol") ? [0..<2048, (2048 + 768 * 768)..<(2048 + 768 * 768 + 512)] : [0..<1024]
        var outcomes = (errors: 0, volumes: 0)
        for iteration in 0..<750 {
            let bytes = fuzzMutation(of: original, iteration: iteration, hot: hot, random: &random)
            do {
                let volumes = try bytes.withUnsafeBytes { buffer -> [OCTVolume] in
                    name.hasSuffix(".vol") ? [try SpectralisVolReader.read(bytes: buffer, file: name)]
                        : try HeidelbergE2EReader.read(bytes: buffer, file: name)
                }
                for volume in volumes {
                    #expect(volume.pixels.count == volume.width * volume.height * volume.frameCount)
                    #expect(volume.pixels.count <= bytes.count * 4)
                }
                outcomes.volumes += 1
            } catch let error as OCTError {
                #expect("\(error)".hasPrefix(name + ": "))
                outcomes.errors += 1
            }
        }
        // Both kinds of outcome occur, so the mutations reach the parsers and the converters.
        #expect(outcomes.errors > 50)
        #expect(outcomes.volumes > 50)
    }
}

/// DICOM objects GDCM wrote (uncompressed and with its encoders), mutated the same way: flipped
/// bytes, mostly in the meta information and data set header, and truncations at random offsets.
struct DICOMFuzzTests {
    @Test(arguments: ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
                      "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5"])
    func mutatedObjects(_ syntax: String) throws {
        let folder = try TemporaryDirectory()
        var object = GDCMTestObject(syntax: syntax, columns: 64, rows: 48, frames: 4, bitsAllocated: 16, bitsStored: 12)
        object.fillSamples(seed: 11)
        try object.write(to: folder.path + "/seed.dcm")
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder.path + "/seed.dcm")))
        let pixelStart = original.count - object.samples.count * 2 / (syntax.hasPrefix("1.2.840.10008.1.2.") && syntax.count > 19 ? 4 : 1)
        let hot = [0..<min(1024, original.count), max(0, pixelStart - 64)..<min(original.count, pixelStart + 256)]
        var random = TestRandom(state: UInt64(syntax.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var outcomes = (errors: 0, volumes: 0)
        for iteration in 0..<750 {
            let bytes = fuzzMutation(of: original, iteration: iteration, hot: hot, random: &random)
            do {
                let volume = try bytes.withUnsafeBytes { try DICOMOPTReader.read(bytes: $0, file: "fuzz.dcm") }
                #expect(volume.pixels.count == volume.width * volume.height * volume.frameCount)
                #expect(volume.pixels.count <= DICOMOPTReader.maxVoxels)
                outcomes.volumes += 1
            } catch let error as OCTError {
                #expect("\(error)".hasPrefix("fuzz.dcm: "))
                outcomes.errors += 1
            }
        }
        // Both outcomes occur (compressed streams turn most flips into decode errors).
        #expect(outcomes.errors > 50)
        #expect(outcomes.volumes > 25)
    }
}
