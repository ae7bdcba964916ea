import Foundation
import MIMSCore

/// `warnings.jsonl` beside the shards: what the readers and the run noticed that rejected nothing
/// (an E2E directory that had to be scanned for, a class without files), one JSON object per line
/// with `path` (empty for run-wide warnings) and `warning`.
public enum WarningsFile {
    public static let name = ShardSet.warningsName

    public struct Warning: Equatable, Sendable {
        public var path: String
        public var text: String
        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    public static func write(_ warnings: [Warning], to path: String) throws {
        let text = warnings.map { JSONText.object(["path": JSONText.string($0.path), "warning": JSONText.string($0.text)]) + "\n" }.joined()
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    public static func read(_ path: String) -> [Warning] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: String],
                  let text = object["warning"] else { return nil }
            return Warning(path: object["path"] ?? "", text: text)
        }
    }
}
