import ArgumentParser
import Foundation
import MIMSTensor
import MIMSTrain

/// Loads a checkpoint with the pipeline stored in it.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Folder of shards.") var shards: String
    @Option(help: "A checkpoint written by mims-train (RUN/checkpoint.safetensors).") var checkpoint: String
    @Option(help: "Which split to score.") var split = "test"
    @OptionGroup var engine: EngineOptions

    /// The model, its pipeline and the split, after checking that the checkpoint was trained on
    /// data of the shards' kind, channels and classes.
    func load() throws -> (Network, ParameterStore, Pipeline, ShardDataset) {
        let model = try Self.load(checkpoint: checkpoint, shards: shards, split: split, engine: engine)
        return (model.network, model.store, model.pipeline, model.dataset)
    }

    /// A checkpoint's model, ready to score `split` of `shards`, and the checkpoint as read.
    static func load(checkpoint: String, shards: String, split: String, engine: EngineOptions) throws
        -> (network: Network, store: ParameterStore, pipeline: Pipeline, dataset: ShardDataset, loaded: Checkpoint.Loaded) {
        let loaded = try Checkpoint.read(checkpoint)
        guard let text = loaded.metadata["pipeline"] else { throw TrainingError.checkpoint(path: checkpoint, reason: "no pipeline in its metadata") }
        var pipeline = try Pipeline.parse(text, file: checkpoint + " (embedded pipeline)")
        // The precision the model was trained in (a --precision override is not in the text).
        if let recorded = loaded.metadata["precision"].flatMap(Precision.init(rawValue:)) { pipeline.precision = recorded }
        try engine.apply(to: &pipeline)
        let dataset = try ShardDataset(folder: shards, split: split)
        if let note = try Checkpoint.checkCompatible(loaded, path: checkpoint, with: DatasetSignature(dataset, pipeline: pipeline), shards: shards) {
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
        let network = Network(pipeline)
        let store = ParameterStore()
        try Checkpoint.restore(loaded, path: checkpoint, network: network, into: store)
        return (network, store, pipeline, dataset, loaded)
    }

    func score() throws -> (Pipeline, [Evaluator.Scored]) {
        let (network, store, pipeline, dataset) = try load()
        let sampler = pipeline.sampler
        return (pipeline, try Evaluator(network: network, store: store).score(dataset, sampler: sampler))
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "AUROC (ties count one half) and accuracy of a checkpoint on a split.")

    @OptionGroup var options: CheckpointOptions
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Also draw the ROC curve (with the AUROC in its legend) to this PNG.") var roc: String?

    func run() throws {
        let (pipeline, scored) = try options.score()
        let evaluation = Trainer.Evaluation(split: options.split, iteration: 0, scored: scored)
        let (auroc, accuracy) = (evaluation.auroc, evaluation.accuracy)
        if let roc { try RunReport.rocPlot([(pipeline.name, evaluation)], to: roc) }
        if json {
            print("{\"pipeline\": \"\(pipeline.name)\", \"split\": \"\(options.split)\", \"records\": \(scored.count), \"auroc\": \(auroc.map { String(format: "%.6f", $0) } ?? "null"), \"accuracy\": \(String(format: "%.6f", accuracy))}")
        } else {
            print("\(pipeline.name) on \(options.shards) \(options.split): \(scored.count) records")
            print(String(format: "accuracy at 0.5: %.3f", accuracy))
            print("\(options.split) AUROC: \(Experiment.format(auroc))")
        }
    }
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Write one row per record: id, patient, label, score.")

    @OptionGroup var options: CheckpointOptions
    @Option(help: "CSV file to write.") var out: String

    func run() throws {
        let (_, scored) = try options.score()
        try RunOutputs.writeScores(scored, to: out)
        print("\(out): \(scored.count) records")
    }
}
