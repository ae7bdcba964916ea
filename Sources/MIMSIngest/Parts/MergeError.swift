/// Errors that stop `mims-ingest merge`. Each names the part folders concerned (as
/// "DIR (part I/N)") and the reason, and nothing of the output is left behind.
public enum MergeError: Error, CustomStringConvertible, Equatable {
    case noParts
    /// The folder is not the output of `mims-ingest run --part I/N`.
    case notAPart(path: String, reason: String)
    /// Parts of runs with another N.
    case partCountDiffers(parts: [String], expected: Int)
    /// Parts made from another manifest (its SHA-256 differs).
    case otherManifest(parts: [String], expected: String)
    /// Parts made by another version of mims-ingest.
    case otherToolVersion(parts: [String], expected: String)
    /// Same manifest, but the source tree changed between the parts' runs.
    case otherDataset(parts: [String])
    /// Part numbers with no folder ("part 2/4"), and part numbers given more than once with
    /// their folders.
    case coverage(missing: [String], doubled: [String])
    /// Parts whose journal has no `done` line: still running, killed or failed.
    case unfinished(parts: [String])
    /// A part folder whose files disagree with each other or with the other parts.
    case inconsistentPart(part: String, reason: String)
    case outputNotAFolder(path: String)
    case outputNotEmpty(path: String)
    /// A killed merge of other parts left its temporary folder.
    case partialMergeOfOtherParts(path: String)
    case outputUnusable(path: String, reason: String)
    /// Every part rejected every record it owns.
    case nothingWritten(reasons: [String])
    /// The merged folder does not verify (a part was changed after it finished).
    case verification(problems: [String])

    public var description: String {
        switch self {
        case .noParts:
            "no part folders given; pass the N folders of `mims-ingest run --part I/N`"
        case let .notAPart(path, reason):
            "\(path): not a part of a split ingest: \(reason)"
        case let .partCountDiffers(parts, expected):
            "\(Self.list(parts)) \(parts.count == 1 ? "comes" : "come") from a split into another number of parts than the others (N = \(expected)); merge the parts of one --part I/N split"
        case let .otherManifest(parts, expected):
            "\(Self.list(parts)) \(parts.count == 1 ? "was" : "were") made from another manifest than the other parts (manifest_sha256 \(expected.prefix(12))…); ingest every part from the same manifest"
        case let .otherToolVersion(parts, expected):
            "\(Self.list(parts)) \(parts.count == 1 ? "was" : "were") made by another mims-ingest version than the other parts (\(expected)); run every part with the same version"
        case let .otherDataset(parts):
            "\(Self.list(parts)) saw other source files than the other parts (files added, removed, relabelled or resized between their runs); re-run \(parts.count == 1 ? "it" : "them") on the unchanged tree"
        case let .coverage(missing, doubled):
            (missing.map { "\($0) is missing" } + doubled.map { "\($0)" }).joined(separator: "; ")
                + "; pass each part folder exactly once"
        case let .unfinished(parts):
            "\(Self.list(parts)) \(parts.count == 1 ? "is" : "are") unfinished (the journal has no 'done' line: still running, killed, or it failed verification); finish with `mims-ingest run MANIFEST --out DIR --part I/N --resume`"
        case let .inconsistentPart(part, reason):
            "\(part): \(reason)"
        case let .outputNotAFolder(path):
            "\(path): output path is a file, not a folder; choose a folder"
        case let .outputNotEmpty(path):
            "\(path): output folder is not empty (and not a finished merge of these parts); choose an empty or new folder"
        case let .partialMergeOfOtherParts(path):
            "\(path): a killed merge of other parts left this folder; remove it, or finish that merge first"
        case let .outputUnusable(path, reason):
            "\(path): cannot use as output folder: \(reason)"
        case let .nothingWritten(reasons):
            "every record of every part was rejected (see each part's rejected.jsonl); most common reasons:\n"
                + reasons.map { "  " + $0 }.joined(separator: "\n")
        case let .verification(problems):
            "the merged set does not verify (nothing was written):\n" + problems.prefix(20).map { "  " + $0 }.joined(separator: "\n")
                + (problems.count > 20 ? "\n  ... \(problems.count - 20) more" : "")
        }
    }

    static func list(_ parts: [String]) -> String { parts.joined(separator: ", ") }
}
