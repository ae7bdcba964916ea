import Foundation
import MIMSCore
import MIMSImage
import MIMSShards

/// Ingests a folder of 2D images laid out as `ROOT/<class>/<patient>-<anything>.<png|jpg|tif>`:
/// label from the class folder, patient from the file-name prefix, a patient-grouped stratified
/// split, decoding in parallel, resizing to one frame shape, and verified shards.
///
/// This is the small, fixed-layout path behind `mims-ingest demo`; manifests generalise it.
public struct ImageFolderIngest: Sendable {
    public var root: String
    public var datasetName: String
    public var classes: [String]
    public var frameShape: FrameShape
    public var seed: UInt64
    public var trainFraction: Double
    public var recordsPerShard: Int
    public var deflateLevel: Int

    public init(root: String, datasetName: String, classes: [String], frameShape: FrameShape, seed: UInt64 = 0,
                trainFraction: Double = 0.7, recordsPerShard: Int = 256, deflateLevel: Int = 4) {
        self.root = root
        self.datasetName = datasetName
        self.classes = classes
        self.frameShape = frameShape
        self.seed = seed
        self.trainFraction = trainFraction
        self.recordsPerShard = recordsPerShard
        self.deflateLevel = deflateLevel
    }

    /// Lists the records, sorted by id.
    public func discover() throws -> [SourceRecord] {
        var records: [SourceRecord] = []
        let manager = FileManager.default
        for (label, name) in classes.enumerated() {
            let folder = root + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw IngestError.missingClassFolder(path: folder)
            }
            for file in try manager.contentsOfDirectory(atPath: folder).sorted() {
                let lower = file.lowercased()
                guard [".png", ".jpg", ".jpeg", ".tif", ".tiff"].contains(where: lower.hasSuffix) else { continue }
                let relative = name + "/" + file
                let stem = String(relative[..<relative.lastIndex(of: ".")!])
                let patient = String(file.split(separator: "-").first ?? Substring(file))
                records.append(SourceRecord(id: stem, path: folder + "/" + file, relativePath: relative,
                                            label: Int32(label), patient: patient))
            }
        }
        return records.sorted { $0.id < $1.id }
    }

    /// Decodes, normalizes and writes every record; returns what was written.
    public func run(output: String, toolVersion: String, progress: (String) -> Void = { _ in }) throws -> IngestSummary {
        let records = try discover()
        guard !records.isEmpty else { throw IngestError.noRecords(root: root) }
        let assignment = PatientGroupedSplit.assign(records, seed: seed, trainFraction: trainFraction)
        try FileDurability.makeDirectory(output)
        let created = UTCTimestamp.now()
        var writers: [String: ShardSetWriter] = [:]
        for split in ["train", "test"] {
            writers[split] = ShardSetWriter(directory: output, split: split, frameShape: frameShape,
                                            recordsPerShard: recordsPerShard, deflateLevel: deflateLevel) { index in
                ShardHeader(dataset: datasetName, kind: .image2d, split: split, shardIndex: index, createdUTC: created,
                            toolVersion: toolVersion, manifestSHA256: "")
            }
        }
        do {
            let batch = max(8, ProcessInfo.processInfo.activeProcessorCount * 4)
            for start in stride(from: 0, to: records.count, by: batch) {
                let slice = Array(records[start..<min(start + batch, records.count)])
                let encoded = Parallel.map(slice.count) { index in
                    Result { try encode(slice[index]) }
                }
                for (record, result) in zip(slice, encoded) {
                    try writers[assignment[record.id]!]!.append(result.get())
                }
                progress("\(min(start + batch, records.count))/\(records.count) records")
            }
        } catch {
            writers.values.forEach { $0.abandon() }
            throw error
        }
        var shards: [ShardSummary] = []
        for split in ["train", "test"] { shards += try writers[split]!.finish() }
        try SplitsFile(policy: "patient-grouped stratified \(trainFraction)/\(1 - trainFraction)", seed: seed,
                       assignment: assignment).write(to: output + "/splits.json")
        return IngestSummary(records: records.count, shards: shards)
    }

    /// Decode, convert, resize, compress: everything but the HDF5 write, safe on any thread.
    func encode(_ record: SourceRecord) throws -> EncodedRecord {
        let bytes = try FileBytes.read(record.path)
        let image = try ImageDecoder.decode(bytes, file: record.path)
        var frame = try image.frame(channels: frameShape.channels)
        frame = try BilinearResize.resize(frame, height: frameShape.height, width: frameShape.width)
        let shardRecord = ShardRecord(id: record.id, patient: record.patient, source: record.relativePath,
                                      sourceSHA256: SHA256.hex(of: bytes), label: record.label, frameCount: 1,
                                      pixels: frame.pixels, originalShape: [1, image.height, image.width])
        return try ShardWriter.encode(shardRecord, frameShape: frameShape, deflateLevel: deflateLevel)
    }
}

/// What an ingest wrote.
public struct IngestSummary: Sendable {
    public var records: Int
    public var shards: [ShardSummary]
}

/// Errors of discovering and ingesting a dataset.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case missingClassFolder(path: String)
    case noRecords(root: String)
    case sourceMissing(root: String)
    case labelFile(path: String, reason: String)
    case outputNotEmpty(path: String)
    case resumeMismatch(path: String, reason: String)
    case journal(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingClassFolder(path): "\(path): class folder is missing"
        case let .noRecords(root): "\(root): no images found"
        case let .sourceMissing(root): "\(root): source root is not a folder"
        case let .labelFile(path, reason): "\(path): cannot use as label table: \(reason)"
        case let .outputNotEmpty(path): "\(path): output folder is not empty; use --resume to finish an interrupted run, or choose an empty folder"
        case let .resumeMismatch(path, reason): "\(path): cannot resume: \(reason)"
        case let .journal(path, reason): "\(path): unreadable journal: \(reason)"
        }
    }
}
