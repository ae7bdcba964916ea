import Foundation
import MIMSCore
import MIMSImage
import MIMSPlot
import MIMSShards
import MIMSSplit
import MIMSTensor

/// `RUN/report.html` and `RUN/report.md`: the pipeline, the dataset card of the shards, ROC, loss,
/// AUROC and confusion plots, AUROC per seed with the mean, and a heatmap gallery of true
/// positives, false positives and false negatives. Everything is a file beside the report, so it
/// opens from disk with no network.
public struct RunReport {
    public struct Run {
        public var name: String
        public var folder: String
        public var test: Trainer.Evaluation?
        /// Counted in the mean ± sd over runs and its interval, and in the mean curves: a seed or a
        /// fold is; cross-validation's pooled out-of-fold row, which holds the folds' records again, is not.
        public var inSummary: Bool

        public init(name: String, folder: String, test: Trainer.Evaluation?, inSummary: Bool = true) {
            self.name = name
            self.folder = folder
            self.test = test
            self.inSummary = inSummary
        }
    }

    public let folder: String
    public let pipeline: Pipeline
    public let shards: String
    public let runs: [Run]
    /// The model of the first run, for the heatmap gallery.
    public let network: Network
    public let store: ParameterStore
    public var lesions: String?
    public var galleryPerCategory = 3
    /// Draw the heatmap gallery (off for cross-validation, whose test records are spread over folds).
    public var heatmaps = true
    /// The first run's run.json: command line, tool version, date, effective settings, weights,
    /// pipeline hash and shard set.
    public var provenance: [String: String] = [:]
    /// What the summarized runs are, for the mean row: "seeds" or "folds".
    public var summaryUnit = "seeds"

    public init(folder: String, pipeline: Pipeline, shards: String, runs: [Run], network: Network, store: ParameterStore) {
        self.folder = folder
        self.pipeline = pipeline
        self.shards = shards
        self.runs = runs
        self.network = network
        self.store = store
    }

    struct Curves {
        var loss: [(Double, Double)] = []
        var auroc: [(Double, Double)] = []
    }

