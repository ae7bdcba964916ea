import Foundation
import MIMSImage

/// PNG and JPEG decode throughput (megapixels per second, one thread) against Pillow decoding the
/// same bytes, when python3 with Pillow is available.
enum DecodeBenchmark {
    /// A fundus-like RGB image: smooth radial shading, vessels-like stripes and mild noise.
    static func syntheticFrame(width: Int, height: Int) -> Frame {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var seed: UInt64 = 12345
        for y in 0..<height {
            for x in 0..<width {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let noise = Double(Int(seed >> 59)) - 16
                let dx = Double(x) / Double(width) - 0.5, dy = Double(y) / Double(height) - 0.5
                let r = (dx * dx + dy * dy).squareRoot()
                let vessel = sin(Double(x + 2 * y) / 9) > 0.96 ? -60.0 : 0
                let base = max(0, 200 - 300 * r) + vessel
                let rgb = [base + noise, base * 0.5 + noise / 2, base * 0.25 + noise / 4]
                for c in 0..<3 { pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, rgb[c]))) }
            }
        }
        return Frame(width: width, height: height, channels: 3, pixels: pixels)
    }

    static func run(into table: inout BenchTable, repeats: Int) throws {
        for (width, height) in [(224, 224), (900, 600)] {
            let frame = syntheticFrame(width: width, height: height)
            let files: [(String, [UInt8])] = [("PNG", try PNGEncoder.encode(frame)),
                                               ("JPEG", try JPEGEncoder.encode(frame, quality: 90))]
            for (format, bytes) in files {
                let megapixels = Double(width * height) / 1e6
                let iterations = max(20, Int(40 / megapixels))
                var best = Double.infinity
                for _ in 0..<max(1, repeats) {
                    let elapsed = try seconds {
                        for _ in 0..<iterations { _ = try ImageDecoder.decode(bytes, file: "bench") }
                    }
                    best = min(best, elapsed)
                }
                let ours = megapixels * Double(iterations) / best
                let pillow = pillowThroughput(bytes, megapixels: megapixels, iterations: iterations, repeats: repeats)
                table.add("decode \(format) \(width)x\(height) RGB", String(format: "%.1f MP/s", ours),
                          baseline: pillow.map { String(format: "Pillow %.1f MP/s", $0) } ?? "Pillow unavailable",
                          ratio: pillow.map { ours / $0 })
            }
        }
    }

    static func pillowThroughput(_ bytes: [UInt8], megapixels: Double, iterations: Int, repeats: Int) -> Double? {
        let path = NSTemporaryDirectory() + "/mims-bench-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return nil }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
        import io, sys, time
        from PIL import Image
        data = open(sys.argv[1], 'rb').read(); n = int(sys.argv[2]); best = 1e9
        for _ in range(int(sys.argv[3])):
            t = time.perf_counter()
            for _ in range(n): Image.open(io.BytesIO(data)).load()
            best = min(best, time.perf_counter() - t)
        print(best)
        """
        guard let output = pythonOutput(["-c", script, path, String(iterations), String(max(1, repeats))]),
              let elapsed = Double(output) else { return nil }
        return megapixels * Double(iterations) / elapsed
    }
}
