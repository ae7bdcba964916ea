import ArgumentParser
import Foundation
import MIMSCore
import MIMSShards
import MIMSTrain

/// `mims-train heatmap`: supplement C's contribution maps for records of a split.
struct HeatmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "Write heatmaps (gradient x input at a trunk layer, evaluation mode) for records of a split.",
        discussion: """
        For each record: OUT/<id>/slice-NNN.png for the slices that supplied most top-k values (gray and \
        jet overlays side by side), OUT/<id>.npy with the raw map of every slice, and OUT/heatmaps.json. \
        With --lesions (a lesions.json from mims-ingest synth) it scores every positive record of the \
        split in the pointing game and prints 'pointing game: 0.xx'.
        """)

    @OptionGroup var checkpoint: CheckpointOptions
    @Option(help: "Output folder.") var out: String
    @Option(name: .customLong("class"), help: "Target class of the gradient.") var targetClass = 1
    @Option(help: "Records to draw (records of the target class first, then the others).") var records = 8
    @Option(help: "Trunk layer explained: layer1 ... layer4 (at most the pipeline's feature layer).") var layer = "layer2"
    @Option(help: "Slices shown per volume.") var slices = 3
    @Option(help: "lesions.json with planted lesion boxes, for the pointing game.") var lesions: String?

    func run() throws {
        guard let number = Int(layer.dropFirst(5)), layer.hasPrefix("layer"), (1...4).contains(number) else {
            throw ValidationError("--layer must be layer1, layer2, layer3 or layer4")
        }
        let (network, store, pipeline, dataset) = try checkpoint.load()
        guard number <= network.featureLayers.max()! else {
            throw ValidationError("--layer \(layer): the pipeline's trunk ends at layer\(network.featureLayers.max()!)")
        }
        let game = try lesions.map { try PointingGame(lesionsFile: $0) }
        var exporter = HeatmapExporter(maker: HeatmapMaker(network: network, store: store, layer: number, targetClass: targetClass),
                                       dataset: dataset, sampler: pipeline.sampler)
        exporter.slicesShown = slices
        let labels = dataset.labels
        let ordered = labels.indices.filter { labels[$0] == targetClass } + labels.indices.filter { labels[$0] != targetClass }
        let drawn = Set(ordered.prefix(records))
        // The pointing game needs every positive record, drawn or not.
        let visited = ordered.filter { drawn.contains($0) || (game != nil && labels[$0] == 1) }
        var written: [HeatmapExporter.Written] = []
        for index in visited {
            written.append(try exporter.export(record: index, to: out, images: drawn.contains(index), game: game))
        }
        let hits = written.compactMap(\.hit)
        let score = hits.isEmpty ? nil : Double(hits.filter { $0 }.count) / Double(hits.count)
        try AtomicFile.write(Data(HeatmapExporter.summary(written.filter { !$0.images.isEmpty || $0.hit != nil }, pointingGame: score).utf8),
                             to: out + "/heatmaps.json")
        print("\(out): heatmaps of \(drawn.count) records (\(layer), class \(targetClass))")
        if game != nil {
            if let score {
                print("\(hits.filter { $0 }.count) of \(hits.count) positive records have their heatmap maximum inside a planted lesion")
                print(String(format: "pointing game: %.2f", score))
            } else {
                print("pointing game: no positive record of the split has lesion boxes in \(lesions!)")
            }
        }
    }
}
