import MIMSConfig
import MIMSOCT
import MIMSShards
import MIMSSplit

/// A dataset description: where the files are, how to label, group and split them, how to turn
/// them into frames and shards. Parsed from YAML by ``ManifestParser``; documented in
/// docs/MANIFESTS.md.
public struct Manifest: Equatable, Sendable {
    public var dataset: String
    public var kind: DatasetKind
    /// Source root, `${ENV}` expanded, relative paths resolved against the manifest's folder.
    public var root: String
    /// Glob patterns over paths relative to the root (`*`, `?`, `**` for any folders).
    public var include: [String]
    public var exclude: [String]
    public var reader: ReaderChoice
    /// Class names; a record's label is its class's index.
    public var classes: [String]
    public var labels: LabelSource
    /// Regex over the relative path; the first capture group (or the whole match) is the patient.
    public var patientPattern: String?
    /// `patient: header`: the patient id the OCT export records (`.vol` and E2E headers, the
    /// Cirrus file name), for exports whose paths carry no id.
    public var patientFromHeader: Bool = false
    /// `filter:`: only volumes whose export metadata matches are ingested; nil keeps all.
    public var filter: RecordFilter? = nil
    public var officialSplit: OfficialSplit?
    /// `.unlabelled` for `labels: none`; never `.kFold` (folds are made by `mims-split make`).
    public var split: SplitPolicy
    public var seed: UInt64
    public var normalize: Normalization
    public var shards: ShardOptions
    /// SHA-256 of the manifest's text, stored in every shard header.
    public var sha256: String
    /// The manifest's own text, copied beside the shards.
    public var text: String
}

/// Which reader decodes the files: `auto`, an image reader, or an OCT format's reader under its
/// `OCTFormat` name (`cirrus-img`, `topcon`, ...; the names and their order come from `OCTFormat`).
public enum ReaderChoice: Hashable, Sendable, CaseIterable, RawRepresentable {
    /// Recognise each file by its content.
    case auto
    case png, jpeg, tiff
    case volume(OCTFormat)

    public static var allCases: [ReaderChoice] { [.auto, .png, .jpeg, .tiff] + OCTFormat.allCases.map(ReaderChoice.volume) }

    public init?(rawValue: String) {
        guard let choice = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = choice
    }

    /// The name a manifest spells.
    public var rawValue: String {
        switch self {
        case .auto: "auto"
        case .png: "png"
        case .jpeg: "jpeg"
        case .tiff: "tiff"
        case let .volume(format): format.rawValue
        }
    }

    /// The OCT format a volume reader names; nil for `auto` (detect each file) and image readers.
    public var volumeFormat: OCTFormat? {
        switch self {
        case .auto, .png, .jpeg: nil
        case .tiff: .tiffStack
        case let .volume(format): format
        }
    }

    /// Whether the reader can read volumes (`auto` detects each file's format).
    public var readsVolumes: Bool { self != .png && self != .jpeg }
}

/// Where a record's class comes from.
public enum LabelSource: Equatable, Sendable {
    /// The nearest folder (from the file upwards, below the root) whose name fully matches one of
    /// the patterns gives the class: `[(pattern, class)]` in manifest order.
    case folder(map: [KeyValue])
    /// A CSV file: the `key` column is matched against the record's file `match` (stem, name or
    /// relative path); the `label` column is a class name, or a key of `map`.
    case csv(file: String, key: String, label: String, match: CSVMatch, map: [KeyValue])
    /// The file name's leading non-digit characters (PALM's `P0001.jpg`), looked up in `map`.
    case prefix(map: [KeyValue])
    /// `labels: none`: data to score, not to train on. Every record gets label -1 and goes to the
    /// test split.
    case none
}

public enum CSVMatch: String, Sendable, CaseIterable {
    case stem, name, path
}


/// The source's own train/test split, read from a path component.
public struct OfficialSplit: Equatable, Sendable {
    /// Regex matched against each folder name; its first capture group is looked up in `map`.
    public var component: String
    /// Captured text to split name (train, val, test).
    public var map: [KeyValue]
}

/// Which B-scans of a volume to keep.
public enum SliceSelection: Equatable, Sendable {
    case all
    /// The N central B-scans (all of them when a volume has fewer).
    case central(Int)
}

public struct Normalization: Equatable, Sendable {
    /// Target frame size (height, width); nil keeps the source size, which must then be the same
    /// for every frame.
    public var size: (height: Int, width: Int)?
    public var channels: Int
    public var slices: SliceSelection
    public var intensity: IntensityTransform
    /// Volumes with fewer frames are rejected; without it, a volume shorter than `slices: central`
    /// keeps what it has and is listed as short in the run summary and the split report.
    public var minFrames: Int? = nil

    public static func == (a: Normalization, b: Normalization) -> Bool {
        a.size?.height == b.size?.height && a.size?.width == b.size?.width && a.channels == b.channels
            && a.slices == b.slices && a.intensity == b.intensity && a.minFrames == b.minFrames
    }

    /// The `min_frames` rule: a volume of `frames` frames (before slice selection) is rejected when
    /// that is fewer than `minFrames`. `requiredBy` names whose data set the minimum in the reason
    /// (`predict --files`: the model's training data); without it the reason names the manifest key.
    func requireMinFrames(_ frames: Int, requiredBy: String? = nil) throws {
        guard let minimum = minFrames, frames < minimum else { return }
        throw IngestRejection(requiredBy.map { "has \(frames) frames, fewer than the \(minimum) (normalize.min_frames) \($0) required" }
                              ?? "has \(frames) frames, fewer than normalize.min_frames \(minimum)")
    }
}

public struct ShardOptions: Equatable, Sendable {
    public var recordsPerShard: Int
    /// Deflate level 1-9, or nil for no compression.
    public var deflateLevel: Int?
}

extension Manifest {
    /// Whether the records carry no labels (`labels: none`).
    public var isUnlabelled: Bool { labels == .none }

    /// How this manifest turns a source file into frames, as recorded in every shard.
    public var frameRecipe: FrameRecipe {
        var central: Int? = nil
        if case let .central(count) = normalize.slices { central = count }
        return FrameRecipe(kind: kind, reader: reader.rawValue, size: normalize.size.map { [$0.height, $0.width] },
                           channels: normalize.channels, centralSlices: central, intensity: normalize.intensity.rawValue,
                           minFrames: normalize.minFrames)
    }
}
