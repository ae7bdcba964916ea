import Foundation
import MIMSCore
import MIMSShards
import MIMSSplit

/// `mims-ingest run`: discover → split → decode → normalize → write → verify, resumable.
///
/// Decoding, normalizing and compressing run on `jobs` worker threads; one writer per split talks
/// to HDF5 (whose Debian build serializes every call) and writes pre-compressed chunks. Shards are
/// published atomically and journaled afterwards; `--resume` skips journaled shards and rejects,
/// adopts shards published but not yet journaled, deletes `.part` files, and carries on in the same
/// deterministic order, so the result equals an uninterrupted run.
///
/// With ``Options/part`` the run is one part of a split ingest: it discovers and splits the whole
/// dataset as a single run does, then decodes and writes only the part's share (``PartPlan``),
/// recording what it owns in `part.json`; `mims-ingest merge` (``ShardSetMerger``) joins the parts.
public final class IngestRunner {
    public struct Options: Sendable {
        public var jobs: Int
        public var resume: Bool
        public var maxRejects: Int
        public var toolVersion: String
        /// The shards' `created_utc`; nil for now (or `SOURCE_DATE_EPOCH`).
        public var createdUTC: String?
        /// Ingest only this part's share of the records (`--part I/N`); nil ingests them all.
        public var part: IngestPart?

