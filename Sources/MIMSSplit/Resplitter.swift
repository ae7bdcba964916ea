import Foundation
import MIMSCore
import MIMSIngest
import MIMSShards

/// Re-splits existing shards under another policy or seed by copying stored chunks from shard to
/// shard: no source file is read and no frame is decoded or recompressed.
public enum Resplitter {
    public enum Policy: Equatable, Sendable {
        case ratio(train: Double, val: Double, test: Double)
        /// K folds, patient-grouped and stratified; fold `index` is the test split.
        case kFold(folds: Int, index: Int)
    }

    public struct Result: Sendable {
        public var perSplit: [String: Int]
        public var shards: [String]
    }

    public static func run(from source: String, to output: String, policy: Policy, seed: UInt64, recordsPerShard: Int? = nil,
                           toolVersion: String) throws -> Result {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue else {
            throw SplitReportError.notAFolder(path: source)
        }
        let names = try ShardSet(directory: source).shardNames()
        guard !names.isEmpty else { throw SplitReportError.noShards(directory: source) }
        let existed = FileManager.default.fileExists(atPath: output, isDirectory: &isFolder)
        if existed {
            guard isFolder.boolValue else { throw SplitReportError.notAFolder(path: output) }
            if !(try FileManager.default.contentsOfDirectory(atPath: output)).isEmpty { throw SplitReportError.outputNotEmpty(path: output) }
        }
        try FileDurability.makeDirectory(output)
        do {
            return try copy(from: source, names: names, to: output, policy: policy, seed: seed, recordsPerShard: recordsPerShard, toolVersion: toolVersion)
        } catch {
            // The folder was new or empty: everything in it is this run's, and half a re-split is no use.
            if existed {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [] { FileDurability.remove(output + "/" + name) }
            } else {
                try? FileManager.default.removeItem(atPath: output)
            }
            throw error
        }
    }

    static func copy(from source: String, names: [String], to output: String, policy: Policy, seed: UInt64, recordsPerShard: Int?,
                     toolVersion: String) throws -> Result {
        let readers = try names.map { try ShardReader(path: source + "/" + $0) }
        var location: [String: (reader: Int, record: Int)] = [:]
        var records: [SourceRecord] = []
        for (r, reader) in readers.enumerated() {
            for (i, record) in reader.records.enumerated() {
                location[record.id] = (r, i)
                records.append(SourceRecord(id: record.id, path: record.source, relativePath: record.source, label: record.label, patient: record.patient))
            }
        }
        records.sort { $0.id < $1.id }
        let assignment: [String: String]
        let policyText: String
        switch policy {
        case let .ratio(train, val, test):
            assignment = SplitAssigner.assign(records, policy: .ratio(train: train, val: val, test: test), seed: seed).assignment
            policyText = "ratio train \(train) val \(val) test \(test), stratified by label, grouped by patient"
        case let .kFold(folds, index):
            assignment = kFold(records, folds: folds, index: index, seed: seed)
            policyText = "fold \(index) of \(folds) as test, stratified by label, grouped by patient"
        }
        let first = readers[0]
        let perShard = recordsPerShard ?? max(1, readers.map(\.recordCount).max() ?? 1000)
        var shards: [String] = []
        var perSplit: [String: Int] = [:]
        let created = UTCTimestamp.now()
        for split in ShardSchema.splits {
            let members = records.filter { assignment[$0.id] == split }
            if members.isEmpty { continue }
            let writer = ShardSetWriter(directory: output, split: split, frameShape: first.frameShape, recordsPerShard: perShard,
                                        deflateLevel: first.hasDeflate ? 4 : nil) { index in
                ShardHeader(dataset: first.header.dataset, kind: first.header.kind, split: split, shardIndex: index, createdUTC: created,
                            toolVersion: toolVersion, manifestSHA256: first.header.manifestSHA256, frameRecipe: first.header.frameRecipe)
            }
            do {
                for record in members {
                    let (r, i) = location[record.id]!
                    guard readers[r].frameShape == first.frameShape, readers[r].hasDeflate == first.hasDeflate else {
                        throw ShardError.invalidRecord(id: record.id, reason: "its shard's frame shape or filters differ from the others")
                    }
                    try writer.append(readers[r].storedRecord(i))
                }
                shards += try writer.finish().map { ($0.path as NSString).lastPathComponent }
            } catch {
                writer.abandon()
                throw error
            }
            perSplit[split] = members.count
        }
        var splits = SplitsFile(policy: policyText + " (re-split of \(source))", seed: seed, assignment: assignment)
        splits.setDigest = try ShardSetVerifier.setDigest(directory: output)
        let copy = ShardSet(directory: output)
        try splits.write(to: copy.splitsPath)
        if let manifest = ShardSet(directory: source).manifestText() { try AtomicFile.write(Data(manifest.utf8), to: copy.manifestPath) }
        return Result(perSplit: perSplit, shards: shards)
    }

    /// Patients (in the stratum of their smallest label, ordered by SHA-256 of "seed:patient")
    /// are dealt round-robin into `folds` folds; fold `index` is test, the rest train.
    static func kFold(_ records: [SourceRecord], folds: Int, index: Int, seed: UInt64) -> [String: String] {
        let fold = KFoldAssignment.folds(records.map { ($0.id, $0.patient, Int($0.label)) }, folds: folds, seed: seed)
        return fold.mapValues { $0 == index ? "test" : "train" }
    }
}

/// K folds over records, grouped by patient and stratified by label: each label's patients, in an
/// order fixed by SHA-256 of (seed, patient), are dealt to the folds in turn. A patient with records
/// of several labels counts under the smallest. The one rule `mims-split make --folds` and
/// `mims-train cv` share, so a fold means the same records in both.
public enum KFoldAssignment {
    /// The patient a record is grouped under: its patient id, or itself when it has none.
    public static func patientKey(id: String, patient: String) -> String { patient.isEmpty ? "record:" + id : patient }

    /// Record id -> fold (0 ..< folds). A record without a patient id is a patient of its own.
    public static func folds(_ records: [(id: String, patient: String, label: Int)], folds: Int, seed: UInt64) -> [String: Int] {
        precondition(folds >= 2, "at least two folds")
        func patient(_ r: (id: String, patient: String, label: Int)) -> String { patientKey(id: r.id, patient: r.patient) }
        var labelOfPatient: [String: Int] = [:]
        for record in records { labelOfPatient[patient(record)] = min(labelOfPatient[patient(record)] ?? record.label, record.label) }
        var strata: [Int: [String]] = [:]
        for (patient, label) in labelOfPatient { strata[label, default: []].append(patient) }
        var foldOfPatient: [String: Int] = [:]
        for label in strata.keys.sorted() {
            let ordered = strata[label]!.map { (SHA256.hex(of: Array("\(seed):\($0)".utf8)), $0) }.sorted { $0 < $1 }.map(\.1)
            for (position, patient) in ordered.enumerated() { foldOfPatient[patient] = position % folds }
        }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.id, foldOfPatient[patient($0)]!) })
    }
}
