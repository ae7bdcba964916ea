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

    @Option(help: "Folder of shards made by mims-ingest run (or mims-split make).") var shards: String
    @Option(help: "Pipeline YAML (see pipelines/ and docs/PIPELINES.md).") var pipeline: String
    @Option(name: .customLong("out"), help: "Run folder: new or empty (created), or the run to continue with --resume.") var runFolder: String
    @Option(help: "Iterations (default: the pipeline's).") var iterations: Int?
    @Option(help: "Seed of initialization, sampling and order.") var seed: UInt64 = 1
    @Option(help: "Comma-separated seeds: one run per seed in RUN/seed-S, then each AUROC and the mean.") var seeds: String?
    @Option(help: "ImageNet weights for the trunk: a torchvision or timm ResNet as safetensors (docs/WEIGHTS.md).") var backboneWeights: String?
    @Option(help: "Start from this checkpoint's weights (fine-tuning, e.g. Cirrus then Spectralis).") var initFrom: String?
    @Flag(help: "Continue a killed run from RUN/checkpoint.safetensors (same pipeline and shards).") var resume = false
    @Flag(help: "Train from random weights although the pipeline says weights: imagenet.") var randomInit = false
    @Flag(help: "Train although the shards fail mims-split check (patient overlap, duplicate images across splits, ...).") var allowLeakage = false
    @Option(help: "lesions.json of synthetic data: the report adds the heatmaps' pointing-game score.") var lesions: String?
    @Flag(help: "Skip RUN/report.html (plots, heatmap gallery).") var noReport = false
    @Flag(help: "Plain progress lines instead of a redrawn bar.") var plain = false

    func validate() throws {
        if randomInit && backboneWeights != nil { throw ValidationError("--random-init and --backbone-weights contradict each other; give one") }
    }

    /// Arguments the process was started with (also for finetune), for run.json and the resume hint.
    var commandLine: [String] { CommandLine.arguments }

    func run() throws {
        let stop = StopRequest()
        stop.installHandlers { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        do {
            try train(stop: stop)
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

    func train(stop: StopRequest) throws {
        let pipeline = try Pipeline.load(path: self.pipeline)
        // The report reads it after training: a wrong path must not cost the run.
        if let lesions { _ = try PointingGame(lesionsFile: lesions) }
        let seedList = try seeds.map { text in
            try text.split(separator: ",").map { part -> UInt64 in
                guard let value = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(part)' is not a seed") }
                return value
            }
        } ?? [seed]
        var results: [(UInt64, Double?)] = []
        var reportRuns: [RunReport.Run] = []
        var firstTrainer: Trainer?
        // Each seed's folder is checked by its trainer; the parent holds them and the report.
        if seeds != nil { try Trainer.checkRunFolder(runFolder, resume: resume) }
        for seed in seedList {
            var options = Trainer.Options(shards: shards, run: seeds == nil ? runFolder : runFolder + "/seed-\(seed)")
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
            let trainer = try Trainer(pipeline: pipeline, options: options)
            Self.say("training \(pipeline.name) (\(pipeline.variant.rawValue), ResNet-\(trainer.network.trunk.depth.rawValue)) on \(shards), seed \(seed), \(trainer.iterations) iterations -> \(options.run)")
            let last = try trainer.run()
            if let signal = stop.signal {
                // Training is complete and checkpointed; the test scores and the report wait for a --resume.
                throw TrainingStopped(signal: signal, iteration: trainer.iterations, iterations: trainer.iterations,
                                      checkpoint: trainer.checkpointPath, checkpointIteration: trainer.iterations)
            }
            if let last {
                print(String(format: "%@ AUROC after %d iterations: %@ (accuracy %.3f)", last.split, last.iteration, Self.format(last.auroc), last.accuracy))
            }
            // The last periodic evaluation already scored the test split at the final iteration.
            let test = last.map { $0.split == "test" && $0.iteration == trainer.iterations } == true
                ? try RunOutputs.write(last!, run: options.run) : try RunOutputs.evaluateAndWrite(trainer: trainer, split: "test")
            if let test { print("test AUROC: \(Self.format(test.auroc))") }
            results.append((seed, test?.auroc ?? last?.auroc))
            reportRuns.append(RunReport.Run(name: seeds == nil ? pipeline.name : "seed \(seed)", folder: options.run, test: test ?? last))
            if firstTrainer == nil { firstTrainer = trainer }
        }
        if !noReport, let first = firstTrainer {
            var report = RunReport(folder: runFolder, pipeline: pipeline, shards: shards, runs: reportRuns, network: first.network, store: first.store)
            report.lesions = lesions
            report.provenance = (try? RunRecord.read(folder: first.options.run))?.fields ?? [:]
            Self.say("report: \(try report.write())")
        }
        if seedList.count > 1 {
            for (seed, auroc) in results { print("seed \(seed): AUROC \(Self.format(auroc))") }
            let values = results.compactMap(\.1)
            if !values.isEmpty { print("mean AUROC over \(values.count) seeds: \(Self.format(values.reduce(0, +) / Double(values.count)))") }
        }
    }

    /// Prints and flushes, so progress on stderr and results on stdout interleave in order.
    static func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a (one class only)" }
}

/// `mims-train finetune`: the paper's OCT protocol, training a model that starts from another
/// run's checkpoint (Cirrus, then 200 iterations on Spectralis).
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a trained checkpoint on other shards (train with --init-from).",
        discussion: "mims-train finetune --from runs/cirrus/checkpoint.safetensors --shards spectralis/ --pipeline pipelines/spectralis-mims.yaml --out runs/spectralis")

    @Option(help: "Checkpoint to start from.") var from: String
    @Option(help: "Folder of shards to fine-tune and test on.") var shards: String
    @Option(help: "Pipeline of the fine-tuning (its iterations, e.g. 200).") var pipeline: String
    @Option(help: "Run folder: new or empty (created), or the run to continue with --resume.") var out: String
    @Option(help: "Seed of sampling and order.") var seed: UInt64 = 1
    @Option(help: "lesions.json for the report's pointing game.") var lesions: String?
    @Flag(help: "Continue a stopped fine-tuning run in --out.") var resume = false
    @Flag(help: "Train although the shards fail mims-split check.") var allowLeakage = false
    @Flag(help: "Plain progress lines.") var plain = false

    func run() throws {
        var train = try TrainCommand.parse(["--shards", shards, "--pipeline", pipeline, "--out", out, "--seed", String(seed), "--init-from", from]
                                           + (lesions.map { ["--lesions", $0] } ?? []) + (plain ? ["--plain"] : [])
                                           + (resume ? ["--resume"] : []) + (allowLeakage ? ["--allow-leakage"] : []))
        try train.run()
    }
}
