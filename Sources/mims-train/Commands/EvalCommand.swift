import ArgumentParser
import Foundation
import MIMSShards
import MIMSTensor
import MIMSTrain

/// A checkpoint's model, with the pipeline stored in it and what it was trained on.
struct LoadedModel {
    var network: Network
    var store: ParameterStore
    var pipeline: Pipeline
    var loaded: Checkpoint.Loaded
    /// Nil for checkpoints written before the training data's signature was recorded.
    var trainedOn: DatasetSignature?

    static func load(checkpoint: String, engine: EngineOptions) throws -> LoadedModel {
        let loaded = try Checkpoint.read(checkpoint)
        guard let text = loaded.metadata["pipeline"] else { throw TrainingError.checkpoint(path: checkpoint, reason: "no pipeline in its metadata") }
        var pipeline = try Pipeline.parse(text, file: checkpoint + " (embedded pipeline)")
        // The precision the model was trained in (a --precision override is not in the text).
        if let recorded = loaded.metadata["precision"].flatMap(Precision.init(rawValue:)) { pipeline.precision = recorded }
        try engine.apply(to: &pipeline)
        let trainedOn = DatasetSignature(metadata: loaded.metadata)
        let network = Network(pipeline, classes: trainedOn?.classCount ?? 2)
        let store = ParameterStore()
        try Checkpoint.restore(loaded, path: checkpoint, network: network, into: store)
        return LoadedModel(network: network, store: store, pipeline: pipeline, loaded: loaded, trainedOn: trainedOn)
    }
}

/// Loads a checkpoint with the pipeline stored in it.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Folder of shards.") var shards: String
    @Option(help: "A checkpoint written by mims-train (RUN/checkpoint.safetensors).") var checkpoint: String
    @Option(help: "Which split to score: train, val, test, or all (every split, e.g. of an unlabelled set).") var split = "test"
    @OptionGroup var engine: EngineOptions

    /// The model, its pipeline and the split, after checking that the checkpoint was trained on
    /// data of the shards' kind, channels and classes.
    func load() throws -> (Network, ParameterStore, Pipeline, ShardDataset) {
        let model = try Self.load(checkpoint: checkpoint, shards: shards, split: split, engine: engine)
        return (model.network, model.store, model.pipeline, model.dataset)
    }

    /// A checkpoint's model, ready to score `split` (or `all`) of `shards`, the checkpoint as read,
    /// and the shards' signature it was checked against.
    static func load(checkpoint: String, shards: String, split: String, engine: EngineOptions) throws
        -> (network: Network, store: ParameterStore, pipeline: Pipeline, dataset: ShardDataset, loaded: Checkpoint.Loaded, signature: DatasetSignature) {
        let model = try LoadedModel.load(checkpoint: checkpoint, engine: engine)
        let dataset = split == "all"
            ? try ShardDataset(folder: shards, splits: ShardSchema.splits, name: "all") { _ in true }
            : try ShardDataset(folder: shards, split: split)
        let signature = DatasetSignature(dataset, pipeline: model.pipeline)
        if let note = try Checkpoint.checkCompatible(model.loaded, path: checkpoint, with: signature, shards: shards) {
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
        return (model.network, model.store, model.pipeline, dataset, model.loaded, signature)
    }

    /// Every record of the split scored, and the class names: the shards', else (unlabelled
    /// shards name none) the checkpoint's. `command` names what needs labels, if anything does.
    func score(needingLabelsFor command: String? = nil) throws -> (Pipeline, [Evaluator.Scored], [String]) {
        try Self.score(checkpoint: checkpoint, shards: shards, split: split, engine: engine, needingLabelsFor: command)
    }

    static func score(checkpoint: String, shards: String, split: String, engine: EngineOptions,
                      needingLabelsFor command: String? = nil) throws -> (Pipeline, [Evaluator.Scored], [String]) {
        let model = try load(checkpoint: checkpoint, shards: shards, split: split, engine: engine)
        if let command, model.dataset.isUnlabelled { throw TrainingError.unlabelled(folder: shards, command: command) }
        let sampler = model.pipeline.sampler
        var names = model.signature.classNames
        if names.isEmpty { names = DatasetSignature(metadata: model.loaded.metadata)?.classNames ?? [] }
        let scored = try Evaluator(network: model.network, store: model.store).score(model.dataset, sampler: sampler)
        return (model.pipeline, scored, names)
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "AUROC (ties count one half) and accuracy of a checkpoint on a split, per record and per patient.",
        discussion: """
        With two classes the AUROC ranks the class-1 probability; with more, each class is ranked \
        one-vs-rest and the last line is their macro average, `<split> AUROC (macro): x`. Where \
        patients have several records (tiles, several volumes), `patient-level AUROC: x` comes \
        just before it, each patient scored by --patient-score of its records' probabilities.
        """)

    @OptionGroup var options: CheckpointOptions
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Also draw the ROC curve (with the AUROC in its legend) to this PNG.") var roc: String?
    @Option(help: "A patient's score from its records' class probabilities: mean, max, or top:F (the mean of the largest fraction F).")
    var patientScore = "mean"

    func run() throws {
        guard let aggregation = PatientAggregation(patientScore) else {
            throw ValidationError("--patient-score must be mean, max or top:F with 0 < F <= 1, not \(patientScore)")
        }
        let (pipeline, scored, classNames) = try options.score(needingLabelsFor: "evaluate against")
        let evaluation = Trainer.Evaluation(split: options.split, iteration: 0, scored: scored, patientAggregation: aggregation)
        if let roc { try RunReport.rocPlot([(pipeline.name, evaluation)], to: roc) }
        func number(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "null" }
        let names = RunOutputs.names(classNames, classes: evaluation.classes)
        if json {
            var fields = ["\"pipeline\": \"\(pipeline.name)\"", "\"split\": \"\(options.split)\"", "\"records\": \(scored.count)",
                          "\"classes\": \(evaluation.classes)", "\"auroc\": \(number(evaluation.auroc))",
                          "\"accuracy\": \(String(format: "%.6f", evaluation.accuracy))"]
            if evaluation.classes > 2 {
                fields.append("\"auroc_per_class\": {" + zip(names, evaluation.classAUROC).map { "\"\($0)\": \(number($1))" }.joined(separator: ", ") + "}")
            }
            if let patients = evaluation.patients {
                fields.append("\"patients\": \(patients.patients.count)")
                fields.append("\"patient_auroc\": \(number(patients.auroc))")
            }
            print("{" + fields.joined(separator: ", ") + "}")
        } else {
            print("\(pipeline.name) on \(options.shards) \(options.split): \(scored.count) records")
            if evaluation.classes > 2 {
                for (name, auroc) in zip(names, evaluation.classAUROC) { print("\(name) vs rest AUROC: \(Experiment.format(auroc))") }
                print(String(format: "accuracy (most probable class): %.3f", evaluation.accuracy))
            } else {
                print(String(format: "accuracy at 0.5: %.3f", evaluation.accuracy))
            }
            if let patients = evaluation.patients {
                if !patients.mixedLabels.isEmpty {
                    print("note: \(patients.mixedLabels.count) patient(s) with records of different labels left out of the patient level")
                }
                print("patients: \(patients.patients.count) (score: \(patients.aggregation) of their records)")
                print("patient-level \(evaluation.aurocName): \(Experiment.format(patients.auroc))")
            }
            print("\(options.split) \(evaluation.aurocName): \(Experiment.format(evaluation.auroc))")
        }
    }
}
