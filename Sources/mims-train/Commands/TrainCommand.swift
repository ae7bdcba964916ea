import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MIMSCommandSupport
import MIMSTrain

/// `mims-train --shards DIR --pipeline FILE --out RUN`: trains, evaluates, checkpoints.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a pipeline on shards (the default command).",
        discussion: """
        Writes RUN/checkpoint.safetensors (+ checkpoint.NNNNNN.state.safetensors), RUN/metrics.jsonl, and after training \
        RUN/scores-test.csv and RUN/eval-test.json when the shards have a test split. Kill it at any \
        moment and run it again with --resume: it continues from the last checkpoint exactly. Ctrl-C \
        (or SIGTERM) stops after the current iteration with a checkpoint and prints the command to resume.

        Refused: a non-empty --out without --resume; --resume with another pipeline or other shards; \
        shards that fail mims-split check (unless --allow-leakage); a pipeline with weights: imagenet \
        and no --backbone-weights (unless --random-init).
        """)

    @OptionGroup var common: RunOptions
    @Option(help: "Iterations (default: the pipeline's).") var iterations: Int?
    @Option(help: "Seed of initialization, sampling and order.") var seed: UInt64 = 1
    @Option(help: "Comma-separated seeds: one run per seed in RUN/seed-S, then each AUROC and the mean.") var seeds: String?
    @Option(help: "ImageNet weights for the trunk: a torchvision or timm ResNet as safetensors (docs/WEIGHTS.md).") var backboneWeights: String?
    @Option(help: "Start from this checkpoint's weights (fine-tuning, e.g. Cirrus then Spectralis).") var initFrom: String?
    @Flag(help: "Train from random weights although the pipeline says weights: imagenet.") var randomInit = false
    @Flag(help: "Skip RUN/report.html (plots, heatmap gallery).") var noReport = false

    func validate() throws {
        if randomInit && backboneWeights != nil { throw ValidationError("--random-init and --backbone-weights contradict each other; give one") }
    }

    func run() throws {
        try common.runExperiment(seed: seed, seeds: try RunOptions.seedList(seeds), iterations: iterations, backboneWeights: backboneWeights,
                                 initFrom: initFrom, randomInit: randomInit, report: !noReport)
    }
}

/// The options every training command takes, and the one way they become an ``Experiment``
/// that runs with Ctrl-C handling.
struct RunOptions: ParsableArguments {
    @Option(help: "Folder of shards made by mims-ingest run (or mims-split make).") var shards: String
    @Option(help: "Pipeline YAML (see pipelines/ and docs/PIPELINES.md).") var pipeline: String
    @Option(name: .customLong("out"), help: "Run folder: new or empty (created), or the run to continue with --resume.") var runFolder: String
    @Flag(help: "Continue a stopped or killed run in --out (same pipeline and shards).") var resume = false
    @Flag(help: "Train although the shards fail mims-split check (patient overlap, duplicate images across splits, ...).") var allowLeakage = false
    @Option(help: "lesions.json of synthetic data: the report adds the heatmaps' pointing-game score.") var lesions: String?
    @Flag(help: "Plain progress lines instead of a redrawn bar.") var plain = false
    @Flag(help: "Train the head alone on trunk features computed once and cached in RUN/features-<split>.h5 (as backbone.trainable: false).") var freezeBackbone = false
    @OptionGroup var engine: EngineOptions

    /// Arguments the process was started with, for run.json and the resume hint.
    var commandLine: [String] { CommandLine.arguments }

    /// `--seeds 1,2,3` as a list; nil without the option.
    static func seedList(_ text: String?) throws -> [UInt64]? {
        try text.map { text in
            try text.split(separator: ",").map { part -> UInt64 in
                guard let value = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(part)' is not a seed") }
                return value
            }
        }
    }

    func runExperiment(seed: UInt64, seeds: [UInt64]?, iterations: Int?, backboneWeights: String?, initFrom: String?,
                       randomInit: Bool, report: Bool) throws {
        try runStoppable { stop, say in
            var experiment = Experiment(pipeline: try loadPipeline(),
                                        options: trainerOptions(seed: seed, iterations: iterations, backboneWeights: backboneWeights,
                                                                initFrom: initFrom, randomInit: randomInit, stop: stop),
                                        seeds: seeds)
            experiment.lesions = lesions
            experiment.writesReport = report
            experiment.say = say
            try experiment.run()
        }
    }

    /// The trainer's options from the command line.
    func trainerOptions(seed: UInt64, iterations: Int?, backboneWeights: String?, initFrom: String?, randomInit: Bool,
                        stop: StopRequest) -> Trainer.Options {
        var options = Trainer.Options(shards: shards, run: runFolder)
        options.seed = seed
        options.iterations = iterations
        options.backboneWeights = backboneWeights
        options.initFrom = initFrom
        options.resume = resume
        options.randomInit = randomInit
        options.allowLeakage = allowLeakage
        options.stop = stop
        options.commandLine = commandLine
        options.toolVersion = ToolVersion.current
        options.plainProgress = plain
        return options
    }

