import Foundation
import MIMSCore
import MIMSImage

/// Generic 3D sources: one multi-page TIFF per volume, or a folder of 2D B-scans (PNG, JPEG, TIFF)
/// in natural number order ("slice2" before "slice10"). Frames become gray uint8 (RGB by BT.601
/// luma, 16-bit by rounding), and all must share one size.
public enum StackReaders {
    public static func readTIFFStack(path: String) throws -> OCTVolume {
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(path) } catch { throw OCTError.unreadable(file: path, reason: ReadableError.describe(error)) }
        guard !bytes.isEmpty else { throw OCTError.empty(file: path) }
        let decoder: TIFFDecoder
        do { decoder = try TIFFDecoder(bytes, file: path) } catch { throw OCTError.unrecognized(file: path, reason: ReadableError.describe(error)) }
        var frames: [Frame] = []
        for page in 0..<decoder.pageCount {
            do {
                frames.append(try decoder.decodePage(page).frame(channels: 1))
            } catch {
                throw OCTError.inconsistent(file: path, reason: "page \(page): \(ReadableError.describe(error))")
            }
        }
        return try volume(frames, names: (0..<frames.count).map { "page \($0)" }, file: path, format: .tiffStack)
    }

    public static func readSliceFolder(path: String) throws -> OCTVolume {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw OCTError.unreadable(file: path, reason: "not a readable folder")
        }
        let images = names.filter { name in
            [".png", ".jpg", ".jpeg", ".tif", ".tiff"].contains { name.lowercased().hasSuffix($0) }
        }.sorted(by: naturalOrder)
        guard !images.isEmpty else { throw OCTError.unrecognized(file: path, reason: "folder holds no PNG, JPEG or TIFF slices") }
        let frames = try images.map { name -> Frame in
            do { return try ImageDecoder.decode(path: path + "/" + name).frame(channels: 1) } catch {
                throw OCTError.inconsistent(file: path, reason: "slice \(name): \(ReadableError.describe(error))")
            }
        }
        return try volume(frames, names: images, file: path, format: .sliceFolder)
    }

    static func volume(_ frames: [Frame], names: [String], file: String, format: OCTFormat) throws -> OCTVolume {
        let (width, height) = (frames[0].width, frames[0].height)
        for (frame, name) in zip(frames, names) where frame.width != width || frame.height != height {
            throw OCTError.inconsistent(file: file, reason: "\(name) is \(frame.width)x\(frame.height), the first slice \(width)x\(height)")
        }
        var metadata = OCTMetadata(format: format)
        let pixels = frames.flatMap(\.pixels)
        if let low = pixels.min(), let high = pixels.max() { metadata.valueRange = Double(low)...Double(high) }
        return OCTVolume(width: width, height: height, frameCount: frames.count, pixels: pixels, metadata: metadata)
    }

    /// "slice2" < "slice10": runs of digits compare by value.
    public static func naturalOrder(_ a: String, _ b: String) -> Bool {
        let x = chunks(a), y = chunks(b)
        for (p, q) in zip(x, y) where p != q {
            switch (p, q) {
            case let (.number(m, mt), .number(n, nt)): return m != n ? m < n : mt < nt
            case let (.text(s), .text(t)): return s < t
            case (.number, .text): return true
            case (.text, .number): return false
            }
        }
        return x.count != y.count ? x.count < y.count : a < b
    }

    enum Chunk: Equatable {
        case text(String)
        case number(Double, String)
    }

    static func chunks(_ s: String) -> [Chunk] {
        var result: [Chunk] = []
        var current = ""
        var digits = false
        for c in s {
            let isDigit = c.isASCII && c.isNumber
            if !current.isEmpty && isDigit != digits {
                result.append(digits ? .number(Double(current) ?? 0, current) : .text(current))
                current = ""
            }
            digits = isDigit
            current.append(c)
        }
        if !current.isEmpty { result.append(digits ? .number(Double(current) ?? 0, current) : .text(current)) }
        return result
    }
}
