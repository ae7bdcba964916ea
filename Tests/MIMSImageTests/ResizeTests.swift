import Foundation
import Testing
@testable import MIMSImage

struct ResizeTests {
    /// PyTorch-computed bilinear resizes (Tests/Fixtures/golden/resize_bilinear_*), forward pass.
    @Test(arguments: 0..<7)
    func matchesPyTorchGolden(_ index: Int) throws {
        let golden = try SafeTensorsFile(path: fixturesPath + "/golden/resize_bilinear_\(index).safetensors")
        let x = try #require(golden.tensors["x"]), y = try #require(golden.tensors["y"])
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (y.shape[2], y.shape[3])
        var out = [Float](repeating: 0, count: n * c * oh * ow)
        for image in 0..<n {
            x.values.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    BilinearResize.resize(
                        planes: UnsafeBufferPointer(rebasing: input[image * c * h * w..<(image + 1) * c * h * w]),
                        channels: c, height: h, width: w,
                        into: UnsafeMutableBufferPointer(rebasing: output[image * c * oh * ow..<(image + 1) * c * oh * ow]),
                        outHeight: oh, outWidth: ow)
                }
            }
        }
        #expect(relativeError(out, y.values) < 1e-5)
    }

    /// The uint8 path is the float path rounded half away from zero and clamped, per channel of an
    /// interleaved frame.
    @Test func uint8FrameFollowsTheFloatPath() throws {
        let image = try ImageDecoder.decode(path: fixturesPath + "/images/png_rgb8.png").to8Bit()
        for (oh, ow) in [(224, 224), (7, 5), (23, 37), (46, 11)] {
            let resized = try BilinearResize.resize(image, height: oh, width: ow)
            #expect(resized.width == ow && resized.height == oh && resized.channels == 3)
            // Planar float reference.
            var planes = [Float](repeating: 0, count: 3 * image.height * image.width)
            for p in 0..<image.height * image.width { for ch in 0..<3 { planes[ch * image.height * image.width + p] = Float(image.pixels[p * 3 + ch]) } }
            var out = [Float](repeating: 0, count: 3 * oh * ow)
            planes.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                BilinearResize.resize(planes: i, channels: 3, height: image.height, width: image.width, into: o, outHeight: oh, outWidth: ow)
            } }
            for p in 0..<oh * ow { for ch in 0..<3 {
                let expected = UInt8(min(255, max(0, out[ch * oh * ow + p].rounded(.toNearestOrAwayFromZero))))
                #expect(resized.pixels[p * 3 + ch] == expected)
            } }
        }
    }

    @Test func halfwayValuesRoundAwayFromZero() throws {
        // 2 -> 1 pixel: the mean of 100 and 101 is 100.5, which rounds to 101 (not to even 100).
        let frame = Frame(width: 2, height: 1, channels: 1, pixels: [100, 101])
        #expect(try BilinearResize.resize(frame, height: 1, width: 1).pixels == [101])
    }
}
