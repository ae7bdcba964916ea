import Foundation
import MIMSCore
import MIMSShards
import MIMSSplit

/// `mims-ingest merge`: the N part folders of a split ingest (`run --part I/N`) become one shard
/// set that `verify`, `mims-split` and `mims-train` treat as a single run's.
///
/// Nothing is decoded. The parts are checked against each other from what they recorded (same N,
/// manifest, tool version and discovered dataset; every part present once and finished; each
/// part's files in agreement), finished shards are hard-linked (copied where links cannot go)
/// into a temporary folder beside the output, `splits.json`, `rejected.jsonl`, `warnings.jsonl`
/// and the journal are joined, the result is verified (structure and record digests; every part
/// checked its own pixels right after writing them), and the folder is renamed to the output in
/// one step. A killed merge leaves only that temporary folder, which the same merge recognises
/// and starts over; the part folders are never changed.
public enum ShardSetMerger {
    public struct Report: Sendable {
        public var output: String
        public var parts: Int
        /// Files matched in the whole dataset: `matched == written + rejections.count`.
        public var matched: Int
        public var written: Int
        public var rejections: [Rejection]
        public var shards: [String]
        public var perSplit: [String: Int]
        /// Shards hard-linked from their part, and shards copied (another file system, or renumbered).
        public var linked: Int
        public var copied: Int
        /// Shards moved down into a gap of the numbering (a planned shard whose every record was
        /// rejected): "DIR/OLD -> NEW".
        public var renumbered: [String]
        public var warnings: Int
        public var shortVolumes: Int
        public var splitDrift: [String]
        /// The output already held this merge of the same parts; nothing was done.
        public var alreadyMerged: Bool
        public var seconds: Double
    }

