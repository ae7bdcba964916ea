import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

struct CirrusTests {
    @Test func fileNames() throws {
        let name = try #require(CirrusFileName("PAT_007_X_Macular Cube 512x128_7-25-2017_11-22-33_OD_sn4000_cube_z.img"))
        #expect(name.patientID == "PAT_007_X")
        #expect(name.protocolName == "Macular Cube")
        #expect(name.ascans == 512 && name.bscans == 128)
        #expect(name.laterality == .od)
        #expect(name.acquired == "2017-07-25T11:22:33")
        #expect(name.serialNumber == "4000" && name.kind == "cube" && name.variant == "z")
        #expect(CirrusFileName("P1_Optic Disc Cube 200x200_1-2-2020_1-2-3_OS_sn1_cube_raw.img")?.ascans == 200)
        #expect(CirrusFileName("volume.img") == nil)
        #expect(CirrusFileName("P1_Macular Cube 512x128_7-25-2017_11-22-33_XX_sn4000_cube_z.img") == nil)
    }

    /// Orientation straight from the documented layout: byte x + A(z + D y) of the file is voxel
    /// (A-scan x, depth z, B-scan y), and each B-scan is flipped vertically and horizontally.
    @Test func layoutAndOrientation() throws {
        let (a, b, d) = (64, 5, 1024)
        func voxel(_ x: Int, _ z: Int, _ y: Int) -> UInt8 { UInt8(truncatingIfNeeded: x * 7 + z * 3 + y * 101) }
        var raw = [UInt8](repeating: 0, count: a * b * d)
        for y in 0..<b { for z in 0..<d { for x in 0..<a { raw[x + a * (z + d * y)] = voxel(x, z, y) } } }
        let name = CirrusFileName.make(patientID: "P_1", protocolName: "HD 5 Line Raster", ascans: a, bscans: b, laterality: .os)
        let volume = try raw.withUnsafeBytes { try CirrusImgReader.read(bytes: $0, fileName: name, file: name) }
        #expect(volume.width == a && volume.height == d && volume.frameCount == b)
        for (frame, row, column) in [(0, 0, 0), (2, 10, 5), (4, 1023, 63), (1, 500, 31)] {
            let value = volume.pixels[frame * a * d + row * a + column]
            #expect(value == voxel(a - 1 - column, d - 1 - row, frame))
        }
        #expect(volume.metadata.patientID == "P_1" && volume.metadata.laterality == .os)
    }

    /// Writer and reader at the paper's Cirrus size (512 x 128 x 1024, 64 MiB), by name and by size.
    @Test func roundTripAtRealSize() throws {
        let dir = try TemporaryDirectory()
        var random = TestRandom(state: 9)
        let (a, b, d) = (512, 128, 1024)
        var pixels = [UInt8](repeating: 0, count: a * b * d)
        for i in stride(from: 0, to: pixels.count, by: 8) {
            let word = random.next()
            for k in 0..<8 { pixels[i + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
        }
        let volume = OCTVolume(width: a, height: d, frameCount: b, pixels: pixels, metadata: OCTMetadata(format: .cirrusImg))
        let bytes = CirrusImgWriter.bytes(of: volume)
        #expect(bytes.count == 67_108_864)
        let named = dir.path + "/" + CirrusFileName.make(patientID: "ID_with_underscores", ascans: a, bscans: b, laterality: .od)
        let unnamed = dir.path + "/scan.img"
        try Data(bytes).write(to: URL(fileURLWithPath: named))
        try Data(bytes).write(to: URL(fileURLWithPath: unnamed))
        for path in [named, unnamed] {
            #expect(OCTReader.detect(path: path) == .cirrusImg)
            let read = try CirrusImgReader.read(path: path)
            #expect(read.width == a && read.height == d && read.frameCount == b)
            #expect(read.pixels == pixels)
            #expect(read.metadata.spacing == VoxelSpacing(depth: 2.0 / 1024, width: 6.0 / 512, betweenFrames: 6.0 / 128))
        }
        #expect(try CirrusImgReader.read(path: named).metadata.patientID == "ID_with_underscores")
    }

    @Test func sizesThatDoNotFit() throws {
        let name = CirrusFileName.make(patientID: "P", ascans: 512, bscans: 128, laterality: .od)
        #expect(throws: OCTError.self) { try [UInt8](repeating: 0, count: 1000).withUnsafeBytes { try CirrusImgReader.read(bytes: $0, fileName: name, file: name) } }
        #expect(throws: OCTError.empty(file: name)) { try [UInt8]().withUnsafeBytes { try CirrusImgReader.read(bytes: $0, fileName: name, file: name) } }
        #expect(throws: OCTError.self) { try [UInt8](repeating: 0, count: 1000).withUnsafeBytes { try CirrusImgReader.read(bytes: $0, fileName: "x.img", file: "x.img") } }
    }
}
