import ArgumentParser
import Foundation
import MIMSCore
import MIMSOCT

/// Prints what each OCT export holds without writing anything.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe OCT exports (\(OCTReader.formatNames(conjunction: "or"))).",
        discussion: """
        Prints, per file, the detected format, dimensions (A-scans x depth x B-scans), voxel spacing, \
        laterality, patient and visit ids, scan pattern, device and the source value range. Nothing is written. \
        A file that cannot be read gets one line naming it and why; the exit status is then 1.
        """)

    @Argument(help: "Export files, Heyex XML export folders (or their .xml file), or slice folders.")
    var files: [String]

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    @Option(help: "Float-to-uint8 rule for Heidelberg data: fourth-root (as Heyex shows it) or log (eyepy).")
    var intensity: IntensityTransform = .fourthRoot

    func run() throws {
        var failures = 0
        var reports: [[String: Any]] = []
        for file in files {
            do {
                let volumes = try OCTReader.read(path: file, transform: intensity)
                for (index, volume) in volumes.enumerated() {
                    let report = Self.describe(volume, file: file, index: volumes.count > 1 ? index : nil)
                    if json { reports.append(Self.finiteJSON(report) as! [String: Any]) } else { print(Self.text(report)) }
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(ReadableError.describe(error))\n".utf8))
                if json { reports.append(["file": file, "error": ReadableError.describe(error)]) }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: reports, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// JSON has no NaN or infinity, and header fields of damaged files hold them (a spacing of
    /// NaN): they become null, so one such file never keeps the others out of valid JSON.
    static func finiteJSON(_ value: Any) -> Any {
        switch value {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let list as [Any]: return list.map(finiteJSON)
        case let object as [String: Any]: return object.mapValues(finiteJSON)
        default: return value
        }
    }

    static func describe(_ volume: OCTVolume, file: String, index: Int?) -> [String: Any] {
        let meta = volume.metadata
        var report: [String: Any] = [
            "file": file, "format": meta.format.rawValue,
            "width": volume.width, "height": volume.height, "frames": volume.frameCount,
        ]
        if let index { report["volume"] = index }
        if let s = meta.spacing { report["spacing_mm"] = ["depth": s.depth, "width": s.width, "between_frames": s.betweenFrames] }
        if let l = meta.laterality { report["laterality"] = l.rawValue }
        if let p = meta.patientID { report["patient_id"] = p }
        if let v = meta.visitID { report["visit_id"] = v }
        if let p = meta.scanPattern { report["scan_pattern"] = p }
        if let a = meta.acquired { report["acquired"] = a }
        if let d = meta.device { report["device"] = d }
        if let r = meta.valueRange { report["value_range"] = [r.lowerBound, r.upperBound] }
        if let f = meta.fundus { report["fundus"] = "\(f.width)x\(f.height)" }
        if !meta.layers.isEmpty { report["layer_lines"] = meta.layers.map(\.count).max() ?? 0 }
        if !meta.layerNames.isEmpty { report["layer_names"] = meta.layerNames }
        if !meta.warnings.isEmpty { report["warnings"] = meta.warnings }
        return report
    }

    static func text(_ r: [String: Any]) -> String {
        var lines = ["\(r["file"]!)" + (r["volume"].map { " [volume \($0)]" } ?? "")]
        lines.append("  format:      \(r["format"]!)")
        lines.append("  dimensions:  \(r["width"]!) A-scans x \(r["height"]!) deep x \(r["frames"]!) B-scans")
        if let s = r["spacing_mm"] as? [String: Double] {
            lines.append(String(format: "  spacing:     %.5f mm deep, %.5f mm across, %.5f mm between B-scans",
                                s["depth"]!, s["width"]!, s["between_frames"]!))
        }
        for (key, label) in [("laterality", "laterality"), ("patient_id", "patient"), ("visit_id", "visit"),
                             ("scan_pattern", "scan"), ("acquired", "acquired"), ("device", "device"), ("fundus", "fundus"), ("layer_lines", "layers")] {
            if let value = r[key] { lines.append("  \(label):".padding(toLength: 15, withPad: " ", startingAt: 0) + "\(value)") }
        }
        if let range = r["value_range"] as? [Double] { lines.append("  values:      \(range[0]) ... \(range[1])") }
        if let names = r["layer_names"] as? [String] { lines.append("  layer names: \(names.joined(separator: ", "))") }
        for warning in r["warnings"] as? [String] ?? [] { lines.append("  warning:     \(warning)") }
        return lines.joined(separator: "\n")
    }
}

extension IntensityTransform: ExpressibleByArgument {}
