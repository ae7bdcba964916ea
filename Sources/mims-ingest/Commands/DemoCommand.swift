import ArgumentParser
import Foundation
import MIMSCommandSupport
import MIMSImage
import MIMSIngest
import MIMSShards

/// Synthesizes a small fundus dataset and ingests it: the whole pipeline on an embedded default.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Synthesize a small fundus dataset and ingest it into verified shards.",
        discussion: """
        Writes OUT/source/{healthy,disease}/<patient>-<eye>.jpg (900x600 synthetic fundus photographs, \
        two per patient), then ingests them: decode, resize to 224x224 RGB, a patient-grouped 70/30 \
        split, shards OUT/shards/<split>-<index>.h5 with splits.json, and verifies every shard.
        """)

    @Option(name: .shortAndLong, help: "Output folder.")
    var out = "demo-out"

    @Option(help: "Number of patients per class (two images each).")
    var patients = 12

    @Option(help: "Seed for the synthetic images and the split.")
    var seed: UInt64 = 7

    func run() throws {
        let source = out + "/source", shards = out + "/shards"
        try? FileManager.default.removeItem(atPath: shards)
        let generator = SyntheticFundus(width: 900, height: 600)
        var written = 0
        for (label, name) in ["healthy", "disease"].enumerated() {
            try FileManager.default.createDirectory(atPath: source + "/" + name, withIntermediateDirectories: true)
            for patient in 0..<patients {
                for (eye, side) in ["OD", "OS"].enumerated() {
                    let path = source + "/\(name)/P\(label)\(String(format: "%03d", patient))-\(side).jpg"
                    if FileManager.default.fileExists(atPath: path) { continue }
                    let frame = generator.image(seed: seed &* 1_000_003 &+ UInt64(label * 100_000 + patient * 2 + eye),
                                                diseased: label == 1)
                    try Data(JPEGEncoder.encode(frame, quality: 92)).write(to: URL(fileURLWithPath: path))
                    written += 1
                }
            }
        }
        print("source: \(source) (\(written) images written, \(2 * 2 * patients) in all)")
        let ingest = ImageFolderIngest(root: source, datasetName: "demo-fundus", classes: ["healthy", "disease"],
                                       frameShape: FrameShape(height: 224, width: 224, channels: 3), seed: seed,
                                       trainFraction: 0.7, recordsPerShard: 16)
        let started = Date()
        let summary = try ingest.run(output: shards, toolVersion: ToolVersion.current) { print("  ingest: \($0)") }
        let elapsed = Date().timeIntervalSince(started)
        print("shards: \(shards) (\(summary.records) records in \(String(format: "%.2f", elapsed)) s)")
        var failed = false
        for shard in summary.shards {
            let check = ShardVerifier.verify(path: shard.path)
            let name = (shard.path as NSString).lastPathComponent
            print("  \(name): \(check.recordCount) records, \(shard.frameShape) frames, " + (check.isValid ? "verified" : "INVALID"))
            check.problems.forEach { print("    - \($0)") }
            failed = failed || !check.isValid
        }
        if failed { throw ExitCode(1) }
        let first = summary.shards[0].path
        print("""

        Read a record in Python (h5py and numpy only):
          import h5py
          with h5py.File("\(first)") as f:
              s, n = f["record_frame_start"][0], f["record_frame_count"][0]
              frames = f["frames"][s:s + n]          # uint8 [n, 224, 224, 3]
              print(f["id"].asstr()[0], f["label"][0], frames.shape)
        """)
    }
}
