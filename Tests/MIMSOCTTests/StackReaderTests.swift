import Foundation
import MIMSImage
import MIMSTestSupport
import Testing
@testable import MIMSOCT

struct StackReaderTests {
    @Test func naturalOrder() {
        let names = ["slice10.png", "slice2b.png", "slice2.png", "slice1.png", "Slice3.png"]
        #expect(names.sorted(by: StackReaders.naturalOrder) == ["Slice3.png", "slice1.png", "slice2.png", "slice2b.png", "slice10.png"])
    }

    @Test func sliceFolderInNaturalOrder() throws {
        let dir = try TemporaryDirectory()
        for index in [1, 2, 10, 3] {
            let frame = Frame(width: 8, height: 6, channels: 1, pixels: [UInt8](repeating: UInt8(index), count: 48))
            try Data(try PNGEncoder.encode(frame)).write(to: URL(fileURLWithPath: dir.path + "/bscan_\(index).png"))
        }
        #expect(OCTReader.detect(path: dir.path) == .sliceFolder)
        let volume = try OCTReader.read(path: dir.path)[0]
        #expect(volume.frameCount == 4 && volume.width == 8 && volume.height == 6)
        #expect((0..<4).map { volume.frame($0).pixels[0] } == [1, 2, 3, 10])
    }

    @Test func sliceFolderWithMismatchedSizes() throws {
        let dir = try TemporaryDirectory()
        try Data(try PNGEncoder.encode(Frame(width: 8, height: 6, channels: 1))).write(to: URL(fileURLWithPath: dir.path + "/a1.png"))
        try Data(try PNGEncoder.encode(Frame(width: 9, height: 6, channels: 1))).write(to: URL(fileURLWithPath: dir.path + "/a2.png"))
        #expect(throws: OCTError.self) { try OCTReader.read(path: dir.path) }
    }

    /// The multi-page TIFF fixture written by tifffile (three 51x45 pages).
    @Test func tiffStack() throws {
        let path = repositoryRoot + "/Tests/Fixtures/images/tiff_stack3.tif"
        #expect(OCTReader.detect(path: path) == .tiffStack)
        let volume = try OCTReader.read(path: path)[0]
        #expect(volume.frameCount == 3 && volume.width == 51 && volume.height == 45)
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".pages.raw")))
        #expect(volume.pixels == expected)
    }
}