    /// The pipeline file with the engine options applied.
    func loadPipeline() throws -> Pipeline {
        var loaded = try Pipeline.load(path: pipeline)
        try engine.apply(to: &loaded)
        if freezeBackbone { loaded.trainsBackbone = false }
        return loaded
    }

    /// Runs `body` with Ctrl-C and SIGTERM turned into a checkpointed stop that prints the resume
    /// command; `say` prints a result line in order with the progress on standard error.
    func runStoppable(_ body: (StopRequest, @escaping (String) -> Void) throws -> Void) throws {
        let stop = StopRequest()
        stop.installHandlers { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        do {
            try body(stop) { line in
                print(line)
                fflush(nil)  // progress on stderr and results on stdout interleave in order
            }
        } catch let stopped as TrainingStopped {
            fflush(nil)
            print(stopped.description)
            print("resume with: " + resumeCommand())
            fflush(nil)
            throw ExitCode(128 + stopped.signal)
        }
    }

    /// The command that continues this run: the same arguments with --resume.
    func resumeCommand() -> String {
        var words = commandLine
        if !words.contains("--resume") { words.append("--resume") }
        return words.map(Trainer.shellQuoted).joined(separator: " ")
    }
}

/// `mims-train finetune`: the paper's OCT protocol, training a model that starts from another
/// run's checkpoint (Cirrus, then 200 iterations on Spectralis).
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a trained checkpoint on other shards (train with --init-from).",
        discussion: "mims-train finetune --from runs/cirrus/checkpoint.safetensors --shards spectralis/ --pipeline pipelines/spectralis-mims.yaml --out runs/spectralis")

    @Option(help: "Checkpoint to start from.") var from: String
    @OptionGroup var common: RunOptions
    @Option(help: "Seed of sampling and order.") var seed: UInt64 = 1

    func run() throws {
        try common.runExperiment(seed: seed, seeds: nil, iterations: nil, backboneWeights: nil, initFrom: from, randomInit: false, report: true)
    }
}

/// `mims-train cv`: K-fold cross-validation over the whole shard set.
struct CrossValidationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "K-fold cross-validation: folds grouped by patient and stratified by label, every fold trained and tested, pooled out-of-fold results.",
        discussion: """
        Pools every record of the shard set (all its splits) and deals the patients of each label to K \
        folds in an order fixed by --fold-seed (the rule of mims-split make --folds). RUN/folds.json \
        records {id: fold}; RUN/fold-K is an ordinary run trained on the other folds and tested on fold \
        K; RUN/scores-oof.csv and RUN/eval-oof.json hold the pooled out-of-fold predictions; the last \
        line is the pooled out-of-fold AUROC, after each fold's and their mean ± sd. --resume continues \
        the folds of a stopped cross-validation (the folds must come out the same). --seeds trains every \
        fold once per seed and pools each seed on its own (RUN/seed-S), then gives their mean ± sd.
        """)

    @OptionGroup var common: RunOptions
    @Option(help: "Number of folds (at least 2, at most the patients of the rarest class).") var folds: Int
    @Option(help: "Iterations per fold (default: the pipeline's).") var iterations: Int?
    @Option(help: "Seed of initialization, sampling and order (every fold).") var seed: UInt64 = 1
    @Option(help: "Comma-separated seeds: every fold trained once per seed (RUN/fold-K/seed-S), each seed's pooled out-of-fold results in RUN/seed-S, then their mean ± sd.") var seeds: String?
    @Option(help: "Seed of the fold assignment.") var foldSeed: UInt64 = 1
    @Flag(help: "Also hold out fold (K + 1) mod folds of fold K's run as its val split (for training.select: best-val and patience).") var valFold = false
    @Option(help: "ImageNet weights for the trunk (docs/WEIGHTS.md).") var backboneWeights: String?
    @Flag(help: "Train from random weights although the pipeline says weights: imagenet.") var randomInit = false
    @Flag(help: "Skip RUN/report.html.") var noReport = false

    func validate() throws {
        if folds < 2 { throw ValidationError("--folds must be at least 2") }
        if randomInit && backboneWeights != nil { throw ValidationError("--random-init and --backbone-weights contradict each other; give one") }
    }

    func run() throws {
        try common.runStoppable { stop, say in
            var cv = CrossValidation(pipeline: try common.loadPipeline(),
                                     options: common.trainerOptions(seed: seed, iterations: iterations, backboneWeights: backboneWeights,
                                                                    initFrom: nil, randomInit: randomInit, stop: stop),
                                     folds: folds, foldSeed: foldSeed)
            cv.writesReport = !noReport
            cv.seeds = try RunOptions.seedList(seeds)
            cv.valFold = valFold
            cv.say = say
            try cv.run()
        }
    }
}
