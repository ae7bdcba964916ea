import Foundation
import MIMSCore

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
