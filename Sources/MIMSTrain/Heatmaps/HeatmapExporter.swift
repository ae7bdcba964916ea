import Foundation
import MIMSCore
import MIMSImage
import MIMSPlot
import MIMSShards
import MIMSTensor

/// Writes heatmaps of records to a folder: `<id>/slice-<frame>.svg` and `.png` (``FigureFiles``) for the
/// top-ranked slices (caption, gray and jet overlays side by side, lesion boxes when known, a colour
/// bar), `<id>.npy` with T for every slice of the bag ([slices, h, w],
/// float32) and `heatmaps.json` describing each record.
public struct HeatmapExporter {
    public struct Written: Sendable {
        public var id: String
        public var label: Int
        public var score: Double
        /// Slice images, relative to the output folder, best-ranked first.
        public var images: [String]
        /// Pointing game: the heatmap maximum lies in a planted lesion (nil without boxes).
        public var hit: Bool?
    }

    public var maker: HeatmapMaker
    public let dataset: ShardDataset
    public let sampler: SliceSampler
    public var slicesShown = 3

    public init(maker: HeatmapMaker, dataset: ShardDataset, sampler: SliceSampler) {
        self.maker = maker
        self.dataset = dataset
        self.sampler = sampler
    }

    static func fileName(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
    }

    /// Heatmap of record `index`; images are written when `images` is true.
    public func export(record index: Int, to folder: String, images: Bool, game: PointingGame?) throws -> Written {
        let info = dataset.records[index].info
        let slices = sampler.evaluation(frames: info.frameCount)
        let batch = try BatchAssembler(dataset: dataset, inputSize: maker.network.pipeline.inputSize).batch([(index, slices)])
        let result = maker.make(batch)
        let shape = dataset.frameShape
        let name = Self.fileName(info.id)
        try FileDurability.makeDirectory(folder)
        let (h, w) = (result.contribution.shape[1], result.contribution.shape[2])
        try AtomicFile.write(Data(NPYWriter.float32(result.contribution.values, shape: [slices.count, h, w])), to: folder + "/" + name + ".npy")

        var hit: Bool?
        if let game, game.boxes[info.id] != nil {
            // The maximum of T over the bag, located at frame resolution.
            var best: (value: Float, position: Int, y: Int, x: Int) = (-1, 0, 0, 0)
            for position in slices.indices {
                let plane = Array(result.contribution.values[position * h * w..<(position + 1) * h * w])
                let up = BilinearResize2D.forward(Tensor(shape: [1, 1, h, w], values: plane), height: shape.height, width: shape.width).values
                for (i, v) in up.enumerated() where v > best.value { best = (v, position, i / shape.width, i % shape.width) }
            }
            hit = game.hit(id: info.id, frame: slices[best.position], y: best.y, x: best.x)
        }

        var written: [String] = []
        if images {
            try FileDurability.makeDirectory(folder + "/" + name)
            for position in result.ranking.prefix(slicesShown) {
                let frame = slices[position]
                let gray = HeatmapRenderer.gray(try dataset.frames(ofRecord: index, first: frame, count: 1), shape: shape)
                let heat = HeatmapRenderer.upsampled(result, position: position, height: shape.height, width: shape.width)
                let pixels = HeatmapRenderer.sideBySide(gray: gray, heat: heat, height: shape.height, width: shape.width)
                let boxes = (game?.boxes[info.id] ?? []).filter { $0.frame == frame }.map { HeatmapFigure.Box(y0: $0.y0, x0: $0.x0, y1: $0.y1, x1: $0.x1) }
                let overlay = try PNGEncoder.encode(Frame(width: 2 * shape.width, height: shape.height, channels: 3, pixels: pixels))
                let figure = HeatmapFigure(overlayPNG: overlay, panelWidth: shape.width, height: shape.height, boxes: boxes,
                                           caption: Self.caption(id: info.id, frame: frame, frames: info.frameCount, label: Int(info.label), score: result.score))
                let file = name + "/slice-\(String(format: "%03d", frame))"
                // At the figure's own size: its panels are already drawn at least 256 px tall, and a
                // larger copy only interpolates the frame's pixels (about 4x the bytes at twice the size).
                try FigureFiles.write(svg: figure.svg(), to: folder + "/" + file, scale: 1)
                written.append(file + ".png")
            }
        }
        return Written(id: info.id, label: Int(info.label), score: result.score, images: written, hit: hit)
    }

    /// The line above a slice's figure: the record, which slice of how many (counted from 0, as in the
    /// shards, the file name and lesions.json; only for volumes), its label and score.
    static func caption(id: String, frame: Int, frames: Int, label: Int, score: Double) -> String {
        let slice = frames > 1 ? ", slice \(frame) of \(frames) (from 0)" : ""
        return "\(id)\(slice), label \(label < 0 ? "none" : String(label)), score \(String(format: "%.3f", score))"
    }

    /// `heatmaps.json` for what was written.
    public static func summary(_ written: [Written], pointingGame: Double?) -> String {
        let records = written.map { w in
            JSONText.object(["id": JSONText.string(w.id), "label": String(w.label), "score": String(format: "%.6f", w.score),
                             "images": JSONText.array(w.images),
                             "pointing_hit": w.hit.map { $0 ? "true" : "false" } ?? "null"])
        }
        return JSONText.object(["pointing_game": pointingGame.map { String(format: "%.4f", $0) } ?? "null",
                                "records": "[\n" + records.joined(separator: ",\n") + "\n]"], multiline: true) + "\n"
    }
}
