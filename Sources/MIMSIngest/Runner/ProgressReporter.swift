import Foundation

/// How a run tells what it is doing: a progress bar on a terminal, JSON lines on a pipe.
public final class ProgressReporter: @unchecked Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case auto, text, json, quiet
    }

    private let json: Bool
    private let bar: Bool
    private let quiet: Bool
    private var lastDraw = 0.0
    private let start = Date()

    public init(format: Format) {
        let terminal = isatty(STDERR_FILENO) != 0
        quiet = format == .quiet
        json = format == .json || (format == .auto && !terminal)
        bar = !json && !quiet && terminal
    }

    /// A one-off event (start, reject, shard, summary).
    public func event(_ name: String, _ fields: [String: Any], text: String) {
        if quiet { return }
        if json {
            emit(["event": name].merging(fields) { a, _ in a })
        } else {
            clearBar()
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// Records done so far; drawn at most 10 times a second on a terminal, once a second as JSON.
    public func progress(done: Int, total: Int, force: Bool = false) {
        if quiet { return }
        let now = Date().timeIntervalSince(start)
        guard force || now - lastDraw >= (json ? 1 : 0.1) else { return }
        lastDraw = now
        let rate = now > 0 ? Double(done) / now : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if json {
            emit(["event": "progress", "done": done, "total": total, "records_per_s": (rate * 10).rounded() / 10, "eta_s": eta.rounded()])
        } else if bar {
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let line = String(format: "\r[%@%@] %d/%d records  %.1f rec/s  ETA %@", String(repeating: "#", count: filled),
                              String(repeating: "-", count: width - filled), done, total, rate, Self.duration(eta))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public func finish() {
        clearBar()
    }

    private func clearBar() {
        if bar { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func emit(_ object: [String: Any]) {
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(s / 60 % 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
