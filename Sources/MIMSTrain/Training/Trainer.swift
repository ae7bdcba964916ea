import Foundation
import MIMSCore
import MIMSShards
import MIMSSplit
import MIMSTensor
#if canImport(Glibc)
import Glibc
#endif

/// The training loop of `mims-train`: bags from the shards (prefetched), forward, loss, backward,
/// SGD/Adam update, JSON-lines metrics, periodic evaluation and checkpoints, exact resume.
public final class Trainer {
    public struct Options {
        public var shards: String
        public var run: String
        public var seed: UInt64 = 1
        public var iterations: Int?
        public var backboneWeights: String?
        public var initFrom: String?
        public var resume = false
        /// Train from random weights although the pipeline says `weights: imagenet`.
        public var randomInit = false
        /// Train on shards that fail `mims-split check`.
        public var allowLeakage = false
        /// Checked between iterations; a set request stops the run with a checkpoint.
        public var stop: StopRequest?
        /// The command line and tool version, recorded in run.json.
        public var commandLine: [String] = []
        public var toolVersion = ""
        /// Print progress lines instead of a redrawn bar.
        public var plainProgress = false
        /// Train and test on these records of the whole shard set (any split) instead of its train
        /// and evaluation splits: a cross-validation fold.
        public var fold: FoldSelection?

        public init(shards: String, run: String) {
            self.shards = shards
            self.run = run
        }
    }

    public let pipeline: Pipeline
    public let network: Network
    public let options: Options
    public let store = ParameterStore()
    public private(set) var optimizer: Optimizer
    let train: ShardDataset
    let evaluation: ShardDataset?
    /// A cross-validation fold's held-out records (its test split); nil outside folds.
    let heldOut: ShardDataset?
    /// A fold's val records (`cv --val-fold`), built once; nil outside folds and without a val fold.
    let foldValidation: ShardDataset?
    var startIteration = 0
    /// Iteration of the checkpoint on disk, nil before the first.
    var checkpointIteration: Int?
    /// Provenance and identity written into every checkpoint's metadata.
    public private(set) var provenance: [String: String] = [:]
    /// The train shards' signature (kind, channels, classes, input size).
    public let signature: DatasetSignature
    public var log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
    /// Lines printed while the run was prepared (e.g. that a checkpoint moves to another dataset).
    public private(set) var notes: [String] = []

    public var iterations: Int { options.iterations ?? pipeline.iterations }
    public var checkpointPath: String { options.run + "/checkpoint.safetensors" }
    /// The weights of the best periodic val evaluation (`training.select: best-val`).
    public var bestPath: String { options.run + "/best.safetensors" }
    /// The best val evaluation so far (`select: best-val`): its iteration and AUROC.
    public private(set) var best: (iteration: Int, auroc: Double)?
    /// Val evaluations since the best one (`training.patience` counts them).
    var evaluationsSinceBest = 0
    /// The iteration training stopped at because `training.patience` ran out; nil otherwise.
    public private(set) var stoppedEarly: Int?
    /// A frozen trunk's cached features by split name (`backbone.trainable: false`).
    var featureCaches: [String: FeatureCache] = [:]
    /// What those caches share (the frozen trunk's weights hashed once per run).
    var featureTrunk: FeatureCache.TrunkIdentity?

