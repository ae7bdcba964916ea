import Foundation
import Testing
@testable import MIMSImage

/// Every fixture kind decodes to the pixels its independent encoder was given (lossless formats) or
/// to Pillow's decode of the same bytes (JPEG).
struct DecoderConformanceTests {
    @Test(arguments: FixtureIndex.shared.images)
    func decodesToTheExpectedSamples(_ fixture: ImageFixture) throws {
        let image = try ImageDecoder.decode(path: fixture.path)
        #expect(image.width == fixture.width)
        #expect(image.height == fixture.height)
        #expect(image.channels == fixture.channels)
        #expect(image.bitDepth == fixture.bit_depth)
        if fixture.kind == "tiff-page1" {
            let decoder = try TIFFDecoder(FileBytes.read(fixture.path), file: fixture.path)
            #expect(decoder.pageCount == 3)
            #expect(try decoder.decodePage(1).samples == fixture.expected())
            let all = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.path + ".pages.raw")))
            let pageBytes = fixture.width * fixture.height
            for page in 0..<3 {
                #expect(try decoder.decodePage(page).samples == .uint8(Array(all[page * pageBytes..<(page + 1) * pageBytes])))
            }
            #expect(throws: ImageError.self) { try decoder.decodePage(3) }
        } else {
            #expect(image.samples == (try fixture.expected()))
        }
    }

    @Test func formatIsSniffedByContentNotExtension() throws {
        let png = try FileBytes.read(fixturesPath + "/images/png_rgb8.png")
        #expect(ImageFormat.sniff(png) == .png)
        #expect(ImageFormat.sniff(try FileBytes.read(fixturesPath + "/images/jpeg_gray.jpg")) == .jpeg)
        #expect(ImageFormat.sniff(try FileBytes.read(fixturesPath + "/images/tiff_gray8_none.tif")) == .tiff)
        #expect(ImageFormat.sniff([0x42, 0x4D, 0, 0]) == nil)
        #expect(try ImageDecoder.decode(png, file: "misnamed.jpg").width == 37)
    }

    @Test func cmykJpegIsConvertedToRGB() throws {
        let image = try ImageDecoder.decode(path: fixturesPath + "/images/jpeg_cmyk.jpg")
        #expect(image.conversions.contains(.fromCMYK))
        #expect(image.channels == 3)
    }
}
