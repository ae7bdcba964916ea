import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

struct E2ETests {
    /// The facts Tests/Fixtures/oct/SOURCES.md lists for e2e_minimized.E2E.
    @Test func realSample() throws {
        let path = octFixtures + "/e2e_minimized.E2E"
        let volumes = try HeidelbergE2EReader.read(path: path)
        #expect(volumes.count == 1)
        let volume = volumes[0]
        #expect(volume.width == 512 && volume.height == 496 && volume.frameCount == 1)
        #expect(volume.metadata.laterality == .os)
        let fundus = try #require(volume.metadata.fundus)
        #expect(fundus.width == 3 && fundus.height == 2 && fundus.pixels.count == 6)
        let bytes = try readFixture("e2e_minimized.E2E")
        #expect(fundus.pixels == Array(bytes[262 + 60 + 20..<262 + 60 + 26]))
        #expect(volume.metadata.warnings.contains { $0.contains("dangle") })
        #expect(volume.metadata.warnings.contains { $0.hasPrefix("container at offset 262 declares 589844 bytes") })
        // The B-scan container starts at offset 348: pixels at 348 + 60 + 20, decoded by numpy.
        let reference = try numpyReference(["e2e", path, "428", "512", "496"])
        let digests = reference["digests"] as! [String: String]
        #expect(sha256(volume.pixels) == digests["fourth-root"])
        #expect(sha256(try HeidelbergE2EReader.read(path: path, transform: .log)[0].pixels) == digests["log"])
    }

    @Test func ufloat16Values() {
        #expect(UFloat16.value(63 << 10) == 1)
        #expect(UFloat16.value(62 << 10 | 512) == 0.75)
        #expect(UFloat16.value(0) == pow(2.0, -63))
        let largest: Double = 1 + 1023.0 / 1024
        #expect(UFloat16.value(0xFFFF) == largest)
    }

    /// A directory chunk whose `prev` points to itself is a loop, not a hang.
    @Test func directoryLoopIsAnError() throws {
        var bytes = try readFixture("e2e_minimized.E2E")
        // Append a directory chunk with no entries whose prev points at itself, and point the
        // main directory (current and prev) at it.
        let chunk = bytes.count
        var header = Array("MDbMDir".utf8) + [UInt8](repeating: 0, count: 52 - 7)
        header.replaceSubrange(44..<48, with: withUnsafeBytes(of: UInt32(chunk).littleEndian, Array.init))
        bytes += header
        bytes.replaceSubrange(76..<80, with: withUnsafeBytes(of: UInt32(chunk).littleEndian, Array.init))
        bytes.replaceSubrange(80..<84, with: withUnsafeBytes(of: UInt32(chunk).littleEndian, Array.init))
        do {
            _ = try bytes.withUnsafeBytes { try HeidelbergE2EReader.read(bytes: $0, file: "loop.E2E") }
            Issue.record("accepted a directory loop")
        } catch let error as OCTError {
            #expect("\(error)" == "loop.E2E: inconsistent file: directory loop: chunk at offset \(chunk) is reached twice")
        }
    }

    /// With a sound directory the reader follows it instead of scanning, and finds the same data.
    @Test func followsAValidDirectory() throws {
        var bytes = try readFixture("e2e_minimized.E2E")
        let scanned = try bytes.withUnsafeBytes { try HeidelbergE2EReader.read(bytes: $0, file: "a.E2E") }
        func le(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let chunk = bytes.count
        let containers: [UInt32] = [88, 175, 262, 348]
        var header = Array("MDbMDir".utf8) + [UInt8](repeating: 0, count: 52 - 7)
        header.replaceSubrange(36..<40, with: le(UInt32(containers.count)))
        header.replaceSubrange(40..<44, with: le(UInt32(chunk)))
        var folders: [UInt8] = []
        for offset in containers {
            var folder = [UInt8](repeating: 0, count: 44)
            folder.replaceSubrange(0..<4, with: le(UInt32(chunk)))
            folder.replaceSubrange(4..<8, with: le(offset))
            folder.replaceSubrange(36..<40, with: Array(bytes[Int(offset) + 52..<Int(offset) + 56]))
            folders += folder
        }
        bytes += header + folders
        bytes.replaceSubrange(76..<80, with: le(UInt32(chunk)))
        bytes.replaceSubrange(80..<84, with: le(UInt32(chunk)))
        let walked = try bytes.withUnsafeBytes { try HeidelbergE2EReader.read(bytes: $0, file: "b.E2E") }
        #expect(walked.count == 1)
        #expect(walked[0].pixels == scanned[0].pixels)
        #expect(walked[0].metadata.laterality == .os)
        #expect(!walked[0].metadata.warnings.contains { $0.contains("dangle") })
        #expect(walked[0].metadata.warnings.contains { $0.hasPrefix("container at offset 262 declares") })
    }

    @Test func imageClaimingMoreThanTheFileIsRejected() throws {
        var bytes = try readFixture("e2e_minimized.E2E")
        // B-scan image header height (payload + 12) = 60000.
        bytes.replaceSubrange(348 + 60 + 12..<348 + 60 + 16, with: [0x60, 0xEA, 0, 0])
        #expect(throws: OCTError.self) { try bytes.withUnsafeBytes { try HeidelbergE2EReader.read(bytes: $0, file: "x.E2E") } }
        #expect(throws: OCTError.self) { try [UInt8]("CMDb".utf8).withUnsafeBytes { try HeidelbergE2EReader.read(bytes: $0, file: "y.E2E") } }
    }
}
