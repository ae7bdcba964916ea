import Foundation
import MIMSCore
import MIMSShards

/// `ingest.journal`: an append-only log of JSON lines (``JournalEvent``), each fsynced before the
/// run goes on, from which `--resume` learns what is done. A shard is journaled only after it is published under its
/// final name; a torn last line (a kill mid-write) is ignored.
public final class IngestJournal {
    public let path: String
    private var handle: FileHandle?

    /// What an earlier run finished.
    public struct State: Equatable {
        public var manifestSHA256: String?
        /// Shard file name to its record ids.
        public var shards: [String: [String]] = [:]
        public var rejections: [Rejection] = []
        public var warnings: [WarningsFile.Warning] = []
        public var shortVolumes: [IngestRunner.ShortVolume] = []
        public var filesMatched: Int?
        /// Of a merged set: which parts it was merged from (``ShardSetMerger``).
        public var mergeKey: String?
        public var done = false

        public var writtenIDs: Set<String> { Set(shards.values.joined()) }
    }

    public init(path: String) {
        self.path = path
    }

    /// Reads the journal; a missing file is an empty state.
    public static func read(path: String) throws -> State {
        var state = State()
        guard let data = FileManager.default.contents(atPath: path) else { return state }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for (number, line) in lines.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let event = object["event"] as? String else {
                if number == lines.count - 1 { break }  // torn final line from a kill
                throw IngestError.journal(path: path, reason: "line \(number + 1) is not a journal event")
            }
            switch event {
            case "start":
                state.manifestSHA256 = object["manifest_sha256"] as? String
                state.filesMatched = (object["files_matched"] as? NSNumber)?.intValue
                state.mergeKey = object["merge_key"] as? String
            case "shard":
                if let file = object["file"] as? String, let ids = object["ids"] as? [String] { state.shards[file] = ids }
            case "reject":
                if let id = object["id"] as? String, let path = object["path"] as? String, let reason = object["reason"] as? String {
                    let stage = (object["stage"] as? String).flatMap(Rejection.Stage.init) ?? .decode
                    state.rejections.append(Rejection(id: id, path: path, reason: reason, stage: stage,
                                                      label: (object["label"] as? NSNumber).map { Int32(truncating: $0) }))
                }
            case "warning":
                if let path = object["path"] as? String, let text = object["warning"] as? String {
                    state.warnings.append(.init(path: path, text: text))
                }
            case "short":
                if let id = object["id"] as? String, let kept = (object["kept"] as? NSNumber)?.intValue,
                   let wanted = (object["wanted"] as? NSNumber)?.intValue {
                    state.shortVolumes.append(.init(id: id, kept: kept, wanted: wanted))
                }
            case "done": state.done = true
            default: break
            }
        }
        return state
    }

    /// Cuts a torn final line (a kill in the middle of writing it), so that the next append starts
    /// a line of its own instead of gluing itself to the fragment.
    public static func repairTornTail(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        guard truncate(path, off_t(keep)) == 0 else {
            throw IngestError.journal(path: path, reason: "cannot cut its torn last line")
        }
    }

    /// Appends one event and fsyncs it.
    public func append(_ event: JournalEvent) throws {
        if handle == nil {
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            guard let opened = FileHandle(forWritingAtPath: path) else {
                throw ShardError.io(path: path, operation: "open for appending", reason: "cannot open the journal")
            }
            opened.seekToEndOfFile()
            handle = opened
        }
        var line = Data(event.line.utf8)
        line.append(UInt8(ascii: "\n"))
        try handle!.write(contentsOf: line)
        try handle!.synchronize()
    }

    deinit { try? handle?.close() }
}
