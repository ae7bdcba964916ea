import Foundation
import MIMSCore
import MIMSShards
import MIMSSplit

/// The records a cross-validation fold trains and tests on (ids of the whole shard set).
public struct FoldSelection: Sendable, Equatable {
    public var index: Int
    public var train: Set<String>
    public var test: Set<String>
    /// Records the fold's run evaluates on as its val split (`cv --val-fold`); empty without one.
    public var val: Set<String> = []
}

/// K-fold cross-validation over every record of a shard set (all its splits pooled): folds grouped
/// by patient and stratified by label (``KFoldAssignment``, the rule of `mims-split make --folds`),
/// one run per fold in `RUN/fold-K` tested on its held-out fold, the pooled out-of-fold predictions
/// in `RUN/scores-oof.csv` and `RUN/eval-oof.json`, the folds in `RUN/folds.json` ({id: fold}), and
/// one report.
public struct CrossValidation {
    public var pipeline: Pipeline
    /// Settings every fold's run shares; `run` is the cross-validation's folder.
    public var options: Trainer.Options
    public var folds: Int
    /// Seed of the fold assignment (independent of the training seed).
    public var foldSeed: UInt64
    /// Training seeds: every fold is trained once per seed (`RUN/fold-K/seed-S`), and each seed's
    /// out-of-fold predictions pool into `RUN/seed-S`; nil trains each fold once with `options.seed`.
    public var seeds: [UInt64]?
    /// Fold I's run also holds out fold (I + 1) mod K as its val split (for `select: best-val`
    /// and `patience`), training on the other K - 2 folds.
    public var valFold = false
    public var writesReport = true
    public var say: (String) -> Void = { print($0) }

    public static let foldsFile = "folds.json"

    public struct Result {
        /// The folds' test evaluations (of the first seed, with several).
        public var folds: [Trainer.Evaluation]
        /// The pooled out-of-fold evaluation (of the first seed, with several).
        public var pooled: Trainer.Evaluation
        /// Mean and sd of the folds' AUROCs (first seed), or with several seeds of the seeds' pooled AUROCs.
        public var mean: Double?
        public var sd: Double?
        /// Per seed, its pooled out-of-fold evaluation (one entry without `seeds`).
        public var pooledPerSeed: [(seed: UInt64, pooled: Trainer.Evaluation)] = []
    }


    public init(pipeline: Pipeline, options: Trainer.Options, folds: Int, foldSeed: UInt64) {
        self.pipeline = pipeline
        self.options = options
        self.folds = folds
        self.foldSeed = foldSeed
    }

    /// Record id -> fold for the whole shard set; refuses more folds than some class has patients.
    public func assignment() throws -> [String: Int] {
        let all = try ShardDataset(folder: options.shards, splits: ShardSchema.splits, name: "all") { _ in true }
        if all.isUnlabelled { throw TrainingError.unlabelled(folder: options.shards, command: "cross-validate on") }
        let records = all.records.map { (id: $0.info.id, patient: $0.info.patient, label: Int($0.info.label)) }
        var patientsPerLabel: [Int: Set<String>] = [:]
        for r in records { patientsPerLabel[r.label, default: []].insert(KFoldAssignment.patientKey(id: r.id, patient: r.patient)) }
        if let (label, patients) = patientsPerLabel.min(by: { $0.value.count < $1.value.count }), patients.count < folds {
            throw TrainingError.crossValidation(folder: options.shards, reason: "label \(label) has \(patients.count) patient(s), fewer than the \(folds) folds asked for")
        }
        return KFoldAssignment.folds(records, folds: folds, seed: foldSeed)
    }

