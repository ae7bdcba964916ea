import Foundation

/// One pipeline trained on one shard set for one or more seeds: a run per seed (the run folder
/// itself, or `RUN/seed-S` for several), its test evaluation, and one report over all of them.
/// What `mims-train` and `mims-train finetune` do, as a library.
public struct Experiment {
    public var pipeline: Pipeline
    /// The settings every seed's run shares; `run` is the experiment's folder.
    public var options: Trainer.Options
    /// One run per seed in `RUN/seed-S`; nil for a single run in `RUN` with `options.seed`.
    public var seeds: [UInt64]?
    /// lesions.json of synthetic data, for the report's pointing game.
    public var lesions: String?
    public var writesReport = true
    /// Where the experiment's lines go (progress goes to the trainer's log).
    public var say: (String) -> Void = { print($0) }

    public struct SeedResult {
        public var seed: UInt64
        /// The test split's evaluation, when the shards have one; else the last periodic one.
        public var evaluation: Trainer.Evaluation?
        public var auroc: Double? { evaluation?.auroc }
        /// The seed's trainer, holding its final model.
        public var trainer: Trainer?
    }

    public init(pipeline: Pipeline, options: Trainer.Options, seeds: [UInt64]? = nil) {
        self.pipeline = pipeline
        self.options = options
        self.seeds = seeds
    }

    /// Trains every seed in turn. A stop request (Ctrl-C) ends it with ``TrainingStopped``.
    @discardableResult
    public func run() throws -> [SeedResult] {
        if let lesions { _ = try PointingGame(lesionsFile: lesions) }  // a wrong path must not cost the runs
        // Each seed's folder is checked by its trainer; the parent holds them and the report.
        if seeds != nil { try Trainer.checkRunFolder(options.run, resume: options.resume) }
        var results: [SeedResult] = []
        var reportRuns: [RunReport.Run] = []
        var first: Trainer?
        for seed in seeds ?? [options.seed] {
            var options = self.options
            options.seed = seed
            if seeds != nil { options.run = self.options.run + "/seed-\(seed)" }
            let trainer = try Trainer(pipeline: pipeline, options: options)
            say("training \(pipeline.name) (\(pipeline.variant.rawValue), ResNet-\(trainer.network.trunk.depth.rawValue)) on \(options.shards), seed \(seed), \(trainer.iterations) iterations -> \(options.run)")
            let last = try trainer.run()
            if let signal = options.stop?.signal {
                // Training is complete and checkpointed; the test scores and the report wait for a --resume.
                throw TrainingStopped(signal: signal, iteration: trainer.iterations, iterations: trainer.iterations,
                                      checkpoint: trainer.checkpointPath, checkpointIteration: trainer.iterations)
            }
            if let last {
                say(String(format: "%@ %@ after %d iterations: %@ (accuracy %.3f)", last.split, last.aurocName, last.iteration, Self.format(last.auroc), last.accuracy))
            }
            // The last periodic evaluation already scored the test split at the final iteration.
            var test: Trainer.Evaluation?
            if try trainer.selectBestWeights(), let best = trainer.best {
                say(String(format: "selected iteration %d (best val %@ %.3f) -> %@", best.iteration, last?.aurocName ?? "AUROC", best.auroc, trainer.bestPath))
                test = try RunOutputs.evaluateAndWrite(trainer: trainer, split: "test", iteration: best.iteration)
            } else if last.map({ $0.split == "test" && $0.iteration == trainer.iterations }) == true {
                test = try RunOutputs.write(last!, classNames: trainer.signature.classNames, run: options.run)
            } else {
                test = try RunOutputs.evaluateAndWrite(trainer: trainer, split: "test")
            }
            if let test {
                if let patients = test.patients { say("patient-level \(test.aurocName): \(Self.format(patients.auroc))") }
                say("test \(test.aurocName): \(Self.format(test.auroc))")
            }
            results.append(SeedResult(seed: seed, evaluation: test ?? last, trainer: trainer))
            reportRuns.append(RunReport.Run(name: seeds == nil ? pipeline.name : "seed \(seed)", folder: options.run, test: test ?? last))
            if first == nil { first = trainer }
        }
        if writesReport, let first {
            var report = RunReport(folder: options.run, pipeline: pipeline, shards: options.shards, runs: reportRuns, network: first.network, store: first.store)
            report.lesions = lesions
            report.provenance = (try? RunRecord.read(folder: first.options.run))?.fields ?? [:]
            say("report: \(try report.write())")
        }
        if results.count > 1 {
            for result in results { say("seed \(result.seed): AUROC \(Self.format(result.auroc))") }
            let values = results.compactMap(\.auroc)
            if !values.isEmpty { say("mean AUROC over \(values.count) seeds: \(Self.format(values.reduce(0, +) / Double(values.count)))") }
        }
        return results
    }

    /// An AUROC as printed: three decimals, or why there is none.
    public static func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a (one class only)" }
}
