import Foundation
import MIMSOCT

/// Reading vendor volumes into uint8 frames, in MB of source file per second, against copying the
/// same file from the page cache with read(2) into a ready buffer.
enum OCTReadBenchmark {
    static func run(into table: inout BenchTable, repeats: Int) throws {
        let dir = NSTemporaryDirectory() + "/mims-bench-oct-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var seed: UInt64 = 1
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return seed >> 33
        }
        let (a, b, d) = (512, 128, 1024)
        let cirrus = OCTVolume(width: a, height: d, frameCount: b, pixels: (0..<a * b * d).map { _ in UInt8(truncatingIfNeeded: next()) },
                               metadata: OCTMetadata(format: .cirrusImg))
        let cirrusPath = dir + "/" + CirrusFileName.make(patientID: "BENCH", ascans: a, bscans: b, laterality: .od)
        try Data(CirrusImgWriter.bytes(of: cirrus)).write(to: URL(fileURLWithPath: cirrusPath))

        let (x, z, n) = (768, 496, 31)
        let writer = SpectralisVolWriter(sizeX: x, sizeZ: z, intensities: (0..<x * z * n).map { _ in Float(next() % 1_000_000) / 1_000_000 },
                                         slo: [UInt8](repeating: 90, count: 768 * 768), sizeXSlo: 768, sizeYSlo: 768)
        let volPath = dir + "/bench.vol"
        try Data(writer.bytes()).write(to: URL(fileURLWithPath: volPath))

        // A run over many volumes reuses one output buffer, as the read(2) baseline reuses its own.
        var storage: [UInt8] = []
        for (label, path, read) in [("Cirrus .img 512x128x1024", cirrusPath, { _ = try CirrusImgReader.read(path: cirrusPath, reusing: &storage) }),
                                    ("Spectralis .vol 768x496x31", volPath, { _ = try SpectralisVolReader.read(path: volPath, reusing: &storage) })] as [(String, String, () throws -> Void)] {
            let megabytes = Double(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int) / 1e6
            try read()  // warm the page cache
            var best = Double.infinity, copyBest = Double.infinity
            for _ in 0..<max(3, repeats) {
                best = min(best, try seconds(read))
                copyBest = min(copyBest, try seconds { try copyFromPageCache(path) })
            }
            let ours = megabytes / best, copy = megabytes / copyBest
            table.add("read \(label) to uint8 frames", String(format: "%.0f MB/s", ours),
                      baseline: String(format: "page-cache copy %.0f MB/s", copy), ratio: ours / copy)
        }
    }

    /// read(2) of the whole file into a buffer that already exists (the buffer is allocated and
    /// touched outside the timing by `Storage`).
    static func copyFromPageCache(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CocoaError(.fileReadNoPermission) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int(info.st_size)
        let buffer = Storage.buffer(size)
        var done = 0
        while done < size {
            let n = Glibc.read(fd, buffer + done, size - done)
            guard n > 0 else { break }
            done += n
        }
    }

    enum Storage {
        nonisolated(unsafe) static var pointer: UnsafeMutableRawPointer?
        nonisolated(unsafe) static var capacity = 0
        static func buffer(_ size: Int) -> UnsafeMutableRawPointer {
            if capacity < size {
                pointer?.deallocate()
                pointer = .allocate(byteCount: size, alignment: 64)
                memset(pointer!, 0, size)
                capacity = size
            }
            return pointer!
        }
    }
}