    @discardableResult
    public func run() throws -> Result {
        guard folds >= 2 else { throw TrainingError.crossValidation(folder: options.run, reason: "--folds must be at least 2") }
        guard !valFold || folds >= 3 else {
            throw TrainingError.crossValidation(folder: options.run, reason: "--val-fold needs at least 3 folds (one to test, one for val, the rest to train on)")
        }
        try Trainer.checkRunFolder(options.run, resume: options.resume)
        let assignment = try assignment()
        let foldsPath = options.run + "/" + Self.foldsFile
        let text = JSONText.object(assignment.mapValues(String.init), multiline: true) + "\n"
        if options.resume, let earlier = FileManager.default.contents(atPath: foldsPath), earlier != Data(text.utf8) {
            throw TrainingError.resumeMismatch(run: options.run, reason: "\(foldsPath) holds other folds than --folds \(folds) --fold-seed \(foldSeed) give on these shards")
        }
        try FileDurability.makeDirectory(options.run)
        try AtomicFile.write(Data(text.utf8), to: foldsPath)

        let seedList = seeds ?? [options.seed]
        // evaluations[s][k]: seed s's test evaluation of fold k.
        var evaluations: [[Trainer.Evaluation]] = Array(repeating: [], count: seedList.count)
        var reportRuns: [RunReport.Run] = []
        var first: Trainer?
        for index in 0..<folds {
            var options = self.options
            options.run = self.options.run + "/fold-\(index)"
            options.resume = self.options.resume && FileManager.default.fileExists(atPath: options.run)
            let valIndex = valFold ? (index + 1) % folds : nil
            options.fold = FoldSelection(index: index, train: Set(assignment.filter { $0.value != index && $0.value != valIndex }.keys),
                                         test: Set(assignment.filter { $0.value == index }.keys),
                                         val: Set(assignment.filter { $0.value == valIndex }.keys))
            var experiment = Experiment(pipeline: pipeline, options: options, seeds: seeds)
            experiment.writesReport = false
            experiment.say = say
            let valNote = valIndex.map { ", \(options.fold!.val.count) for val (fold \($0))" } ?? ""
            say("fold \(index + 1) of \(folds): \(options.fold!.train.count) records to train on\(valNote), \(options.fold!.test.count) held out")
            let results = try experiment.run()
            for (s, seedResult) in results.enumerated() {
                guard let result = seedResult.evaluation else {
                    throw TrainingError.crossValidation(folder: options.run, reason: "fold \(index) (seed \(seedResult.seed)) produced no test evaluation")
                }
                evaluations[s].append(result)
                if seeds == nil { reportRuns.append(RunReport.Run(name: "fold \(index)", folder: options.run, test: result)) }
            }
            if first == nil { first = results.first?.trainer }
        }
        let classNames = first?.signature.classNames ?? []
        var pooledPerSeed: [(seed: UInt64, pooled: Trainer.Evaluation)] = []
        for (s, seed) in seedList.enumerated() {
            let pooled = Trainer.Evaluation(split: "oof", iteration: evaluations[s].map(\.iteration).max() ?? 0, scored: evaluations[s].flatMap(\.scored))
            let folder = seeds == nil ? options.run : options.run + "/seed-\(seed)"
            try FileDurability.makeDirectory(folder)
            try RunOutputs.write(pooled, classNames: classNames, run: folder)
            pooledPerSeed.append((seed, pooled))
            if seeds != nil { reportRuns.append(RunReport.Run(name: "seed \(seed), pooled out-of-fold", folder: folder, test: pooled)) }
        }
        let pooled = pooledPerSeed[0].pooled
        let (mean, sd) = seeds == nil ? Metrics.meanAndSD(evaluations[0].compactMap(\.auroc)) : Metrics.meanAndSD(pooledPerSeed.compactMap(\.pooled.auroc))
        if writesReport, let first {
            var report = RunReport(folder: options.run, pipeline: pipeline, shards: options.shards,
                                   runs: seeds == nil ? reportRuns + [RunReport.Run(name: "pooled out-of-fold", folder: options.run, test: pooled, inSummary: false)] : reportRuns,
                                   network: first.network, store: first.store)
            if seeds == nil { report.summaryUnit = "folds" }
            report.heatmaps = false
            report.provenance = (try? RunRecord.read(folder: first.options.run))?.fields ?? [:]
            say("report: \(try report.write())")
        }
        func sdText(_ sd: Double?) -> String { sd.map { String(format: "%.3f", $0) } ?? "n/a" }
        if seeds == nil {
            for (index, evaluation) in evaluations[0].enumerated() {
                say("fold \(index): test \(evaluation.aurocName) \(Experiment.format(evaluation.auroc)) (\(evaluation.scored.count) records)")
            }
            if let mean { say("mean ± sd over \(evaluations[0].count) folds: \(Experiment.format(mean)) ± \(sdText(sd))") }
            if let patients = pooled.patients { say("patient-level out-of-fold \(pooled.aurocName): \(Experiment.format(patients.auroc))") }
            say("out-of-fold \(pooled.aurocName) (pooled, \(pooled.scored.count) records): \(Experiment.format(pooled.auroc))")
        } else {
            for (seed, pooled) in pooledPerSeed {
                let folds = evaluations[seedList.firstIndex(of: seed)!].compactMap(\.auroc)
                let (foldMean, foldSD) = Metrics.meanAndSD(folds)
                say("seed \(seed): out-of-fold \(pooled.aurocName) (pooled) \(Experiment.format(pooled.auroc)); folds \(Experiment.format(foldMean)) ± \(sdText(foldSD))")
            }
            let patientValues = pooledPerSeed.compactMap { $0.pooled.patients?.auroc }
            if let patientMean = Metrics.meanAndSD(patientValues).mean {
                say("patient-level out-of-fold \(pooled.aurocName) (mean over \(patientValues.count) seeds): \(Experiment.format(patientMean))")
            }
            say("out-of-fold \(pooled.aurocName) (pooled, \(pooled.scored.count) records, mean ± sd over \(seedList.count) seeds): \(Experiment.format(mean)) ± \(sdText(sd))")
        }
        return Result(folds: evaluations[0], pooled: pooled, mean: mean, sd: sd, pooledPerSeed: pooledPerSeed)
    }
}