    static func curves(_ metricsPath: String) -> Curves {
        var curves = Curves()
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else { return curves }
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let iteration = object["iteration"] as? Int else { continue }
            if object["type"] as? String == "train", let loss = object["loss"] as? Double { curves.loss.append((Double(iteration), loss)) }
            if object["type"] as? String == "eval", let auroc = object["auroc"] as? Double { curves.auroc.append((Double(iteration), auroc)) }
        }
        return curves
    }

    /// A trailing mean over `window` iterations, so a noisy per-bag loss reads as a curve.
    static func smoothed(_ points: [(Double, Double)], window: Int) -> [(Double, Double)] {
        var sum = 0.0
        return points.indices.map { i in
            sum += points[i].1
            if i >= window { sum -= points[i - window].1 }
            return (points[i].0, sum / Double(min(i + 1, window)))
        }
    }

    /// ROC curves of several evaluations on one plot, each with its AUROC in the legend.
    public static func rocPlot(_ evaluations: [(name: String, evaluation: Trainer.Evaluation)], to path: String) throws {
        var roc = LineChart(title: "ROC, \(evaluations.first?.evaluation.split ?? "") split", xLabel: "false positive rate", yLabel: "true positive rate",
                            series: evaluations.flatMap { name, t in
                                func text(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
                                guard t.classes > 2 else {
                                    let points = Metrics.rocCurve(scores: t.scored.map(\.score), labels: t.scored.map(\.label)).map { ($0.fpr, $0.tpr) }
                                    return [LineChart.Series(name: "\(name) (AUROC \(text(t.auroc)))", points: points)]
                                }
                                // One-vs-rest curves, one per class.
                                return (0..<t.classes).map { c in
                                    let points = Metrics.rocCurve(scores: t.scored.map { $0.probabilities[c] }, labels: t.scored.map { $0.label == c ? 1 : 0 })
                                    return LineChart.Series(name: "\(name) class \(c) vs rest (AUROC \(text(t.classAUROC[c])))", points: points.map { ($0.fpr, $0.tpr) })
                                }
                            })
        roc.xRange = 0...1
        roc.yRange = 0...1
        roc.diagonal = true
        // Beside a PNG, the SVG it was drawn from (the report shows that one).
        if path.hasSuffix(".png") { try FigureFiles.write(svg: roc.svg(), to: String(path.dropLast(4))) } else { try AtomicFile.write(Data(try SVGRasterizer.png(roc.svg())), to: path) }
    }

    /// The mean curve of the summarized runs (seeds or folds) with a ± 1 sd band, at every iteration
    /// all of them logged; none for fewer than two such runs. `curves` is one per run, in `runs`' order.
    func meanSeries(_ curves: [[(Double, Double)]]) -> [LineChart.Series] {
        let summarized = zip(runs, curves).filter { $0.0.inSummary && !$0.1.isEmpty }.map(\.1)
        guard summarized.count > 1 else { return [] }
        let band = Self.meanAndSD(summarized)
        return [LineChart.Series(name: "mean ± sd over \(summarized.count) \(summaryUnit)", points: band.map { ($0.x, $0.mean) },
                                 color: PlotColor(20, 20, 20), band: band.map { ($0.x, $0.mean - $0.sd, $0.mean + $0.sd) })]
    }

    /// Mean and sample sd across curves at each x every curve has, in increasing x; a NaN value
    /// (an evaluation without an AUROC) gives NaN there, which breaks the line and the band.
    static func meanAndSD(_ curves: [[(Double, Double)]]) -> [(x: Double, mean: Double, sd: Double)] {
        let byX = curves.map { Dictionary($0.map { ($0.0, $0.1) }, uniquingKeysWith: { _, last in last }) }
        let common = byX.dropFirst().reduce(Set(byX[0].keys)) { $0.intersection($1.keys) }
        return common.sorted().map { x in
            let values = byX.map { $0[x]! }
            let (mean, sd) = Metrics.meanAndSD(values)
            return (x, mean!, sd!)
        }
    }

    /// A run's name as part of a file name: "seed 1, pooled out-of-fold" → "seed-1-pooled-out-of-fold".
    static func fileSlug(_ name: String) -> String {
        name.split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
    }

    /// Writes the plots, the gallery and both report files; returns the HTML path.
    @discardableResult
    public func write() throws -> String {
        try FileDurability.makeDirectory(folder + "/plots")
        let card = try? SplitReport.build(directory: shards)
        var figures: [(title: String, file: String)] = []

        let evaluated = runs.filter { $0.test != nil }
        if !evaluated.isEmpty {
            try Self.rocPlot(evaluated.map { ($0.name, $0.test!) }, to: folder + "/plots/roc.png")
            figures.append(("ROC curve", "plots/roc.png"))
            // One matrix per run (per seed), each from that run's own test scores.
            let first = evaluated[0].test!
            let classNames = (0..<first.classes).map { card?.className($0) ?? "class \($0)" }
            let rule = first.classes == 2 ? "threshold 0.5" : "most probable class"
            for run in evaluated {
                let file = evaluated.count == 1 ? "plots/confusion" : "plots/confusion-" + Self.fileSlug(run.name)
                let chart = ConfusionMatrixChart(title: "\(run.name), \(rule)", classes: classNames, counts: run.test!.confusion)
                try FigureFiles.write(svg: chart.svg(), to: folder + "/" + file)
                let of = evaluated.count == 1 ? "" : " of \(run.name)"
                figures.append((first.classes == 2 ? "Confusion matrix\(of) at probability 0.5" : "Confusion matrix\(of) (rows: true class, columns: most probable class)",
                                file + ".png"))
            }
        }
        let curves = runs.map { Self.curves($0.folder + "/metrics.jsonl") }
        if curves.contains(where: { !$0.loss.isEmpty }) {
            let window = max(1, (curves.map(\.loss.count).max() ?? 1) / 20)
            let smoothed = curves.map { Self.smoothed($0.loss, window: window) }
            var chart = LineChart(title: window == 1 ? "Training loss" : "Training loss (mean of \(window) iterations)", xLabel: "iteration", yLabel: "loss",
                                  series: zip(runs, smoothed).map { .init(name: $0.name, points: $1) } + meanSeries(smoothed))
            chart.integerX = true
            try FigureFiles.write(svg: chart.svg(), to: folder + "/plots/loss")
            figures.append(("Training loss", "plots/loss.png"))
        }
        if curves.contains(where: { !$0.auroc.isEmpty }) {
            var chart = LineChart(title: "AUROC during training (\(pipeline.evalSplit) split)", xLabel: "iteration", yLabel: "AUROC",
                                  series: zip(runs, curves).map { .init(name: $0.name, points: $1.auroc, markers: true) } + meanSeries(curves.map(\.auroc)))
            chart.yRange = 0...1
            chart.integerX = true
            try FigureFiles.write(svg: chart.svg(), to: folder + "/plots/auroc")
            figures.append(("AUROC during training", "plots/auroc.png"))
        }

        let gallery = heatmaps ? try makeGallery() : Gallery()
        let md = markdown(card: card, figures: figures, gallery: gallery)
        let html = HTMLReport.render(title: "mims-train report: \(pipeline.name)", markdownLike: md) { [folder] src in
            // A figure drawn as SVG is shown as such; its PNG stays beside it for print.
            guard src.hasSuffix(".png") else { return nil }
            return FileManager.default.contents(atPath: folder + "/" + src.dropLast(4) + ".svg").map { String(decoding: $0, as: UTF8.self) }
        }
        try AtomicFile.write(Data(md.utf8), to: folder + "/report.md")
        try AtomicFile.write(Data(html.utf8), to: folder + "/report.html")
        return folder + "/report.html"
    }

    struct Gallery {
        var sections: [(title: String, items: [HeatmapExporter.Written])] = []
        var pointingGame: Double?
    }

    func makeGallery() throws -> Gallery {
        var gallery = Gallery()
        guard let test = runs.first?.test, let dataset = try? ShardDataset(folder: shards, split: test.split) else { return gallery }
        var classOne = HeatmapExporter(maker: HeatmapMaker(network: network, store: store, layer: min(2, network.featureLayers.max()!)),
                                       dataset: dataset, sampler: pipeline.sampler)
        classOne.slicesShown = dataset.kind == .volume3d ? 2 : 1
        let byScore = test.scored.sorted { $0.score > $1.score }
        let categories: [(String, [Evaluator.Scored])] = test.classes == 2 ? [
            ("True positives (highest scores)", byScore.filter { $0.label == 1 && $0.score >= 0.5 }),
            ("False positives", byScore.filter { $0.label == 0 && $0.score >= 0.5 }),
            ("False negatives", byScore.reversed().filter { $0.label == 1 && $0.score < 0.5 }),
        ] : [
            // Heatmaps of the predicted class; the score is that class's probability.
            ("Correct (most confident)", byScore.filter { $0.predicted == $0.label }),
            ("Wrong (most confident)", byScore.filter { $0.predicted != $0.label }),
        ]
        let game = try lesions.map { try PointingGame(lesionsFile: $0) }
        // Each record's heatmap is computed once, drawn when it is in the gallery.
        var exported: [Int: HeatmapExporter.Written] = [:]
        var exporters: [Int: HeatmapExporter] = [1: classOne]
        func exporter(for member: Evaluator.Scored) -> HeatmapExporter {
            let target = test.classes == 2 ? 1 : member.predicted
            if let made = exporters[target] { return made }
            var made = classOne
            made.maker = HeatmapMaker(network: network, store: store, layer: made.maker.layer, targetClass: target)
            exporters[target] = made
            return made
        }
        for (title, members) in categories {
            let items = try members.prefix(galleryPerCategory).map { member in
                let written = try exporter(for: member).export(record: member.record, to: folder + "/gallery", images: true, game: game)
                exported[member.record] = written
                return written
            }
            gallery.sections.append((title, items))
        }
        if let game {
            let hits = try test.scored.filter { $0.label == 1 && game.boxes[$0.id] != nil }.map { member in
                try (exported[member.record] ?? classOne.export(record: member.record, to: folder + "/gallery", images: false, game: game)).hit == true
            }
            if !hits.isEmpty { gallery.pointingGame = Double(hits.filter { $0 }.count) / Double(hits.count) }
        }
        return gallery
    }

    func markdown(card: SplitReport?, figures: [(title: String, file: String)], gallery: Gallery) -> String {
        var md = "# \(pipeline.name)\n\n"
        md += "Model `\(pipeline.variant.rawValue)` on ResNet-\(network.trunk.depth.rawValue) (to layer\(network.featureLayers.max()!)), "
        md += "input \(pipeline.inputSize[0])x\(pipeline.inputSize[1]), shards `\(shards)`.\n\n"
        let evaluated = runs.compactMap(\.test)
        let classes = evaluated.first?.classes ?? 2, perPatient = evaluated.contains { $0.patients != nil }
        func text(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
        let aurocName = classes == 2 ? "AUROC" : "AUROC (macro)"
        md += "## Results\n\n| run | split | records | \(aurocName) |\(perPatient ? " patient-level \(aurocName) |" : "") "
        md += "\(classes == 2 ? "accuracy at 0.5" : "accuracy (most probable class)") |\n| --- | --- | --- | --- |\(perPatient ? " --- |" : "") --- |\n"
        for run in runs {
            guard let t = run.test else { md += "| \(run.name) | - | - | - |\(perPatient ? " - |" : "") - |\n"; continue }
            md += "| \(run.name) | \(t.split) | \(t.scored.count) | \(text(t.auroc)) |\(perPatient ? " \(text(t.patients?.auroc)) |" : "") \(String(format: "%.3f", t.accuracy)) |\n"
        }
        md += summaryRows(perPatient: perPatient)
        if classes > 2, let first = evaluated.first {
            md += "\nOne-vs-rest AUROC per class (\(runs.first { $0.test != nil }!.name)): "
            md += first.classAUROC.enumerated().map { "class \($0.offset) \(text($0.element))" }.joined(separator: ", ") + "\n"
        }
        if let patients = evaluated.first?.patients {
            md += "\nPatient level: \(patients.patients.count) patients, each scored by the \(patients.aggregation) of its records' probabilities.\n"
        }
        if let score = gallery.pointingGame {
            md += "\nPointing game (heatmap maximum inside a planted lesion, positive test records): **\(String(format: "%.2f", score))**\n"
        }
        md += "\n## Plots\n\n"
        for figure in figures { md += "![\(figure.title)](\(figure.file))\n\n" }
        if heatmaps {
            md += "## Heatmaps\n\nGradient x input at layer\(min(2, network.featureLayers.max()!)) in evaluation mode (supplement C): "
            md += "left the gray overlay 0.6 R + 0.3 P*, right the jet-coloured one with its colour bar (P* from 0 to 255); "
            md += "the slices that supplied most top-k values, numbered from 0 as in the shards\(lesions == nil ? "" : "; planted lesion boxes outlined in magenta").\n\n"
        }
        for section in gallery.sections {
            md += "### \(section.title)\n\n"
            if section.items.isEmpty { md += "None.\n\n"; continue }
            for item in section.items {
                md += "**\(item.id)** (label \(item.label), score \(String(format: "%.3f", item.score))\(item.hit.map { $0 ? ", pointing hit" : ", pointing miss" } ?? ""))\n\n"
                for image in item.images { md += "![\(item.id)](gallery/\(image))\n\n" }
            }
        }
        md += provenanceSection()
        if let card { md += "## Dataset card\n\n" + card.markdown() + "\n" }
        md += "## Pipeline\n\n```yaml\n" + pipeline.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n```\n"
        return md
    }

    /// The mean ± sd over the summarized runs (seeds or folds) and the Student-t 95% interval of that
    /// mean, for the record-level and patient-level AUROC; nothing for fewer than two runs.
    func summaryRows(perPatient: Bool) -> String {
        let summarized = runs.filter(\.inSummary).compactMap(\.test)
        let record = Metrics.summary(summarized.compactMap(\.auroc))
        let patient = Metrics.summary(summarized.compactMap { $0.patients?.auroc })
        guard let record, record.count > 1 else { return "" }
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        func spread(_ s: Metrics.Summary?) -> String { s.map { "**\(f($0.mean)) ± \($0.sd.map(f) ?? "n/a")**" } ?? "" }
        func interval(_ s: Metrics.Summary?) -> String { s?.interval.map { "\(f($0.lowerBound)) to \(f($0.upperBound))" } ?? "" }
        var md = "| **mean ± sd over \(record.count) \(summaryUnit)** | | | \(spread(record)) |\(perPatient ? " \(spread(patient)) |" : "") |\n"
        md += "| 95% interval of the mean (Student t, \(record.count - 1) df) | | | \(interval(record)) |\(perPatient ? " \(interval(patient)) |" : "") |\n"
        return md
    }

    /// What the run was, as run.json records it: enough to redo it or to tell two runs apart.
    func provenanceSection() -> String {
        guard !provenance.isEmpty else { return "" }
        let weights = provenance["backbone_weights"].map { name in
            name + (provenance["backbone_weights_sha256"].map { " (SHA-256 `\($0)`)" } ?? "")
        }
        let rows: [(String, String?)] = [
            ("command", provenance["command"].map { "`\($0)`" }),
            ("tool version", provenance["tool_version"]),
            ("started", provenance["started"]),
            ("iterations (effective)", provenance["iterations"]),
            ("seed", provenance["seed"]),
            ("backbone weights", weights),
            ("backbone", provenance["backbone_trainable"] == "false" ? "frozen: the head trained alone on trunk features cached once per record" : nil),
            ("initialized from", provenance["init_from"].map { "`\($0)`" + (provenance["init_from_sha256"].map { " (SHA-256 `\($0)`)" } ?? "") }),
            ("pipeline SHA-256", provenance["pipeline_sha256"].map { "`\($0)`" }),
            ("shard set", provenance["shard_set"].map { "`\($0)`" }),
            ("data", provenance["dataset_kind"].map { kind in
                "\(provenance["dataset"] ?? "") \(kind), \(provenance["channels"] ?? "?") channel(s), classes \(provenance["class_names"] ?? provenance["class_count"] ?? "?")"
            }),
        ]
        var md = "## Provenance\n\n| | |\n| --- | --- |\n"
        for (name, value) in rows { if let value { md += "| \(name) | \(value.replacingOccurrences(of: "|", with: "\\|")) |\n" } }
        return md + "\n"
    }
}
