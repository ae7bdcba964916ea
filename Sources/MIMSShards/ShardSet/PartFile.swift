import Foundation
import MIMSCore

/// `part.json` in the folder of one part of a split ingest (`mims-ingest run --part I/N`): what
/// the part is and which records it owns, so that `mims-ingest merge` can check that the parts
/// belong together and cover every record exactly once without discovering the dataset again.
///
/// Written when the part starts, before any shard. Whether the part has finished is the journal's
/// business (its `done` line), not this file's.
public struct PartFile: Codable, Equatable, Sendable {
    public static let name = ShardSet.partName
    public static let currentFormat = "mims-ingest-part/1"

    public var format: String
    /// I of `--part I/N`.
    public var part: Int
    /// N of `--part I/N`.
    public var parts: Int
    public var manifestSHA256: String
    public var toolVersion: String
    /// SHA-256 of what discovery found (every record's path, id, label, patient, split and input
    /// bytes, the discovery rejections, the matched count): equal in every part of one dataset,
    /// whatever N, and different as soon as the source tree changed between two parts' runs.
    public var datasetSHA256: String
    /// The manifest root as this part resolved it (another machine may mount the tree elsewhere).
    public var sourceRoot: String
    /// Files `source.include` matched in the whole dataset.
    public var filesMatched: Int
    /// Records (matched files with a label and an id) in the whole dataset.
    public var records: Int
    /// The part's records are positions `first ..< end` of the whole dataset in single-run order
    /// (train, val, test; id order within each).
    public var first: Int
    public var end: Int
    /// Discovery-stage rejections this part records (part 0 records them all, the others none).
    public var discoveryRejections: Int
    /// Input bytes of the part's records (what the share is balanced by).
    public var inputBytes: Int64
    /// The ids of the part's records, in single-run order.
    public var ids: [String]

    public init(part: Int, parts: Int, manifestSHA256: String, toolVersion: String, datasetSHA256: String, sourceRoot: String,
                filesMatched: Int, records: Int, first: Int, end: Int, discoveryRejections: Int, inputBytes: Int64, ids: [String]) {
        format = Self.currentFormat
        self.part = part
        self.parts = parts
        self.manifestSHA256 = manifestSHA256
        self.toolVersion = toolVersion
        self.datasetSHA256 = datasetSHA256
        self.sourceRoot = sourceRoot
        self.filesMatched = filesMatched
        self.records = records
        self.first = first
        self.end = end
        self.discoveryRejections = discoveryRejections
        self.inputBytes = inputBytes
        self.ids = ids
    }

    enum CodingKeys: String, CodingKey {
        case format, part, parts, first, end, records, ids
        case manifestSHA256 = "manifest_sha256"
        case toolVersion = "tool_version"
        case datasetSHA256 = "dataset_sha256"
        case sourceRoot = "source_root"
        case filesMatched = "files_matched"
        case discoveryRejections = "discovery_rejections"
        case inputBytes = "input_bytes"
    }

    /// "I/N", as `--part` spells it.
    public var label: String { "\(part)/\(parts)" }

    /// Whether `other` describes the same part of the same dataset (what `--resume` must find).
    public func samePart(as other: PartFile) -> Bool {
        part == other.part && parts == other.parts && manifestSHA256 == other.manifestSHA256 && datasetSHA256 == other.datasetSHA256
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        try AtomicFile.write(data, to: path)
    }

    public static func read(from path: String) throws -> PartFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ShardError.invalidSetFile(path: path, reason: "cannot read the file")
        }
        guard let file = try? JSONDecoder().decode(PartFile.self, from: data) else {
            throw ShardError.invalidSetFile(path: path, reason: "not a part.json file (JSON with part, parts, manifest_sha256, ids, ... expected)")
        }
        guard file.format == currentFormat else {
            throw ShardError.invalidSetFile(path: path, reason: "format '\(file.format)' is not \(currentFormat)")
        }
        return file
    }
}
