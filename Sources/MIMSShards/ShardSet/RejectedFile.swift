import Foundation
import MIMSCore

/// `rejected.jsonl` beside the shards: one JSON object per rejected file, sorted by path, with
/// `id`, `path`, `reason` and `stage` (`discovery` or `decode`, see ``Rejection/Stage``).
/// Files written before `stage` existed read as `decode`.
public enum RejectedFile {
    public static let name = ShardSet.rejectedName

    public static func write(_ rejections: [Rejection], to path: String) throws {
        var text = ""
        for rejection in rejections.sorted(by: { ($0.path, $0.id) < ($1.path, $1.id) }) {
            var members = ["id": JSONText.string(rejection.id), "path": JSONText.string(rejection.path),
                           "reason": JSONText.string(rejection.reason), "stage": JSONText.string(rejection.stage.rawValue)]
            if let label = rejection.label { members["label"] = String(label) }
            text += JSONText.object(members) + "\n"
        }
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// The rejections in `path`; a missing file has none. Lines that are not rejections are skipped.
    public static func read(_ path: String) -> [Rejection] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line -> Rejection? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let id = object["id"] as? String, let path = object["path"] as? String, let reason = object["reason"] as? String else { return nil }
            return Rejection(id: id, path: path, reason: reason, stage: (object["stage"] as? String).flatMap(Rejection.Stage.init) ?? .decode,
                             label: (object["label"] as? NSNumber).map { Int32(truncating: $0) })
        }
    }

    /// The most common reasons, with the file's own path taken out so that equal causes group,
    /// as "count× reason" lines, most frequent first.
    public static func commonReasons(_ rejections: [Rejection], top: Int = 3) -> [String] {
        var counts: [String: Int] = [:]
        for rejection in rejections {
            var reason = rejection.reason
            if reason.hasPrefix(rejection.path + ": ") { reason.removeFirst(rejection.path.count + 2) }
            counts[reason, default: 0] += 1
        }
        return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(top).map { "\($0.value)x \($0.key)" }
    }
}
