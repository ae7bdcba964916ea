import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSImage

struct ConversionTests {
    @Test func sixteenBitScalingRule() {
        let image = DecodedImage(width: 5, height: 1, channels: 1, samples: .uint16([0, 128, 257, 32896, 65535]))
        // round(v * 255 / 65535): 0, 0.498 -> 0, 1, 128.0 -> 128, 255
        #expect(image.to8Bit().pixels == [0, 0, 1, 128, 255])
        let half = DecodedImage(width: 1, height: 1, channels: 1, samples: .uint16([129]))
        #expect(half.to8Bit().pixels == [1])  // 129 * 255 / 65535 = 0.502 rounds up
    }

    @Test func channelConversions() throws {
        let rgba = Frame(width: 2, height: 1, channels: 4, pixels: [10, 20, 30, 99, 255, 0, 128, 7])
        #expect(try rgba.converted(toChannels: 3).pixels == [10, 20, 30, 255, 0, 128])
        let gray = Frame(width: 2, height: 1, channels: 2, pixels: [5, 200, 77, 1])
        #expect(try gray.converted(toChannels: 3).pixels == [5, 5, 5, 77, 77, 77])
        #expect(try gray.converted(toChannels: 1).pixels == [5, 77])
        #expect(throws: ImageError.self) { try gray.converted(toChannels: 2) }
    }

    /// RGB to gray equals Pillow's `convert("L")`, computed by Pillow in this test.
    @Test func lumaMatchesPillow() throws {
        let path = fixturesPath + "/images/png_rgb8.png"
        let pillow = try pillowPixels(path, mode: "L")
        let ours = try ImageDecoder.decode(path: path).frame(channels: 1)
        #expect(ours.pixels == pillow)
    }

    @Test func pngEncodeRoundTrips() throws {
        for fixture in FixtureIndex.shared.images where fixture.kind == "png" {
            let image = try ImageDecoder.decode(path: fixture.path)
            let encoded = try PNGEncoder.encode(image)
            #expect(try PNGDecoder.decode(encoded, file: "re-encoded") == DecodedImage(
                width: image.width, height: image.height, channels: image.channels, samples: image.samples))
        }
    }
}

struct JPEGEncoderTests {
    /// Our JPEG encoder's output decodes in Pillow to what our decoder reads from it.
    @Test func pillowReadsOurJPEG() throws {
        // A smooth gradient, the kind of content JPEG keeps well.
        let (w, h) = (67, 45)
        let frame = Frame(width: w, height: h, channels: 3, pixels: (0..<w * h * 3).map { i in
            UInt8(i / 3 % w * 2 + i / (3 * w) * 2 + (i % 3) * 10)
        })
        let jpeg = try JPEGEncoder.encode(frame, quality: 90)
        let dir = NSTemporaryDirectory() + "/mims-jpeg-\(UUID().uuidString).jpg"
        try Data(jpeg).write(to: URL(fileURLWithPath: dir))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pillow = try pillowPixels(dir, mode: "RGB")
        let ours = try JPEGDecoder.decode(jpeg, file: dir)
        #expect(ours.samples == .uint8(pillow))
        // Lossy, but close to the source.
        let diff = zip(frame.pixels, pillow).map { abs(Int($0) - Int($1)) }.reduce(0, +)
        #expect(Double(diff) / Double(pillow.count) < 3)
    }
}
