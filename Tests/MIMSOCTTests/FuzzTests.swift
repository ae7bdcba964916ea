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
            var bytes = original
            if iteration % 4 == 3 {
                bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            } else {
                for _ in 0..<(1 + random.next() % 4) {
                    let region = random.next() % 4 == 0 ? 0..<bytes.count : hot[Int(random.next() % UInt64(hot.count))]
                    let at = region.lowerBound + Int(random.next() % UInt64(region.count))
                    bytes[at] = UInt8(truncatingIfNeeded: random.next())
                }
            }
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
