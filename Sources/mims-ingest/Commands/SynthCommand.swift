import ArgumentParser
import Foundation
import MIMSIngest

/// Writes a synthetic dataset in a vendor's real format and layout, with a manifest and lesion truth.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic dataset (Cirrus .img, Spectralis .vol, Heyex XML folders, fundus JPEG or Kather PNG tiles) with manifest.yaml and lesions.json.",
        discussion: """
        Positives carry lesions of several scales at random positions on a plausible background; negatives \
        carry none. OUT/lesions.json lists every lesion as {id, frame, y0, x0, y1, x1} in the coordinates of \
        the frames as they land in the shards (rows y0..<y1, columns x0..<x1). Then: \
        mims-ingest run OUT/manifest.yaml --out SHARDS.
        """)

    @Option(help: "Which dataset: \(SyntheticDataset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: SyntheticDataset

    @Option(name: .shortAndLong, help: "Output folder (created).")
    var out: String

    @Option(help: "Number of records (default: 8 volumes, 24 fundus images or 64 tiles).")
    var count: Int?

    @Option(help: "Seed of the images and of the manifest's split.")
    var seed: UInt64 = 1

    @Flag(help: "Smaller volumes and fundus images (same formats and layouts), for quick runs.")
    var small = false

    @Option(help: "Label classes (crc-msi: 2 to \(SyntheticDataset.maximumClasses); patients take them in turn). Other datasets have 2.")
    var classes = 2

    func validate() throws {
        if let count, count < classes { throw ValidationError("--count must be at least \(classes) (one per class)") }
    }

    func run() throws {
        let writer = SyntheticDatasetWriter(dataset: dataset, count: count, seed: seed, small: small, classes: classes)
        let summary = try writer.write(to: out)
        print("\(out): \(summary.files) \(dataset.rawValue) records (\(summary.positives) positive, \(summary.lesions) lesion boxes)")
        print("next: mims-ingest run \(out)/manifest.yaml --out <shards folder>")
    }
}

extension SyntheticDataset: ExpressibleByArgument {}