    /// Checks everything a run needs before any training starts: shards of the right kind for the
    /// model, at least two classes present and every label one of the shard set's classes,
    /// weights that fit.
    public init(pipeline: Pipeline, options: Options) throws {
        self.pipeline = pipeline
        self.options = options
        try Self.checkRunFolder(options.run, resume: options.resume)
        if pipeline.weights == "imagenet" && options.backboneWeights == nil && options.initFrom == nil && !options.randomInit
            && !(options.resume && FileManager.default.fileExists(atPath: options.run + "/checkpoint.safetensors")) {
            throw TrainingError.noBackboneWeights(pipeline: pipeline.name, depth: pipeline.depth.rawValue)
        }
        if let fold = options.fold {
            train = try ShardDataset(folder: options.shards, splits: ShardSchema.splits, name: "train") { fold.train.contains($0.id) }
        } else {
            do {
                train = try ShardDataset(folder: options.shards, split: "train")
            } catch TrainingError.noShards where ShardDataset.isUnlabelledSet(options.shards) {
                throw TrainingError.unlabelled(folder: options.shards, command: "train on")
            }
        }
        signature = DatasetSignature(train, pipeline: pipeline)
        network = Network(pipeline, classes: signature.classCount)
        if pipeline.variant.spec.needsVolumes && train.kind != .volume3d {
            throw TrainingError.wrongKind(pipeline: pipeline.name, reason: "model \(pipeline.variant.rawValue) needs volume3d shards; \(options.shards) holds \(train.kind.rawValue)")
        }
        let labels = Set(train.labels)
        guard labels.count >= 2 else { throw TrainingError.singleClass(folder: options.shards, split: "train", label: labels.first ?? 0) }
        let classes = signature.classCount
        if let bad = train.labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw TrainingError.inconsistentShards(path: options.shards, reason: bad < 0
                ? "label \(bad) found in the train split: unlabelled records cannot be trained on"
                : "label \(bad) found; the shard set names \(classes) classes (0 to \(classes - 1))")
        }
        if classes > 2 && pipeline.aggregation == .maxInstance {
            throw TrainingError.wrongKind(pipeline: pipeline.name, reason: "aggregation max-inst scores the class-1 probability and needs two classes; \(options.shards) has \(classes)")
        }
        if !options.allowLeakage {
            // The same decision as `mims-split check`, from the same report.
            let problems = try SplitReport.build(directory: options.shards, hashFiles: false).problems
            if !problems.isEmpty { throw TrainingError.splitProblems(folder: options.shards, problems: problems) }
        }
        let hasVal = options.fold.map { !$0.val.isEmpty } ?? !((try? ShardSet(directory: options.shards).shardNames(split: "val")) ?? []).isEmpty
        if pipeline.selectsBestValidation && !hasVal {
            throw TrainingError.wrongKind(pipeline: pipeline.name, reason: options.fold != nil
                ? "training.select: best-val needs a val split inside each fold (mims-train cv --val-fold)"
                : "training.select: best-val needs a val split; \(options.shards) has none (re-split with mims-split make --val F)")
        }
        if let fold = options.fold {
            // The held-out fold is the test split; the periodic evaluations use it too unless the
            // fold has a val share and the pipeline evaluates on val.
            let test = try ShardDataset(folder: options.shards, splits: ShardSchema.splits, name: "test") { fold.test.contains($0.id) }
            let val = fold.val.isEmpty ? nil : try ShardDataset(folder: options.shards, splits: ShardSchema.splits, name: "val") { fold.val.contains($0.id) }
            heldOut = test
            foldValidation = val
            evaluation = pipeline.evalSplit == "val" ? val ?? test : test
        } else if let asked = try? ShardDataset(folder: options.shards, split: pipeline.evalSplit) {
            heldOut = nil
            foldValidation = nil
            evaluation = asked
        } else {
            heldOut = nil
            foldValidation = nil
            evaluation = try? ShardDataset(folder: options.shards, split: "test")
            notes.append("note: the shards have no \(pipeline.evalSplit) split (training.eval_split); evaluating on "
                         + (evaluation == nil ? "nothing during training" : "test during training"))
            log(notes.last!)
        }
        if train.kind == .image2d && !pipeline.volumeKeys.isEmpty {
            notes.append("note: training.\(pipeline.volumeKeys.joined(separator: " and training.")) had no effect: these shards hold 2D images, not volumes")
            log(notes.last!)
        }
        optimizer = Optimizer(pipeline.optimizer == .sgd ? .sgd(momentum: pipeline.momentum) : .adam(),
                              groups: [ParameterGroup(prefix: "backbone.", learningRate: pipeline.backboneLearningRate),
                                       ParameterGroup(prefix: "head.", learningRate: pipeline.learningRate)],
                              weightDecay: pipeline.weightDecay)
        try prepareParameters()
    }

    /// The first eval line of `split` with the highest AUROC in a metrics file, and how many
    /// evaluations of `split` came after it without beating it (what `patience` counts).
    static func bestEvaluation(metrics path: String, split: String) -> (best: (iteration: Int, auroc: Double)?, since: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return (nil, 0) }
        var best: (iteration: Int, auroc: Double)?
        var since = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["type"] as? String == "eval",
                  object["split"] as? String == split, let iteration = object["iteration"] as? Int else { continue }
            if let auroc = object["auroc"] as? Double, !auroc.isNaN, auroc > best?.auroc ?? -1 {
                best = (iteration, auroc)
                since = 0
            } else {
                since += 1
            }
        }
        return (best, since)
    }

    /// Whether `training.patience` val evaluations in a row have not improved on the best.
    var patienceRunOut: Bool { pipeline.patience.map { evaluationsSinceBest >= $0 } ?? false }

    /// Loads the best val evaluation's weights (`select: best-val`) for the test scores and the
    /// report; false when no val evaluation had an AUROC (the last weights stay).
    public func selectBestWeights() throws -> Bool {
        guard pipeline.selectsBestValidation, best != nil, FileManager.default.fileExists(atPath: bestPath) else { return false }
        try Checkpoint.restore(try Checkpoint.read(bestPath), path: bestPath, network: network, into: store)
        return true
    }

    /// The records the run calls `split`: the shard set's split, or in a fold its held-out
    /// records as "test"; nil when there are none.
    public func dataset(split: String) -> ShardDataset? {
        if options.fold != nil {
            switch split {
            case "test": return heldOut
            case "train": return train
            case "val": return foldValidation
            default: return nil
            }
        }
        if split == evaluation?.split { return evaluation }
        return try? ShardDataset(folder: options.shards, split: split)
    }

    /// `--out` must be a folder (made if missing), and empty unless the run is resumed.
    public static func checkRunFolder(_ run: String, resume: Bool) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else { throw TrainingError.runFolder(path: run, reason: "is a file; --out wants a run folder (created when missing)") }
        guard !resume else { return }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: run)) ?? []).sorted()
        if !entries.isEmpty {
            let shown = entries.prefix(3).joined(separator: ", ") + (entries.count > 3 ? ", ..." : "")
            throw TrainingError.runFolder(path: run, reason: "already holds files (\(shown)); use --resume to continue the run in it, or give an empty folder for a new run")
        }
    }

    private func prepareParameters() throws {
        do {
            try FileDurability.makeDirectory(options.run)
        } catch {
            throw TrainingError.runFolder(path: options.run, reason: "cannot create the run folder (\(ReadableError.describe(error)))")
        }
        options.stop?.watch(options.run)
        let shardSet = ShardSetIdentity.of(folder: options.shards)
        let recorded = try RunRecord.read(folder: options.run)
        if options.resume, let recorded {
            try RunRecord.checkResume(recorded: recorded.fields, pipeline: pipeline, shardSet: shardSet, shards: options.shards, run: options.run)
        }
        if options.resume, FileManager.default.fileExists(atPath: checkpointPath) {
            let loaded = try Checkpoint.read(checkpointPath)
            try RunRecord.checkResume(recorded: loaded.metadata, pipeline: pipeline, shardSet: shardSet, shards: options.shards, run: options.run)
            try Checkpoint.restore(loaded, path: checkpointPath, network: network, into: store)
            let statePath = try Checkpoint.statePath(of: checkpointPath, loaded: loaded)
            let state = try SafeTensorsFile(path: statePath)
            guard state.metadata["iteration"] == String(loaded.iteration) else {
                throw TrainingError.checkpoint(path: statePath, reason: "holds iteration \(state.metadata["iteration"] ?? "?"), the checkpoint \(loaded.iteration)")
            }
            var tensors: [String: Tensor] = [:]
            for name in state.entries.keys { tensors[name] = try state.tensor(name) }
            optimizer.restore(tensors, step: Int(state.metadata["step"] ?? "0") ?? 0)
            startIteration = loaded.iteration
            checkpointIteration = loaded.iteration
            // What the run started from stays as recorded; this invocation may not repeat it.
            provenance = Self.identity(pipeline: pipeline, shardSet: shardSet, signature: signature, options: options)
            for key in Self.startKeys { provenance[key] = loaded.metadata[key] }
            log("resuming \(options.run) at iteration \(startIteration)")
            if recorded == nil { try runRecord().write(folder: options.run) }
            return
        }
        network.initialize(store, seed: options.seed)
        provenance = Self.identity(pipeline: pipeline, shardSet: shardSet, signature: signature, options: options)
        provenance["backbone_weights"] = "random initialization"
        if let path = options.backboneWeights {
            try network.loadBackbone(try BackboneWeights.open(path, depth: pipeline.depth), into: store)
            provenance["backbone_weights"] = (path as NSString).lastPathComponent
            provenance["backbone_weights_sha256"] = try SHA256.hex(ofFile: path)
        }
        if let path = options.initFrom {
            let loaded = try Checkpoint.read(path)
            if let note = try Checkpoint.checkCompatible(loaded, path: path, with: signature, shards: options.shards) {
                notes.append(note)
                log(note)
            }
            try Checkpoint.restore(loaded, path: path, network: network, into: store)
            provenance["init_from"] = path
            provenance["init_from_sha256"] = try SHA256.hex(ofFile: path)
        }
        if !options.resume || recorded == nil { try runRecord().write(folder: options.run) }
    }

    /// Trains to the last iteration; returns the last evaluation (nil without an evaluation split).
    @discardableResult
    public func run() throws -> Evaluation? {
        let schedule = TrainingSchedule(labels: train.labels, frameCounts: train.records.map(\.info.frameCount), bagsPerIteration: pipeline.batch,
                                        sampler: pipeline.sampler, classBalanced: pipeline.classBalanced, seed: options.seed)
        let metrics = try MetricsLog(path: options.run + "/metrics.jsonl", keepingThrough: startIteration)
        if pipeline.selectsBestValidation {
            (best, evaluationsSinceBest) = Self.bestEvaluation(metrics: options.run + "/metrics.jsonl", split: "val")
        }
        var lastEvaluation: Evaluation?
        // A resumed run that had stopped early stays stopped: the same metrics give the same decision.
        if patienceRunOut { stoppedEarly = startIteration }
        guard startIteration < iterations, stoppedEarly == nil else { return try evaluate(at: startIteration, metrics: metrics) }
        // A frozen trunk trains the head on cached features.
        let assembler = BatchAssembler(dataset: train, inputSize: pipeline.inputSize)
        let (trainStep, stopLoader) = pipeline.trainsBackbone
            ? prefetchedSteps(schedule, read: assembler.batch) { (self.step($0), $0.bagSizes) }
            : prefetchedSteps(schedule, read: try features(of: train).batch) { (self.step($0), $0.bagSizes) }
        defer { stopLoader() }
        let progress = ProgressLine(total: iterations, plain: options.plainProgress || isatty(2) == 0)
        var lossAverage: Double?
        for iteration in startIteration..<iterations {
            if let signal = options.stop?.signal {
                progress.finish()
                try stop(at: iteration, signal: signal)
            }
            let started = Date()
            let (loss, slices) = try trainStep(iteration)
            lossAverage = lossAverage.map { 0.9 * $0 + 0.1 * loss } ?? loss
            let seconds = Date().timeIntervalSince(started)
            metrics.write(["type": "train", "iteration": iteration + 1, "loss": loss, "seconds": seconds, "slices": slices])
            progress.update(iteration + 1, loss: lossAverage!, seconds: seconds)
            let done = iteration + 1
            if done % pipeline.evalEvery == 0 || done == iterations {
                lastEvaluation = try evaluate(at: done, metrics: metrics)
            }
            if patienceRunOut && done < iterations {
                progress.finish()
                try writeCheckpoint(iteration: done)
                stoppedEarly = done
                metrics.write(["type": "stop", "iteration": done, "reason": "patience"])
                log(String(format: "stopping early at iteration %d of %d: val AUROC has not improved on %.3f (iteration %d) for %d evaluations (training.patience)",
                           done, iterations, best?.auroc ?? .nan, best?.iteration ?? 0, evaluationsSinceBest))
                break
            }
            if done % pipeline.checkpointEvery == 0 || done == iterations {
                try writeCheckpoint(iteration: done)
            }
        }
        progress.finish()
        return lastEvaluation
    }

    func writeCheckpoint(iteration: Int) throws {
        try Checkpoint.write(store: store, optimizer: optimizer, pipeline: pipeline, iteration: iteration, seed: options.seed,
                             metadata: provenance, to: checkpointPath)
        checkpointIteration = iteration
    }

    /// Saves the iterations done since the last checkpoint (resume is exact from any iteration),
    /// removes unfinished files and throws ``TrainingStopped``.
    func stop(at iteration: Int, signal: Int32) throws -> Never {
        if iteration > 0 && checkpointIteration != iteration { try writeCheckpoint(iteration: iteration) }
        StopRequest.removePartFiles(in: options.run)
        throw TrainingStopped(signal: signal, iteration: iteration, iterations: iterations, checkpoint: checkpointPath,
                              checkpointIteration: checkpointIteration)
    }

    /// Steps of iterations startIteration..<iterations on batches read ahead by `read`: each
    /// returns its loss and slice count; the second function stops the reader.
    private func prefetchedSteps<Batch: Sendable>(_ schedule: TrainingSchedule, read: @escaping @Sendable ([(record: Int, slices: [Int])]) throws -> Batch,
                                                  step: @escaping (Batch) -> (loss: Double, bagSizes: [Int]))
        -> (step: (Int) throws -> (loss: Double, slices: Int), stop: () -> Void) {
        let loader = PrefetchingLoader(range: startIteration..<iterations) { try read(schedule.choices(iteration: $0)) }
        return ({ let (loss, sizes) = step(try loader.take($0)); return (loss, sizes.reduce(0, +)) }, loader.stop)
    }

    /// One optimization step; returns the loss.
    func step(_ batch: BagBatch) -> Double {
        optimize(bagSizes: batch.bagSizes, labels: batch.labels) { network.primaryMaps($0, $0.tape.constant(batch.input)) }
    }

    /// One step of the head alone on a frozen trunk's cached maps; returns the loss.
    func step(_ batch: FeatureBatch) -> Double {
        optimize(bagSizes: batch.bagSizes, labels: batch.labels) { parameters in batch.maps.map(parameters.tape.constant) }
    }

    /// Head logits from `maps`, the variant's loss, backward and the optimizer update.
    private func optimize(bagSizes: [Int], labels: [Int], maps: (ParameterBinding) -> [Tape.Variable]) -> Double {
        let tape = Tape(training: true, precision: network.pipeline.precision)
        let parameters = ParameterBinding(store, on: tape)
        let scoring = network.scoring
        let logits = network.logits(parameters, maps: maps(parameters), bagSizes: scoring.headBagSizes(bagSizes))
        let loss = scoring.loss(tape, logits: logits, bagSizes: bagSizes, labels: labels)
        tape.backward(from: loss)
        optimizer.update(store, gradients: parameters.gradients)
        return Double(tape.value(loss).values[0])
    }

    /// The cached trunk features of `dataset` (frozen backbone), computed on first use or read
    /// from the run folder when a resumed run made them already.
    func features(of dataset: ShardDataset) throws -> FeatureCache {
        if let cache = featureCaches[dataset.split] { return cache }
        let trunk = featureTrunk ?? FeatureCache.TrunkIdentity(network: network, store: store, sampler: pipeline.sampler)
        featureTrunk = trunk
        let cache = try FeatureCache.openOrBuild(path: options.run + "/features-\(dataset.split).h5", dataset: dataset, network: network,
                                                 store: store, sampler: pipeline.sampler, trunk: trunk, log: log)
        featureCaches[dataset.split] = cache
        return cache
    }

    func evaluate(at iteration: Int, metrics: MetricsLog) throws -> Evaluation? {
        guard let evaluation else { return nil }
        let evaluator = Evaluator(network: network, store: store), bags = max(1, pipeline.batch)
        let scored = pipeline.trainsBackbone ? try evaluator.score(evaluation, sampler: pipeline.sampler, bagsPerBatch: bags)
            : try evaluator.score(try features(of: evaluation), sampler: pipeline.sampler, bagsPerBatch: bags)
        let result = Evaluation(split: evaluation.split, iteration: iteration, scored: scored)
        metrics.write(["type": "eval", "iteration": iteration, "split": evaluation.split, "auroc": result.auroc ?? Double.nan,
                       "accuracy": result.accuracy, "records": scored.count])
        // Strictly better only: the first of equal AUROCs stays, so a replay after resume keeps it.
        if pipeline.selectsBestValidation, evaluation.split == "val" {
            guard let auroc = result.auroc, auroc > best?.auroc ?? -1 else {
                evaluationsSinceBest += 1
                return result
            }
            evaluationsSinceBest = 0
            best = (iteration, auroc)
            try Checkpoint.write(store: store, optimizer: nil, pipeline: pipeline, iteration: iteration, seed: options.seed,
                                 metadata: provenance.merging(["selected": "best-val", "val_auroc": String(format: "%.6f", auroc)]) { a, _ in a },
                                 to: bestPath)
        }
        return result
    }
}
