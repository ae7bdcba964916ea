import Foundation
import MIMSCore
import MIMSShards

/// `mims-ingest run`: discover → split → decode → normalize → write → verify, resumable.
///
/// Decoding, normalizing and compressing run on `jobs` worker threads; one writer per split talks
/// to HDF5 (whose Debian build serializes every call) and writes pre-compressed chunks. Shards are
/// published atomically and journaled afterwards; `--resume` skips journaled shards and rejects,
/// adopts shards published but not yet journaled, deletes `.part` files, and carries on in the same
/// deterministic order, so the result equals an uninterrupted run.
public final class IngestRunner {
    public struct Options: Sendable {
        public var jobs: Int
        public var resume: Bool
        public var maxRejects: Int
        public var toolVersion: String
        /// The shards' `created_utc`; nil for now (or `SOURCE_DATE_EPOCH`).
        public var createdUTC: String?

        public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, resume: Bool = false, maxRejects: Int = 0,
                    toolVersion: String, createdUTC: String? = nil) {
            self.jobs = jobs
            self.resume = resume
            self.maxRejects = maxRejects
            self.toolVersion = toolVersion
            self.createdUTC = createdUTC
        }
    }

    /// What a run did.
    public struct Report: Sendable {
        public var discovered: Int
        public var written: Int
        public var rejections: [Rejection]
        public var shards: [String]
        public var perSplit: [String: Int]
        public var problems: [String]
        public var seconds: Double
    }

    public static let journalName = "ingest.journal"
    public static let rejectedName = "rejected.jsonl"
    public static let splitsName = "splits.json"
    public static let manifestName = "manifest.yaml"

    let manifest: Manifest
    let output: String
    let options: Options
    let reporter: ProgressReporter

    public init(manifest: Manifest, output: String, options: Options, reporter: ProgressReporter) {
        self.manifest = manifest
        self.output = output
        self.options = options
        self.reporter = reporter
    }

    public func run() throws -> Report {
        let started = Date()
        try prepareOutput()
        let discovery = try Discovery.discover(manifest)
        guard !discovery.records.isEmpty else { throw IngestError.noRecords(root: manifest.root) }
        let split = SplitAssigner.assign(discovery.records, policy: manifest.split, seed: manifest.seed)
        let splits = SplitsFile(policy: policyName, seed: manifest.seed, assignment: split.assignment, moved: split.moved,
                                straddlingPatients: split.straddlingPatients)
        let journal = IngestJournal(path: output + "/" + Self.journalName)
        var state = try resumeState(splits: splits)
        if state.manifestSHA256 == nil {
            try AtomicFile.write(Data(manifest.text.utf8), to: output + "/" + Self.manifestName)
            try splits.write(to: output + "/" + Self.splitsName)
            try journal.append(["event": "start", "manifest_sha256": manifest.sha256, "records": discovery.records.count])
            for rejection in discovery.rejections { try journal.append(rejectEvent(rejection)) }
            state.manifestSHA256 = manifest.sha256
            state.rejections = discovery.rejections
        }
        reporter.event("start", ["records": discovery.records.count, "dataset": manifest.dataset, "resumed": options.resume && !state.shards.isEmpty],
                       text: "\(manifest.dataset): \(discovery.records.count) records found under \(manifest.root)"
                           + (state.shards.isEmpty ? "" : "; resuming after \(state.shards.count) finished shards"))
        guard let frameShape = RecordProcessor.frameShape(for: manifest, records: discovery.records) else {
            throw IngestError.noRecords(root: manifest.root)
        }
        let processor = RecordProcessor(manifest: manifest, frameShape: frameShape)
        let done = state.writtenIDs.union(state.rejections.map(\.id))
        var rejections = state.rejections
        var written = state.writtenIDs.count
        let total = discovery.records.count
        let verifier = ShardSetVerifier.Background()
        for splitName in ShardSchema.splits {
            let pending = discovery.records.filter { split.assignment[$0.id] == splitName && !done.contains($0.id) }
            if pending.isEmpty { continue }
            let firstIndex = state.shards.keys.compactMap { ShardSchema.parseFileName($0) }.filter { $0.split == splitName }
                .map(\.index).max().map { $0 + 1 } ?? 0
            let created = options.createdUTC ?? UTCTimestamp.now()
            let writer = ShardSetWriter(directory: output, split: splitName, frameShape: frameShape,
                                        recordsPerShard: manifest.shards.recordsPerShard, deflateLevel: manifest.shards.deflateLevel,
                                        firstIndex: firstIndex) { [manifest, options] index in
                ShardHeader(dataset: manifest.dataset, kind: manifest.kind, split: splitName, shardIndex: index, createdUTC: created,
                            toolVersion: options.toolVersion, manifestSHA256: manifest.sha256)
            }
            writer.onShardFinished = { [reporter] summary in
                let name = (summary.path as NSString).lastPathComponent
                try journal.append(["event": "shard", "split": splitName, "file": name, "ids": summary.ids])
                verifier.submit(summary)
                reporter.event("shard", ["file": name, "records": summary.recordCount], text: "  wrote \(name) (\(summary.recordCount) records)")
            }
            // Bound memory by bytes in flight: ~256 MB of decoded frames, at least 2 records per worker.
            let recordBytes = max(1, frameShape.byteCount * (manifest.kind == .volume3d ? 64 : 1))
            let window = max(2 * options.jobs, min(256, (256 << 20) / recordBytes))
            do {
                try OrderedPipeline.run(pending, workers: options.jobs, window: window, transform: { processor.encode($0) }) { _, result in
                    switch result {
                    case let .success(encoded):
                        try writer.append(encoded)
                        written += 1
                    case let .failure(rejection):
                        try journal.append(rejectEvent(rejection))
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
        try writeRejected(rejections)
        let verification = try ShardSetVerifier.verify(directory: output, known: verifier.finish())
        if verification.problems.isEmpty { try journal.append(["event": "done"]) }
        return Report(discovered: total, written: written, rejections: rejections, shards: verification.shards,
                      perSplit: verification.perSplit, problems: verification.problems, seconds: Date().timeIntervalSince(started))
    }

    var policyName: String {
        switch manifest.split {
        case let .ratio(train, val, test): "ratio train \(train) val \(val) test \(test), stratified by label, grouped by patient"
        case .official: "official"
        case let .officialMove(fraction): "official, then \(fraction) of test moved to train"
        }
    }

    func rejectEvent(_ rejection: Rejection) -> [String: Any] {
        ["event": "reject", "id": rejection.id, "path": rejection.path, "reason": rejection.reason]
    }

    /// Without --resume the folder must be empty or absent; with it, anything goes.
    func prepareOutput() throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: output) {
            let entries = try manager.contentsOfDirectory(atPath: output)
            if !entries.isEmpty && !options.resume { throw IngestError.outputNotEmpty(path: output) }
        } else {
            try FileDurability.makeDirectory(output)
        }
    }

    /// The journal's state, after removing `.part` files and adopting shards that were published
    /// but not journaled (the run was killed between the rename and the journal line).
    func resumeState(splits: SplitsFile) throws -> IngestJournal.State {
        let journalPath = output + "/" + Self.journalName
        var state = try IngestJournal.read(path: journalPath)
        guard options.resume, state.manifestSHA256 != nil else {
            return IngestJournal.State()
        }
        guard state.manifestSHA256 == manifest.sha256 else {
            throw IngestError.resumeMismatch(path: output, reason: "the manifest changed since the interrupted run")
        }
        if let existing = try? SplitsFile.read(from: output + "/" + Self.splitsName), existing != splits {
            throw IngestError.resumeMismatch(path: output, reason: "the source files changed since the interrupted run (splits differ)")
        }
        let journal = IngestJournal(path: journalPath)
        for name in try FileManager.default.contentsOfDirectory(atPath: output).sorted() {
            if name.hasSuffix(".h5.part") {
                FileDurability.remove(output + "/" + name)
            } else if ShardSchema.parseFileName(name) != nil, state.shards[name] == nil {
                let reader = try ShardReader(path: output + "/" + name)
                let ids = reader.records.map(\.id)
                try journal.append(["event": "shard", "split": reader.header.split, "file": name, "ids": ids])
                state.shards[name] = ids
            }
        }
        for (name, _) in state.shards where !FileManager.default.fileExists(atPath: output + "/" + name) {
            throw IngestError.resumeMismatch(path: output, reason: "journaled shard \(name) is missing")
        }
        return state
    }

    func writeRejected(_ rejections: [Rejection]) throws {
        var lines = Data()
        for rejection in rejections.sorted(by: { $0.id < $1.id }) {
            lines += try JSONSerialization.data(withJSONObject: ["id": rejection.id, "path": rejection.path, "reason": rejection.reason],
                                                options: [.sortedKeys, .withoutEscapingSlashes])
            lines.append(UInt8(ascii: "\n"))
        }
        try AtomicFile.write(lines, to: output + "/" + Self.rejectedName)
    }
}