    /// Where a merge into `output` builds the set before renaming it: a hidden folder beside it.
    public static func partialPath(for output: String) -> String {
        let path = (output as NSString).standardizingPath
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent) + "/." + (path as NSString).lastPathComponent + ".merging"
    }

    /// Merges the part folders `paths` (in any order) into `output`, which must be absent, empty,
    /// or already hold this merge (then nothing is done and the report says so).
    /// - Throws: ``MergeError`` naming the parts that do not make one set, or what stopped the merge.
    public static func merge(parts paths: [String], into output: String) throws -> Report {
        let started = Date()
        guard !paths.isEmpty else { throw MergeError.noParts }
        let parts = try checkCoverage(checkTogether(paths.map(load)))
        let unfinished = parts.filter { !$0.journal.done }
        guard unfinished.isEmpty else { throw MergeError.unfinished(parts: unfinished.map(\.name)) }
        try checkOwnership(parts)
        let shards = try parts.enumerated().map { try readShards(of: $1, position: $0) }
        let key = mergeKey(parts)
        if let report = try alreadyMerged(output, key: key, parts: parts, started: started) { return report }
        let partial = partialPath(for: output)
        try preparePartial(partial, key: key)
        do {
            let report = try build(parts, shards: shards, in: partial, output: output, key: key, started: started)
            try publish(partial, as: output)
            return report
        } catch {
            // A failed merge leaves nothing; only a killed one leaves the partial folder.
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    // MARK: - The parts

    struct LoadedPart {
        var path: String
        var file: PartFile
        var journal: IngestJournal.State
        var splits: SplitsFile
        var rejections: [Rejection]
        var warnings: [WarningsFile.Warning]
        var manifestText: String
        var set: ShardSet { ShardSet(directory: path) }
        /// How messages name the part.
        var name: String { "\(path) (part \(file.label))" }
    }

    static func load(_ path: String) throws -> LoadedPart {
        let set = ShardSet(directory: path)
        guard set.exists else { throw MergeError.notAPart(path: path, reason: "no such folder") }
        let file: PartFile
        do {
            guard let found = try set.part() else {
                throw MergeError.notAPart(path: path, reason: FileManager.default.fileExists(atPath: set.splitsPath)
                    ? "it has no \(ShardSet.partName): it is a whole shard set, not one part of a split ingest"
                    : "it has no \(ShardSet.partName) (make parts with `mims-ingest run MANIFEST --out DIR --part I/N`)")
            }
            file = found
        } catch let error as ShardError {
            throw MergeError.notAPart(path: path, reason: error.description)
        }
        let name = "\(path) (part \(file.label))"
        guard let splits = try? set.splits() else {
            throw MergeError.inconsistentPart(part: name, reason: "\(ShardSet.splitsName) is missing or unreadable")
        }
        guard let manifestText = set.manifestText() else {
            throw MergeError.inconsistentPart(part: name, reason: "\(ShardSet.manifestName) is missing")
        }
        return LoadedPart(path: path, file: file, journal: try IngestJournal.read(path: set.journalPath), splits: splits,
                          rejections: set.rejections(), warnings: set.warnings(), manifestText: manifestText)
    }

    /// Same N, manifest, tool version and dataset. The odd ones out are named against what most
    /// of the given parts say (the first part's value breaks a tie).
    static func checkTogether(_ parts: [LoadedPart]) throws -> [LoadedPart] {
        func odd<T: Hashable>(_ value: (LoadedPart) -> T) -> (expected: T, odd: [String]) {
            let values = parts.map(value)
            let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
            let expected = values.max { counts[$0]! < counts[$1]! || (counts[$0]! == counts[$1]! && values.firstIndex(of: $0)! > values.firstIndex(of: $1)!) }!
            return (expected, parts.filter { value($0) != expected }.map(\.name))
        }
        let count = odd { $0.file.parts }
        if !count.odd.isEmpty { throw MergeError.partCountDiffers(parts: count.odd, expected: count.expected) }
        let manifest = odd { $0.file.manifestSHA256 }
        if !manifest.odd.isEmpty { throw MergeError.otherManifest(parts: manifest.odd, expected: manifest.expected) }
        let tool = odd { $0.file.toolVersion }
        if !tool.odd.isEmpty { throw MergeError.otherToolVersion(parts: tool.odd, expected: tool.expected) }
        let dataset = odd { $0.file.datasetSHA256 }
        if !dataset.odd.isEmpty { throw MergeError.otherDataset(parts: dataset.odd) }
        return parts
    }

    /// Every part number once; returns the parts in part order.
    static func checkCoverage(_ parts: [LoadedPart]) throws -> [LoadedPart] {
        let count = parts[0].file.parts
        let byIndex = Dictionary(grouping: parts, by: \.file.part)
        let missing = (0..<count).filter { byIndex[$0] == nil }.map { "part \($0)/\(count)" }
        let doubled = byIndex.keys.sorted().compactMap { index -> String? in
            guard let given = byIndex[index], given.count > 1 else { return nil }
            return "part \(index)/\(count) is given \(given.count) times: " + given.map(\.path).joined(separator: ", ")
        }
        guard missing.isEmpty && doubled.isEmpty else { throw MergeError.coverage(missing: missing, doubled: doubled) }
        return (0..<count).map { byIndex[$0]![0] }
    }

    /// Each part's files agree with its part.json (every id it owns written or rejected once, its
    /// journal and folder listing the same shards), and no record is owned twice.
    static func checkOwnership(_ parts: [LoadedPart]) throws {
        var owner: [String: String] = [:]
        for part in parts {
            let ids = part.file.ids, owned = Set(ids)
            func fail(_ reason: String) -> MergeError { .inconsistentPart(part: part.name, reason: reason) }
            guard ids.count == owned.count, ids.count == part.file.end - part.file.first else {
                throw fail("\(ShardSet.partName) lists \(ids.count) ids for positions \(part.file.first)..<\(part.file.end)")
            }
            for id in ids {
                if let other = owner.updateValue(part.name, forKey: id) { throw fail("record '\(id)' is also owned by \(other)") }
            }
            guard Set(part.splits.assignment.keys) == owned else {
                throw fail("\(ShardSet.splitsName) assigns \(part.splits.assignment.count) records, \(ShardSet.partName) lists \(ids.count)")
            }
            let written = part.journal.writtenIDs
            let decodeRejected = Set(part.rejections.filter { $0.stage == .decode }.map(\.id))
            let discoveryRejected = part.rejections.count - decodeRejected.count
            guard discoveryRejected == part.file.discoveryRejections else {
                throw fail("\(ShardSet.rejectedName) lists \(discoveryRejected) discovery rejections, \(ShardSet.partName) says \(part.file.discoveryRejections)")
            }
            if let both = written.intersection(decodeRejected).sorted().first { throw fail("record '\(both)' is both written and rejected") }
            let accounted = written.union(decodeRejected)
            if let lost = ids.first(where: { !accounted.contains($0) }) {
                throw fail("record '\(lost)' it owns is neither in a journaled shard nor rejected")
            }
            if let stray = accounted.subtracting(owned).sorted().first { throw fail("it holds record '\(stray)', which it does not own") }
            let journaled = Set(part.journal.shards.keys)
            let present = Set((try? part.set.shardNames()) ?? [])
            if let missing = journaled.subtracting(present).sorted().first { throw fail("journaled shard \(missing) is missing") }
            if let extra = present.subtracting(journaled).sorted().first { throw fail("shard \(extra) is not in its journal") }
            guard SHA256.hex(of: Array(part.manifestText.utf8)) == part.file.manifestSHA256 else {
                throw fail("its \(ShardSet.manifestName) is not the manifest it was made from (SHA-256 differs)")
            }
        }
        if owner.count != parts[0].file.records {
            throw MergeError.inconsistentPart(part: parts[0].name, reason: "the parts own \(owner.count) records, the dataset has \(parts[0].file.records)")
        }
    }

    /// A finished shard of a part, as its tables say (no frame is read).
    struct PartShard {
        var part: Int
        var name: String
        var split: String
        var index: Int
        var ids: [String]
        var digests: [String?]
        var labels: [Int32]
        var frameShape: FrameShape
        var kind: DatasetKind
    }

    static func readShards(of part: LoadedPart, position: Int) throws -> [PartShard] {
        try part.journal.shards.keys.sorted().map { name in
            func fail(_ reason: String) -> MergeError { .inconsistentPart(part: part.name, reason: "\(name): \(reason)") }
            let reader = try ShardReader(path: part.set.path(of: name))
            let header = reader.header
            guard let parsed = ShardSet.parseShardName(name), parsed.split == header.split, parsed.index == header.shardIndex else {
                throw fail("its name does not match its header (split \(header.split), shard \(header.shardIndex))")
            }
            guard header.manifestSHA256 == part.file.manifestSHA256, header.toolVersion == part.file.toolVersion else {
                throw fail("it was written from another manifest or tool version than the part's")
            }
            let ids = reader.records.map(\.id)
            guard ids == part.journal.shards[name] else { throw fail("it holds other records than its journal line lists") }
            return PartShard(part: position, name: name, split: header.split, index: header.shardIndex, ids: ids,
                             digests: reader.records.map(\.recordSHA256), labels: reader.records.map(\.label),
                             frameShape: reader.frameShape, kind: header.kind)
        }
    }

    /// Names the merged parts: a merge of the same finished parts has the same key.
    static func mergeKey(_ parts: [LoadedPart]) -> String {
        let first = parts[0].file
        var text = "mims-merge-1\n\(first.datasetSHA256)\n\(first.manifestSHA256)\n\(first.toolVersion)\n\(first.parts)\n"
        for part in parts { text += "\(part.file.part)\t\(part.splits.setDigest ?? "-")\n" }
        return SHA256.hex(of: Array(text.utf8))
    }

    // MARK: - The output

    /// A non-empty output is refused, unless it is this very merge, finished.
    static func alreadyMerged(_ output: String, key: String, parts: [LoadedPart], started: Date) throws -> Report? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) else { return nil }
        guard isFolder.boolValue else { throw MergeError.outputNotAFolder(path: output) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: output) else {
            throw MergeError.outputUnusable(path: output, reason: "cannot list it")
        }
        if entries.isEmpty { return nil }
        let set = ShardSet(directory: output)
        guard let journal = try? IngestJournal.read(path: set.journalPath), journal.mergeKey == key, journal.done,
              let splits = try? set.splits() else {
            throw MergeError.outputNotEmpty(path: output)
        }
        let rejections = set.rejections()
        let names = (try? set.shardNames()) ?? []
        var perSplit: [String: Int] = [:]
        for id in journal.writtenIDs { perSplit[splits.assignment[id] ?? "?", default: 0] += 1 }
        return Report(output: output, parts: parts.count, matched: splits.filesMatched ?? 0, written: journal.writtenIDs.count,
                      rejections: rejections, shards: names, perSplit: perSplit, linked: 0, copied: 0, renumbered: [],
                      warnings: set.warnings().count, shortVolumes: journal.shortVolumes.count, splitDrift: [], alreadyMerged: true,
                      seconds: Date().timeIntervalSince(started))
    }

    /// Clears a partial folder this merge left when it was killed; refuses one of another merge.
    static func preparePartial(_ partial: String, key: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: partial, isDirectory: &isFolder) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: partial)) ?? []
            let journal = try? IngestJournal.read(path: ShardSet(directory: partial).journalPath)
            guard isFolder.boolValue, entries.isEmpty || journal?.mergeKey == key else {
                throw MergeError.partialMergeOfOtherParts(path: partial)
            }
            do {
                try FileManager.default.removeItem(atPath: partial)
            } catch {
                throw MergeError.outputUnusable(path: partial, reason: "cannot remove the killed merge's folder: \(ReadableError.describe(error))")
            }
        }
        do {
            try FileDurability.makeDirectory(partial)
        } catch {
            throw MergeError.outputUnusable(path: partial, reason: ReadableError.describe(error))
        }
    }

    /// Renames the finished folder to the output (an empty folder there is replaced).
    static func publish(_ partial: String, as output: String) throws {
        try FileDurability.sync(partial, directory: true)
        let target = (output as NSString).standardizingPath
        guard rename(partial, target) == 0 else {
            throw MergeError.outputUnusable(path: output, reason: "cannot rename \(partial) to it: \(String(cString: strerror(errno)))")
        }
        let parent = (target as NSString).deletingLastPathComponent
        try FileDurability.sync(parent.isEmpty ? "." : parent, directory: true)
    }

    static func build(_ parts: [LoadedPart], shards: [[PartShard]], in partial: String, output: String, key: String,
                      started: Date) throws -> Report {
        let set = ShardSet(directory: partial)
        let first = parts[0].file
        // The journal's first line says which merge the folder belongs to, so that a killed merge
        // is recognised before anything else is written.
        var journal = [JournalEvent.start(manifestSHA256: first.manifestSHA256, records: first.records, filesMatched: first.filesMatched,
                                          mergeKey: key, parts: first.parts).line]
        try AtomicFile.write(Data((journal[0] + "\n").utf8), to: set.journalPath)

        let all = shards.joined()
        if let odd = all.first(where: { $0.frameShape != all.first!.frameShape || $0.kind != all.first!.kind }) {
            throw MergeError.inconsistentPart(part: parts[odd.part].name,
                                              reason: "\(odd.name) holds \(odd.kind.rawValue) frames of \(odd.frameShape), other parts' shards \(all.first!.kind.rawValue) frames of \(all.first!.frameShape)")
        }
        var linked = 0, copied = 0
        var renumbered: [String] = []
        var names: [String] = []
        for split in ShardSchema.splits {
            // In part order, then shard order: the records in single-run order. The parts' planned
            // indices already number them so (``PartPlan/shardIndices(of:)``), unless a part had
            // every record of a shard rejected; the shards after such a gap move down into it, so
            // that the order stays the single run's.
            let members = all.filter { $0.split == split }.sorted { ($0.part, $0.index) < ($1.part, $1.index) }
            for (index, shard) in members.enumerated() {
                let source = parts[shard.part].set.path(of: shard.name)
                let name = ShardSet.shardName(split: split, index: index)
                if shard.index == index {
                    if try FileDurability.linkOrCopy(source, to: set.path(of: name)) { linked += 1 } else { copied += 1 }
                } else {
                    try ShardRenumbering.copy(source, split: split, index: index, into: partial)
                    copied += 1
                    renumbered.append("\(source) -> \(name)")
                }
                names.append(name)
                journal.append(JournalEvent.shard(split: split, file: name, ids: shard.ids).line)
            }
        }

        var splits = SplitsFile(policy: parts[0].splits.policy, seed: parts[0].splits.seed,
                                assignment: parts.reduce(into: [:]) { $0.merge($1.splits.assignment) { a, _ in a } },
                                moved: parts.flatMap(\.splits.moved).sorted(), straddlingPatients: parts[0].splits.straddlingPatients)
        splits.filesMatched = first.filesMatched
        let digests = all.flatMap(\.digests)
        splits.setDigest = digests.contains(nil) || digests.isEmpty ? nil : RecordDigest.ofSet(digests.compactMap { $0 })
        try splits.write(to: set.splitsPath)

        // Paths name files under part 0's source root, as a single run on its machine would.
        let rejections = parts.flatMap { part in part.rejections.map { rebase($0, from: part.file.sourceRoot, to: first.sourceRoot) } }
        try RejectedFile.write(rejections, to: set.rejectedPath)
        // Each part wrote its warnings in single-run order and the parts follow each other in it.
        let warnings = parts.flatMap(\.warnings)
        try WarningsFile.write(warnings, to: set.warningsPath)
        try AtomicFile.write(Data(parts[0].manifestText.utf8), to: set.manifestPath)

        for rejection in rejections where rejection.stage == .decode { journal.append(JournalEvent.reject(rejection).line) }
        for warning in warnings where !warning.path.isEmpty {
            journal.append(JournalEvent.warning(path: warning.path, text: warning.text).line)
        }
        let shortVolumes = parts.flatMap(\.journal.shortVolumes)
        for short in shortVolumes {
            journal.append(JournalEvent.short(id: short.id, kept: short.kept, wanted: short.wanted).line)
        }
        journal.append(JournalEvent.merge(parts: parts.map { "\($0.file.label) \($0.path)" }).line)
        try AtomicFile.write(Data(journal.map { $0 + "\n" }.joined().utf8), to: set.journalPath)

        let written = all.reduce(0) { $0 + $1.ids.count }
        guard written > 0 else { throw MergeError.nothingWritten(reasons: RejectedFile.commonReasons(rejections)) }
        let verification = try ShardSetVerifier.verify(directory: partial, checkPixels: false)
        guard verification.problems.isEmpty else { throw MergeError.verification(problems: verification.problems) }
        try IngestJournal(path: set.journalPath).append(.done(written: written, rejected: rejections.count, filesMatched: first.filesMatched))

        var labels: [String: Int32] = [:]
        for shard in all { for (id, label) in zip(shard.ids, shard.labels) { labels[id] = label } }
        for rejection in rejections where rejection.stage == .decode { labels[rejection.id] = rejection.label }
        let classes = (try? ManifestParser.parse(parts[0].manifestText, file: set.manifestPath))?.classes ?? []
        let drift = SplitDrift.lines(assignment: splits.assignment, rejected: Set(rejections.filter { $0.stage == .decode }.map(\.id)),
                                     labels: labels, classes: classes)
        return Report(output: output, parts: parts.count, matched: first.filesMatched, written: written, rejections: rejections,
                      shards: names.sorted(), perSplit: verification.perSplit, linked: linked, copied: copied, renumbered: renumbered,
                      warnings: warnings.count, shortVolumes: shortVolumes.count, splitDrift: drift, alreadyMerged: false,
                      seconds: Date().timeIntervalSince(started))
    }

    /// A rejection of a part that resolved the manifest root elsewhere, named under `root`.
    static func rebase(_ rejection: Rejection, from partRoot: String, to root: String) -> Rejection {
        guard partRoot != root else { return rejection }
        var moved = rejection
        if moved.path.hasPrefix(partRoot + "/") { moved.path = root + moved.path.dropFirst(partRoot.count) }
        moved.reason = moved.reason.replacingOccurrences(of: partRoot + "/", with: root + "/")
        return moved
    }
}
