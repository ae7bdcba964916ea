import Foundation
import MIMSCore

/// `RUN/metrics.jsonl`: one JSON object per training iteration and per evaluation. On resume the
/// lines after the checkpoint's iteration are dropped, so the log reads as one uninterrupted run.
public final class MetricsLog {
    let handle: FileHandle

    public init(path: String, keepingThrough iteration: Int) throws {
        var kept = ""
        if iteration > 0, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                   let at = object["iteration"] as? Int, at <= iteration {
                    kept += line + "\n"
                }
            }
        }
        FileManager.default.createFile(atPath: path, contents: Data(kept.utf8))
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.runFolder(path: path, reason: "cannot write the metrics log") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    public func write(_ fields: [String: Any]) {
        let parts = fields.keys.sorted().map { key -> String in
            let value: String = switch fields[key] {
            case let d as Double: d.isFinite ? String(format: "%.6g", d) : "null"
            case let i as Int: String(i)
            case let s as String: JSONText.string(s)
            default: "null"
            }
            return JSONText.string(key) + ": " + value
        }
        handle.write(("{" + parts.joined(separator: ", ") + "}\n").data(using: .utf8)!)
    }

    deinit { try? handle.close() }
}
