import Foundation
import MIMSCore
import MIMSIngest

/// Ingest throughput on synthetic Kather tiles and Cirrus volumes, with compression on and off,
/// against the same decode + normalize + compress work on all cores with no HDF5 at all, and the
/// tiles against a Pillow + h5py script.
enum IngestBenchmark {
    static func run(into table: inout BenchTable, repeats: Int) throws {
        let dir = NSTemporaryDirectory() + "/mims-bench-ingest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tiles = dir + "/tiles", cirrus = dir + "/cirrus"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 2000, seed: 5).write(to: tiles)
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 4, seed: 5).write(to: cirrus)

        for (label, source, unit) in [("Kather tiles 224x224 PNG", tiles, "tiles/s"), ("Cirrus 512x128x1024 .img", cirrus, "MB/s")] {
            let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
            let records = try Discovery.discover(manifest).records
            let megabytes = try records.reduce(0.0) { $0 + Double(try FileManager.default.attributesOfItem(atPath: $1.path)[.size] as! Int) / 1e6 }
            func rate(_ seconds: Double) -> Double { unit == "MB/s" ? megabytes / seconds : Double(records.count) / seconds }
            for level in [4, nil] as [Int?] {
                var variant = manifest
                variant.shards.deflateLevel = level
                var best = Double.infinity, bestWork = Double.infinity
                for run in 0..<max(1, repeats) {
                    let out = dir + "/out-\(run)-\(level ?? 0)-\(unit)"
                    let runner = IngestRunner(manifest: variant, output: out, options: .init(toolVersion: "bench"),
                                              reporter: ProgressReporter(format: .quiet))
                    best = min(best, try seconds { _ = try runner.run() })
                    try? FileManager.default.removeItem(atPath: out)
                    let processor = RecordProcessor(manifest: variant, frameShape: RecordProcessor.frameShape(for: variant, records: records)!)
                    bestWork = min(bestWork, seconds { _ = Parallel.map(records.count) { processor.encode(records[$0]) } })
                }
                let compression = level.map { "deflate \($0)" } ?? "no compression"
                table.add("ingest \(label), \(compression)", String(format: "%.0f %@", rate(best), unit),
                          baseline: String(format: "same work, no HDF5: %.0f %@", rate(bestWork), unit), ratio: bestWork / best)
                if unit == "tiles/s", let python = pythonBaseline(tiles, level: level ?? 0, out: dir + "/python.h5") {
                    table.add("ingest \(label), \(compression) vs Python", String(format: "%.0f tiles/s", rate(best)),
                              baseline: String(format: "Pillow + h5py %.0f tiles/s", python), ratio: rate(best) / python)
                }
            }
        }
    }

    static func pythonBaseline(_ root: String, level: Int, out: String) -> Double? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("bench/baselines/ingest_tiles.py").path
        return pythonOutput([script, root, out, String(level)]).flatMap(Double.init)
    }
}
