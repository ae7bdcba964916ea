import Foundation
import MIMSShards

/// Everything a reviewer asks about a shard folder's splits, computed from the shards alone (plus
/// splits.json, rejected.jsonl and the manifest copy beside them when present).
public struct SplitReport: Sendable {
    public struct ShardFile: Sendable {
        public var file: String
        public var bytes: Int
        /// SHA-256 of the shard file.
        public var sha256: String
    }

    public struct Split: Sendable {
        public var name: String
        public var records = 0
        public var frames = 0
        /// Records per class index.
        public var classCounts: [Int: Int] = [:]
        public var patients = 0
        public var bytes = 0
        public var shards: [ShardFile] = []
    }

    /// Patients found in more than one split.
    public struct Overlap: Sendable {
        public var splits: [String]
        public var patients: [String]
        /// True when every one of them straddles because the policy moved records on purpose.
        public var intended: Bool
    }

    /// Records whose source files have the same SHA-256.
    public struct Duplicate: Sendable {
        public var sourceSHA256: String
        public var ids: [String]
        public var splits: [String]
        public var acrossSplits: Bool { Set(splits).count > 1 }
    }

    public var directory: String
    public var dataset: String
    public var kind: String
    public var policy: String
    public var seed: UInt64?
    public var classNames: [String]
    public var splits: [Split]
    /// Moved ids (official-move policy) and their counts per class index.
    public var moved: [String]
    public var movedPerClass: [Int: Int]
    public var overlaps: [Overlap]
    public var duplicates: [Duplicate]
    public var rejected: [Rejection]
    /// Disagreements with splits.json (ids missing, extra or in the wrong split).
    public var inconsistencies: [String]
    /// Requested against realized shares per label and split, where rejects moved them by more
    /// than a few records (``SplitDrift``).
    public var splitDrift: [String] = []
    /// Volumes with fewer frames than the manifest's `slices: central` asks for, as "id (n of N)".
    public var shortVolumes: [String] = []

    public func className(_ label: Int) -> String {
        label == Int(ShardSchema.unlabelled) ? "unlabelled" : label >= 0 && label < classNames.count ? classNames[label] : "class \(label)"
    }

    /// Builds the report for `directory`. `hashFiles: false` skips the SHA-256 of each shard file
    /// (the report's table column, left empty), for callers that want only the checks.
    public static func build(directory: String, hashFiles: Bool = true) throws -> SplitReport {
        let set = ShardSet(directory: directory)
        guard set.exists else { throw SplitReportError.notAFolder(path: directory) }
        let names = try set.shardNames()
        guard !names.isEmpty else { throw SplitReportError.noShards(directory: directory) }
        var splits: [String: Split] = [:]
        var patientsBySplit: [String: Set<String>] = [:]
        var splitOfID: [String: String] = [:]
        var stored: [String: ShardSet.Location] = [:]
        var labelOfID: [String: Int32] = [:]
        var bySource: [String: [(id: String, split: String)]] = [:]
        var dataset = "", kind = ""
        var tampered: [String] = []
        var frameCounts: [(String, Int)] = []
        var digests: [String] = []
        var allDigested = true
        for name in names {
            let path = set.path(of: name)
            let reader = try ShardReader(path: path)
            dataset = reader.header.dataset
            kind = reader.header.kind.rawValue
            let splitName = reader.header.split
            var split = splits[splitName] ?? Split(name: splitName)
            let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            split.shards.append(ShardFile(file: name, bytes: bytes, sha256: hashFiles ? try SHA256.hex(ofFile: path) : ""))
            split.bytes += bytes
            for record in reader.records {
                split.records += 1
                split.frames += record.frameCount
                frameCounts.append((record.id, record.frameCount))
                split.classCounts[Int(record.label), default: 0] += 1
                patientsBySplit[splitName, default: []].insert(record.patient)
                splitOfID[record.id] = splitName
                stored[record.id] = ShardSet.Location(split: splitName, shard: name)
                labelOfID[record.id] = record.label
                bySource[record.sourceSHA256, default: []].append((record.id, splitName))
                if let digest = record.recordSHA256 {
                    digests.append(digest)
                    if digest != RecordDigest.of(record) {
                        tampered.append("'\(record.id)' in \(name): its id, label, patient or hashes changed after it was written (record digest mismatch)")
                    }
                } else {
                    allDigested = false
                }
            }
            splits[splitName] = split
        }
        for (name, patients) in patientsBySplit { splits[name]!.patients = patients.count }

        let splitsFile = try set.splits()
        let rejected = set.rejections()
        let straddling = Set(splitsFile?.straddlingPatients ?? [])

        var overlaps: [Overlap] = []
        let ordered = ShardSchema.splits.filter { patientsBySplit[$0] != nil }
        for (i, a) in ordered.enumerated() {
            for b in ordered[(i + 1)...] {
                let shared = patientsBySplit[a]!.intersection(patientsBySplit[b]!).sorted()
                if !shared.isEmpty {
                    overlaps.append(Overlap(splits: [a, b], patients: shared, intended: shared.allSatisfy(straddling.contains)))
                }
            }
        }
        let duplicates = bySource.filter { $0.value.count > 1 }.map { hash, entries in
            Duplicate(sourceSHA256: hash, ids: entries.map(\.id).sorted(), splits: entries.map(\.split).sorted())
        }.sorted { $0.ids[0] < $1.ids[0] }

        var inconsistencies: [String] = tampered
        var moved: [String] = []
        var movedPerClass: [Int: Int] = [:]
        if let splitsFile {
            inconsistencies += ShardSet.digestProblems(splits: splitsFile, recordDigests: allDigested ? digests : nil, flagUndigested: false,
                                                       sealed: "ingest")
            inconsistencies += ShardSet.assignmentProblems(splits: splitsFile, stored: stored, rejections: rejected)
            moved = splitsFile.moved
            for id in moved { if let label = labelOfID[id] { movedPerClass[Int(label), default: 0] += 1 } }
        } else {
            inconsistencies.append("no splits.json beside the shards")
        }
        let manifest = set.manifestCopy()
        let names_ = ShardSet.classNames(in: manifest)
        var report = SplitReport(
            directory: directory, dataset: dataset, kind: kind, policy: splitsFile?.policy ?? "unknown", seed: splitsFile?.seed,
            classNames: names_,
            splits: ShardSchema.splits.compactMap { splits[$0] }, moved: moved, movedPerClass: movedPerClass,
            overlaps: overlaps, duplicates: duplicates, rejected: rejected, inconsistencies: inconsistencies)
        if let splitsFile {
            var labels = labelOfID
            // Rejected records are in no shard; rejected.jsonl keeps their labels so their share still counts as asked.
            let decodeRejected = Set(rejected.filter { $0.stage == .decode }.map(\.id))
            for rejection in rejected where rejection.stage == .decode { if let label = rejection.label { labels[rejection.id] = label } }
            report.splitDrift = SplitDrift.lines(assignment: splitsFile.assignment, rejected: decodeRejected, labels: labels, classes: names_)
        }
        if kind == DatasetKind.volume3d.rawValue, let wanted = ShardSet.centralSlices(in: manifest) {
            report.shortVolumes = frameCounts.filter { $0.1 < wanted }.sorted { $0.0 < $1.0 }.map { "\($0.0) (\($0.1) of \(wanted))" }
        }
        return report
    }
}
