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
        let network = Network(pipeline, classes: DatasetSignature(metadata: loaded.metadata)?.classCount ?? 2)
        let store = ParameterStore()
        try Checkpoint.restore(loaded, path: checkpoint, network: network, into: store)
        return (network, store, pipeline, dataset, loaded)
    }

    func score() throws -> (Pipeline, [Evaluator.Scored], [String]) {
        let (network, store, pipeline, dataset) = try load()
        let sampler = pipeline.sampler
        let names = DatasetSignature(dataset, pipeline: pipeline).classNames
        return (pipeline, try Evaluator(network: network, store: store).score(dataset, sampler: sampler), names)
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
        let (pipeline, scored, classNames) = try options.score()
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

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Write one row per record: id, patient, label, score (and p_<class> per class with more than two classes).")

    @OptionGroup var options: CheckpointOptions
    @Option(help: "CSV file to write.") var out: String

    func run() throws {
        let (_, scored, classNames) = try options.score()
        try RunOutputs.writeScores(scored, classNames: classNames, to: out)
        print("\(out): \(scored.count) records")
    }
}