        public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, resume: Bool = false, maxRejects: Int = 0,
                    toolVersion: String, createdUTC: String? = nil, part: IngestPart? = nil) {
            self.jobs = jobs
            self.resume = resume
            self.maxRejects = maxRejects
            self.toolVersion = toolVersion
            self.createdUTC = createdUTC
            self.part = part
        }
    }

    /// What a run did. Every matched file is written or rejected:
    /// `matched == written + rejections.count`.
    public struct Report: Sendable {
        /// Files (or slice folders) matched by `source.include`; of a part, those it owns.
        public var matched: Int
        /// Records found: matched files that got a label and an id; of a part, those it owns.
        public var discovered: Int
        public var written: Int
        public var rejections: [Rejection]
        public var shards: [String]
        public var perSplit: [String: Int]
        public var problems: [String]
        /// Run-wide and reader warnings, also in `warnings.jsonl`.
        public var warnings: [WarningsFile.Warning]
        /// Volumes that kept fewer frames than `slices: central` asks for: id, frames kept, wanted.
        public var shortVolumes: [ShortVolume]
        /// Requested against realized split sizes, where they differ by more than a few records.
        public var splitDrift: [String]
        public var seconds: Double
        /// What a part of a split ingest owns; nil for a single run.
        public var part: PartFile? = nil
    }

    public struct ShortVolume: Sendable, Equatable {
        public var id: String
        public var kept: Int
        public var wanted: Int
    }


    let manifest: Manifest
    let output: String
    /// The output folder's files.
    var set: ShardSet { ShardSet(directory: output) }
    let options: Options
    let reporter: ProgressReporter

    public init(manifest: Manifest, output: String, options: Options, reporter: ProgressReporter) {
        self.manifest = manifest
        self.output = output
        self.options = options
        self.reporter = reporter
    }

    public func run() throws -> Report {
        let created = try prepareOutput()
        do {
            return try ingest()
        } catch {
            // A failed run leaves no empty folder behind (a folder with rejected.jsonl stays).
            if created, let entries = try? FileManager.default.contentsOfDirectory(atPath: output), entries.isEmpty {
                try? FileManager.default.removeItem(atPath: output)
            }
            throw error
        }
    }

    func ingest() throws -> Report {
        let started = Date()
        let discovery = try Discovery.discover(manifest)
        guard discovery.matched > 0 else { throw IngestError.noFilesMatched(root: manifest.root, include: manifest.include) }
        var warnings = discovery.warnings.map { WarningsFile.Warning(path: "", text: $0) }
        for warning in warnings { reporter.event("warning", ["path": "", "warning": warning.text], text: "  warning: \(warning.text)") }
        guard !discovery.records.isEmpty else {
            try RejectedFile.write(discovery.rejections, to: set.rejectedPath)
            throw IngestError.allRejected(count: discovery.matched, output: output, reasons: RejectedFile.commonReasons(discovery.rejections))
        }
        let split = SplitAssigner.assign(discovery.records.map(\.splitRecord), policy: manifest.split, seed: manifest.seed)
        var splits = SplitsFile(policy: manifest.split.summary, seed: manifest.seed, assignment: split.assignment, moved: split.moved,
                                straddlingPatients: split.straddlingPatients)
        splits.filesMatched = discovery.matched
        let part = options.part
        let share = IngestShare(discovery: discovery, assignment: split.assignment, manifest: manifest, part: part, toolVersion: options.toolVersion)
        let records = share.records, discoveryRejections = share.discoveryRejections, matched = share.matched, partFile = share.partFile
        if !share.ownsDiscovery { warnings = [] }
        splits = share.splits(of: splits)
        let journal = IngestJournal(path: set.journalPath)
        var state = try resumeState(splits: splits, part: partFile)
        if state.manifestSHA256 == nil {
            try AtomicFile.write(Data(manifest.text.utf8), to: set.manifestPath)
            try splits.write(to: set.splitsPath)
            try partFile?.write(to: set.partPath)
            try journal.append(.start(manifestSHA256: manifest.sha256, records: records.count, filesMatched: matched, part: part?.description))
            state.manifestSHA256 = manifest.sha256
        }
        var startFields: [String: Any] = ["matched": discovery.matched, "records": discovery.records.count, "dataset": manifest.dataset,
                                          "resumed": options.resume && !state.shards.isEmpty]
        if let part {
            startFields["part"] = part.description
            startFields["part_records"] = records.count
        }
        let filtered = discovery.rejections.filter { $0.stage == .filter }.count, unfiltered = discovery.rejections.count - filtered
        if filtered > 0 { startFields["filtered"] = filtered }
        reporter.event("start", startFields,
                       text: "\(manifest.dataset): \(discovery.matched) files matched under \(manifest.root), \(discovery.records.count) records"
                           + (unfiltered == 0 ? "" : ", \(unfiltered) rejected before decoding")
                           + (filtered == 0 ? "" : ", \(filtered) left out by filter:")
                           + (share.description.isEmpty ? "" : "; " + share.description)
                           + (state.shards.isEmpty ? "" : "; resuming after \(state.shards.count) finished shards"))
        for rejection in discoveryRejections {
            let filtered = rejection.stage == .filter
            reporter.event(filtered ? "filtered" : "reject", ["id": rejection.id, "path": rejection.path, "reason": rejection.reason],
                           text: "  \(filtered ? "filtered out" : "rejected") \(rejection.path): \(rejection.reason)")
        }
        // Every part settles the frame shape over the whole dataset, so all parts agree on it.
        guard let frameShape = RecordProcessor.frameShape(for: manifest, records: discovery.records) else {
            // No record decodes: every one is a rejection, with its own reason.
            let probe = RecordProcessor(manifest: manifest, frameShape: FrameShape(height: 1, width: 1, channels: manifest.normalize.channels))
            let failed = Parallel.map(records.count) { index -> Rejection in
                if case let .failure(rejection) = probe.process(records[index]) { return rejection }
                return Rejection(id: records[index].id, path: records[index].path, reason: "decodes, but no frame size could be settled")
            }
            let all = discoveryRejections + failed
            try RejectedFile.write(all, to: set.rejectedPath)
            throw IngestError.allRejected(count: discovery.matched, output: output, reasons: RejectedFile.commonReasons(all))
        }
        let processor = RecordProcessor(manifest: manifest, frameShape: frameShape)
        // Only decode-stage rejections of this run's records carry over: a journal written before
        // rejections had a stage lists discovery rejections too, which discovery has just redone.
        let recordIDs = Set(records.map(\.id))
        let carried = state.rejections.filter { $0.stage == .decode && recordIDs.contains($0.id) }
        let done = state.writtenIDs.union(carried.map(\.id))
        var rejections = discoveryRejections + carried
        var shortVolumes = state.shortVolumes
        warnings += state.warnings
        var written = state.writtenIDs.count
        let total = matched
        let plannedShard = share.plannedShard
        let verifier = ShardSetVerifier.Background()
        for splitName in ShardSchema.splits {
            let pending = records.filter { split.assignment[$0.id] == splitName && !done.contains($0.id) }
            if pending.isEmpty { continue }
            // A part's records go to their planned shards (``PartPlan/shardIndices(of:)``) instead.
            let firstIndex = state.shards.keys.compactMap { ShardSet.parseShardName($0) }.filter { $0.split == splitName }
                .map(\.index).max().map { $0 + 1 } ?? 0
            let created = options.createdUTC ?? UTCTimestamp.now()
            let writer = ShardSetWriter(directory: output, split: splitName, frameShape: frameShape,
                                        recordsPerShard: manifest.shards.recordsPerShard, deflateLevel: manifest.shards.deflateLevel,
                                        firstIndex: firstIndex) { [manifest, options] index in
                ShardHeader(dataset: manifest.dataset, kind: manifest.kind, split: splitName, shardIndex: index, createdUTC: created,
                            toolVersion: options.toolVersion, manifestSHA256: manifest.sha256, frameRecipe: manifest.frameRecipe)
            }
            writer.onShardFinished = { [reporter] summary in
                let name = (summary.path as NSString).lastPathComponent
                try journal.append(.shard(split: splitName, file: name, ids: summary.ids))
                verifier.submit(summary)
                reporter.event("shard", ["file": name, "records": summary.recordCount], text: "  wrote \(name) (\(summary.recordCount) records)")
            }
            // Bound memory by bytes in flight: ~256 MB of decoded frames, at least 2 records per worker.
            let recordBytes = max(1, frameShape.byteCount * (manifest.kind == .volume3d ? 64 : 1))
            let window = max(2 * options.jobs, min(256, (256 << 20) / recordBytes))
            do {
                try OrderedPipeline.run(pending, workers: options.jobs, window: window, transform: { processor.process($0) }) { position, result in
                    let record = pending[position]
                    switch result {
                    case let .success(output):
                        // Warnings and short volumes are journaled before the record can be
                        // published, so a resumed run reports them as an uninterrupted one does.
                        for text in output.warnings {
                            try journal.append(.warning(path: record.relativePath, text: text))
                            warnings.append(.init(path: record.relativePath, text: text))
                            reporter.event("warning", ["path": record.relativePath, "warning": text], text: "  warning \(record.relativePath): \(text)")
                        }
                        if let short = output.shortFrames {
                            try journal.append(.short(id: record.id, kept: short.kept, wanted: short.wanted))
                            shortVolumes.append(ShortVolume(id: record.id, kept: short.kept, wanted: short.wanted))
                        }
                        if let index = plannedShard?[record.id] {
                            try writer.append(output.encoded, toShard: index)
                        } else {
                            try writer.append(output.encoded)
                        }
                        written += 1
                    case let .failure(rejection):
                        try journal.append(.reject(rejection))
                        rejections.append(rejection)
                        reporter.event("reject", ["id": rejection.id, "path": rejection.path, "reason": rejection.reason],
                                       text: "  rejected \(rejection.path): \(rejection.reason)")
                    }
                    reporter.progress(done: written + rejections.count, total: total)
                }
                try writer.finish()
            } catch {
                writer.abandon()
                reporter.finish()
                _ = verifier.finish()
                throw error
            }
        }
        reporter.progress(done: written + rejections.count, total: total, force: true)
        reporter.finish()
        try RejectedFile.write(rejections, to: set.rejectedPath)
        try WarningsFile.write(warnings, to: set.warningsPath)
        let known = verifier.finish()
        // Verified before set_digest is written (so the check against it is skipped here), then
        // the digest the verification computed is recorded: the shards are read once.
        let verification = try ShardSetVerifier.verify(directory: output, known: known)
        splits.setDigest = verification.setDigest
        try splits.write(to: set.splitsPath)
        // A part may own no record, or only rejected ones, and still be a sound share of a set.
        if written == 0 && part == nil {
            throw IngestError.allRejected(count: discovery.matched, output: output, reasons: RejectedFile.commonReasons(rejections))
        }
        if verification.problems.isEmpty {
            try journal.append(.done(written: written, rejected: rejections.count, filesMatched: matched))
        }
        // Drift is a property of the whole set: a part leaves it to the merge.
        let drift = part != nil || manifest.isUnlabelled ? [] : SplitDrift.lines(
            assignment: split.assignment, rejected: Set(rejections.filter { $0.stage == .decode }.map(\.id)),
            labels: Dictionary(uniqueKeysWithValues: discovery.records.map { ($0.id, $0.label) }), classes: manifest.classes)
        return Report(matched: matched, discovered: records.count, written: written, rejections: rejections,
                      shards: verification.shards, perSplit: verification.perSplit, problems: verification.problems,
                      warnings: warnings, shortVolumes: shortVolumes.sorted { $0.id < $1.id }, splitDrift: drift,
                      seconds: Date().timeIntervalSince(started), part: partFile)
    }

    /// Without --resume the folder must be empty or absent; with it, anything goes. Returns
    /// whether the folder was created here.
    func prepareOutput() throws -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw IngestError.outputNotAFolder(path: output) }
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: output) else {
                throw IngestError.outputUnusable(path: output, reason: "cannot list it")
            }
            if !entries.isEmpty && !options.resume { throw IngestError.outputNotEmpty(path: output) }
            return false
        }
        do {
            try FileDurability.makeDirectory(output)
        } catch {
            throw IngestError.outputUnusable(path: output, reason: "cannot create it: \(ReadableError.describe(error))")
        }
        return true
    }

    /// The journal's state, after removing `.part` files and adopting shards that were published
    /// but not journaled (the run was killed between the rename and the journal line).
    /// - Parameter part: what `part.json` must say when this run is a part, nil for a single run.
    func resumeState(splits: SplitsFile, part: PartFile?) throws -> IngestJournal.State {
        let journalPath = set.journalPath
        var state = try IngestJournal.read(path: journalPath)
        guard options.resume, state.manifestSHA256 != nil else {
            return IngestJournal.State()
        }
        guard state.manifestSHA256 == manifest.sha256 else {
            throw IngestError.resumeMismatch(path: output, reason: "the manifest changed since the interrupted run")
        }
        switch (try set.part(), part) {
        case (nil, nil): break
        case let (found?, nil):
            throw IngestError.resumeMismatch(path: output, reason: "it holds part \(found.label) of a split ingest; resume it with --part \(found.label)")
        case let (nil, wanted?):
            throw IngestError.resumeMismatch(path: output, reason: "it holds a single-process ingest, not part \(wanted.label)")
        case let (found?, wanted?):
            if found.part != wanted.part || found.parts != wanted.parts {
                throw IngestError.resumeMismatch(path: output, reason: "it holds part \(found.label), not part \(wanted.label)")
            }
            if !found.samePart(as: wanted) {
                throw IngestError.resumeMismatch(path: output, reason: "the source files changed since the interrupted run (part \(found.label) would own other records)")
            }
        }
        if let existing = try? SplitsFile.read(from: set.splitsPath), !existing.sameAssignment(as: splits) {
            throw IngestError.resumeMismatch(path: output, reason: "the source files changed since the interrupted run (splits differ)")
        }
        try IngestJournal.repairTornTail(path: journalPath)
        let journal = IngestJournal(path: journalPath)
        for name in try FileManager.default.contentsOfDirectory(atPath: output).sorted() {
            if ShardSet.isUnfinishedShard(name) {
                FileDurability.remove(set.path(of: name))
            } else if ShardSet.parseShardName(name) != nil, state.shards[name] == nil {
                let reader = try ShardReader(path: set.path(of: name))
                let ids = reader.records.map(\.id)
                try journal.append(.shard(split: reader.header.split, file: name, ids: ids))
                state.shards[name] = ids
            }
        }
        for (name, _) in state.shards where !FileManager.default.fileExists(atPath: set.path(of: name)) {
            throw IngestError.resumeMismatch(path: output, reason: "journaled shard \(name) is missing")
        }
        return state
    }
}
