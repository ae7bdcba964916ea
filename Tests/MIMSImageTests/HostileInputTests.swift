import Foundation
import Testing
@testable import MIMSImage

/// Damaged and lying files give a typed error naming the file, never a crash, a hang or a huge
/// allocation.
struct HostileInputTests {
    @Test(arguments: FixtureIndex.shared.hostile)
    func hostileHeadersAreRejected(_ name: String) throws {
        let path = fixturesPath + "/images/" + name
        do {
            let image = try ImageDecoder.decode(path: path)
            Issue.record("\(name) decoded to \(image.width)x\(image.height)")
        } catch let error as ImageError {
            #expect("\(error)".hasPrefix(path + ": "))
            if name.contains("huge") {
                #expect({ if case .tooLarge = error { return true } else { return false } }(), "\(error)")
            }
            if name.contains("bits7") {
                #expect({ if case .unsupported = error { return true } else { return false } }(), "\(error)")
            }
        }
    }

    /// Every prefix of a file at a spread of lengths either decodes (a PNG cut after its image data
    /// still holds every pixel) or fails cleanly; a truncated JPEG must fail, not fill with gray.
    @Test(arguments: ["png_rgb8.png", "png_rgb16.png", "png_palette4_trns.png", "png_rgb8_interlaced.png",
                      "jpeg_rgb420.jpg", "jpeg_rgb_progressive.jpg", "jpeg_gray.jpg",
                      "tiff_rgb8_lzw.tif", "tiff_rgb8_deflate_tiled.tif", "tiff_rgb8_jpeg.tif", "tiff_stack3.tif"])
    func truncationGivesCleanErrors(_ name: String) throws {
        let bytes = try FileBytes.read(fixturesPath + "/images/" + name)
        let full = try ImageDecoder.decode(bytes, file: name)
        for cut in Set(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)).map { $0 } + [bytes.count - 1, bytes.count - 3]) {
            let prefix = Array(bytes[0..<cut])
            do {
                let image = try ImageDecoder.decode(prefix, file: name)
                // Accepted only when every pixel is intact.
                #expect(image == full, "\(name) cut at \(cut) of \(bytes.count) decoded to different pixels")
            } catch let error as ImageError {
                #expect("\(error)".hasPrefix(name + ": "))
            }
        }
    }

    @Test func emptyAndUnknownFiles() {
        #expect(throws: ImageError.corrupt(file: "empty.png", reason: "file is empty")) {
            try ImageDecoder.decode([], file: "empty.png")
        }
        #expect(throws: ImageError.unknownFormat(file: "x.bmp")) { try ImageDecoder.decode([0x42, 0x4D, 1, 2, 3], file: "x.bmp") }
        #expect(throws: ImageError.self) { try ImageDecoder.decode(path: fixturesPath + "/images/does-not-exist.png") }
    }

    /// Random byte flips: clean errors or images, never a crash.
    @Test func byteFlipsNeverCrash() throws {
        var state: UInt64 = 99
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for name in ["png_rgb8.png", "jpeg_rgb420.jpg", "tiff_rgb8_lzw.tif", "tiff_gray16_tiled.tif", "png_gray16_interlaced.png"] {
            let bytes = try FileBytes.read(fixturesPath + "/images/" + name)
            for _ in 0..<150 {
                var mutated = bytes
                for _ in 0..<(1 + next() % 4) {
                    mutated[next() % mutated.count] = UInt8(truncatingIfNeeded: next())
                }
                do {
                    let image = try ImageDecoder.decode(mutated, file: name)
                    #expect(image.width > 0 && image.height > 0)
                } catch let error as ImageError {
                    #expect("\(error)".hasPrefix(name + ": "))
                }
            }
        }
    }
}
