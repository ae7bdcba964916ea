import ArgumentParser
import Foundation
import MIMSTrain

/// `mims-train report --run RUN`: the report of a trained run folder, from its checkpoint,
/// metrics.jsonl and run.json: a run trained with --no-report, or one trained elsewhere and
/// copied here, such as a GPU run of `python -m mims_torch.train` (docs/GPU.md).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Score a trained run folder's checkpoint on a split and write its report (report.html, report.md, plots, gallery).",
        discussion: """
        Reads RUN/checkpoint.safetensors (RUN/best.safetensors when a training.select: best-val run left one), RUN/metrics.jsonl (loss and AUROC curves) and RUN/run.json (provenance, and \
        the shards folder when --shards is not given); writes RUN/scores-<split>.csv, RUN/eval-<split>.json and the \
        report, as a mims-train run does after training.
        """)

    @Option(name: .customLong("run"), help: "Run folder holding checkpoint.safetensors (mims-train or python -m mims_torch.train).") var runFolder: String
    @Option(help: "Folder of shards (default: the one RUN/run.json records).") var shards: String?
    @Option(help: "Split scored for the results table, ROC and heatmap gallery.") var split = "test"
    @Option(help: "lesions.json of synthetic data: the report adds the heatmaps' pointing-game score.") var lesions: String?
    @OptionGroup var engine: EngineOptions

    func run() throws {
        let record = try RunRecord.read(folder: runFolder)
        guard let shards = shards ?? record?.fields["shards"] else {
            throw ValidationError("\(runFolder): no run.json naming the shards folder; give --shards DIR")
        }
        // A `select: best-val` run is judged by its selected weights, as training scored it.
        let best = runFolder + "/best.safetensors"
        let selected = FileManager.default.fileExists(atPath: best)
        let model = try CheckpointOptions.load(checkpoint: selected ? best : runFolder + "/checkpoint.safetensors", shards: shards, split: split, engine: engine)
        if selected { print("scoring the selected weights: \(best) (iteration \(model.loaded.iteration), training.select: best-val)") }
        let scored = try Evaluator(network: model.network, store: model.store).score(model.dataset, sampler: model.pipeline.sampler)
        let evaluation = try RunOutputs.write(Trainer.Evaluation(split: split, iteration: model.loaded.iteration, scored: scored),
                                             classNames: model.signature.classNames, run: runFolder)
        var report = RunReport(folder: runFolder, pipeline: model.pipeline, shards: shards,
                               runs: [.init(name: model.pipeline.name, folder: runFolder, test: evaluation)], network: model.network, store: model.store)
        report.lesions = lesions
        report.provenance = record?.fields ?? [:]
        print("\(split) AUROC: \(Experiment.format(evaluation.auroc))")
        print("report: \(try report.write())")
    }
}
