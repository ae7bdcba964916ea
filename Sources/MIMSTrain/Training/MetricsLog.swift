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

/// The progress display: a redrawn bar on a terminal, periodic plain lines otherwise.
final class ProgressLine {
    let total: Int
    let plain: Bool
    var elapsed = 0.0
    var done = 0

    init(total: Int, plain: Bool) {
        self.total = total
        self.plain = plain
    }

    func update(_ iteration: Int, loss: Double, seconds: Double) {
        elapsed += seconds
        done += 1
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - iteration) / rate
        let text = String(format: "iteration %d/%d  loss %.4f  %.2f it/s  ETA %@", iteration, total, loss, rate, Self.duration(eta))
        if plain {
            if iteration == total || iteration % max(1, total / 20) == 0 { FileHandle.standardError.write((text + "\n").data(using: .utf8)!) }
        } else {
            let width = 24, filled = width * iteration / max(1, total)
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            FileHandle.standardError.write(("\r" + bar + text + "\u{1B}[K").data(using: .utf8)!)
        }
    }

    func finish() {
        if !plain { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
