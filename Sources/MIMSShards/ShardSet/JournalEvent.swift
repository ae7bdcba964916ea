import MIMSCore

/// One line of `ingest.journal` (``ShardSet/journalName``), the append-only log from which
/// `--resume` learns what an ingest has done (docs/INGEST.md). The ingest runner appends them one
/// at a time; the merge of a split ingest writes the merged folder's journal from them. Each is one
/// JSON object on one line, keys in byte order.
public enum JournalEvent: Sendable {
    /// The first line: the manifest, the records to write and the files matched. `part` names the
    /// part of a split ingest (`"2/4"`); a merged set records its merge key and number of parts.
    case start(manifestSHA256: String, records: Int, filesMatched: Int, part: String? = nil, mergeKey: String? = nil, parts: Int? = nil)
    /// A shard published under its final name, with its record ids.
    case shard(split: String, file: String, ids: [String])
    case reject(Rejection)
    case warning(path: String, text: String)
    /// A volume with fewer frames than `slices: central` asks for.
    case short(id: String, kept: Int, wanted: Int)
    /// Of a merged set: the parts it was merged from, as "<label> <path>".
    case merge(parts: [String])
    /// The last line of a finished run.
    case done(written: Int, rejected: Int, filesMatched: Int)

    /// The event's JSON members, by key, each already JSON text.
    public var members: [String: String] {
        switch self {
        case let .start(manifestSHA256, records, filesMatched, part, mergeKey, parts):
            var members = ["event": JSONText.string("start"), "manifest_sha256": JSONText.string(manifestSHA256),
                           "records": String(records), "files_matched": String(filesMatched)]
            if let part { members["part"] = JSONText.string(part) }
            if let mergeKey { members["merge_key"] = JSONText.string(mergeKey) }
            if let parts { members["parts"] = String(parts) }
            return members
        case let .shard(split, file, ids):
            return ["event": JSONText.string("shard"), "split": JSONText.string(split), "file": JSONText.string(file), "ids": JSONText.array(ids)]
        case let .reject(rejection):
            var members = ["event": JSONText.string("reject"), "id": JSONText.string(rejection.id), "path": JSONText.string(rejection.path),
                           "reason": JSONText.string(rejection.reason), "stage": JSONText.string(rejection.stage.rawValue)]
            if let label = rejection.label { members["label"] = String(Int(label)) }
            return members
        case let .warning(path, text):
            return ["event": JSONText.string("warning"), "path": JSONText.string(path), "warning": JSONText.string(text)]
        case let .short(id, kept, wanted):
            return ["event": JSONText.string("short"), "id": JSONText.string(id), "kept": String(kept), "wanted": String(wanted)]
        case let .merge(parts):
            return ["event": JSONText.string("merge"), "parts": JSONText.array(parts)]
        case let .done(written, rejected, filesMatched):
            return ["event": JSONText.string("done"), "written": String(written), "rejected": String(rejected), "files_matched": String(filesMatched)]
        }
    }

    /// The journal line, without its newline.
    public var line: String { JSONText.object(members) }
}
