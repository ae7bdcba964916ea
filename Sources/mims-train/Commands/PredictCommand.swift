import ArgumentParser
import Foundation
import MIMSIngest
import MIMSShards
import MIMSTrain

/// `mims-train predict`: scores a split of a shard set, or vendor files and image folders directly.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Write one row per record: id, patient, label, score (and p_<class> per class with more than two classes).",
        discussion: """
        With --shards, every record of --split (all: every split) is scored; unlabelled records \
        (labels: none) have an empty label. With --files, each file, slice folder or export folder \
        is made into frames exactly as the model's training data was (the reader, slice selection, \
        intensity mapping, resize and channels its shards recorded) and scored without making \
        shards. For 2D models a folder stands for every image below it; for volumes a folder is a \
        slice folder, or stands for every export below it that the reader recognises (files left \
        out are named). The id is the path as \
        given; patient and label are empty. A file that cannot be read is named on standard error, \
        the others are still scored, and the exit status is 1.
        """)

    @Option(help: "Folder of shards (or give --files).") var shards: String?
    @Option(help: "A checkpoint written by mims-train (RUN/checkpoint.safetensors).") var checkpoint: String
    @Option(help: "Which split of --shards to score: train, val, test, or all.") var split = "test"
    @Option(parsing: .upToNextOption, help: "Vendor files, image files or folders to score instead of shards.") var files: [String] = []
    @Option(help: "CSV file to write.") var out: String
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if shards == nil && files.isEmpty { throw ValidationError("give --shards DIR, or --files PATH... to score files directly") }
        if shards != nil && !files.isEmpty { throw ValidationError("give either --shards or --files, not both") }
    }

    func run() throws {
        if let shards {
            let (_, scored, classNames) = try CheckpointOptions.score(checkpoint: checkpoint, shards: shards, split: split, engine: engine)
            try RunOutputs.writeScores(scored, classNames: classNames, to: out)
            print("\(out): \(scored.count) records")
            return
        }
        try scoreFiles()
    }

    func scoreFiles() throws {
        let model = try LoadedModel.load(checkpoint: checkpoint, engine: engine)
        guard let recipe = model.trainedOn?.frameRecipe else {
            throw TrainingError.checkpoint(path: checkpoint, reason: "does not record how its training frames were made (its shards predate the frame recipe); ingest the files with the training manifest's normalize section and labels: none, then predict --shards")
        }
        let maker = try FrameMaker(recipe: recipe)
        let (paths, notes) = try maker.expand(files)
        for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let evaluator = Evaluator(network: model.network, store: model.store)
        var scored: [Evaluator.Scored] = []
        var failed: [String] = []
        for (index, path) in paths.enumerated() {
            do {
                let made = try maker.make(path: path)
                for warning in made.warnings { FileHandle.standardError.write(Data("warning: \(path): \(warning)\n".utf8)) }
                let probabilities = evaluator.probabilities(frames: made.pixels, frameCount: made.frameCount, shape: made.frameShape,
                                                            sampler: model.pipeline.sampler)
                scored.append(Evaluator.Scored(record: index, id: path, patient: "", label: Int(ShardSchema.unlabelled), probabilities: probabilities))
            } catch let failure as FrameMaker.Failure {
                FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
                failed.append(path)
            }
        }
        try RunOutputs.writeScores(scored, classNames: model.trainedOn?.classNames ?? [], to: out)
        print("\(out): \(scored.count) records (frames made as the training data's: \(recipe.description))")
        if !failed.isEmpty {
            throw PredictFailure(scored: scored.count, failed: failed.count, out: out)
        }
    }
}

/// Some files given to `predict --files` could not be read (each was named as it failed).
struct PredictFailure: Error, CustomStringConvertible {
    var scored: Int
    var failed: Int
    var out: String
    var description: String {
        "\(failed) of \(scored + failed) files could not be scored (named above); \(out) holds the other \(scored)"
    }
}
