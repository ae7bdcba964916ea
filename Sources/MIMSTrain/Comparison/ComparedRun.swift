import Foundation
import MIMSCore

/// One training run as `mims-train compare` reads it from its folder: the method (the pipeline's
/// `name`) and dataset from `run.json`, its test AUROC from `eval-test.json`, and on demand its
/// per-record test scores from `scores-test.csv`.
public struct ComparedRun: Sendable {
    public var folder: String
    public var method: String
    public var model: String
    public var dataset: String
    public var seed: String
    public var classes: Int
    public var auroc: Double?

    /// The runs under `path`: the run itself when it holds run.json, else its `seed-*` folders
    /// (a `--seeds` run), in seed order.
    public static func load(_ path: String) throws -> [ComparedRun] {
        let folder = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ComparisonError.notARun(path: folder, reason: "no such folder")
        }
        if FileManager.default.fileExists(atPath: folder + "/" + RunRecord.fileName) { return [try ComparedRun(folder: folder)] }
        let seeds = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("seed-") }
            .sorted { (Int($0.dropFirst(5)) ?? .max, $0) < (Int($1.dropFirst(5)) ?? .max, $1) }
        guard !seeds.isEmpty else { throw ComparisonError.notARun(path: folder, reason: "no run.json and no seed-* run folders") }
        return try seeds.map { try ComparedRun(folder: folder + "/" + $0) }
    }

    init(folder: String) throws {
        guard let record = try RunRecord.read(folder: folder) else { throw ComparisonError.notARun(path: folder, reason: "no run.json") }
        guard let text = record.fields["pipeline"], let pipeline = try? Pipeline.parse(text, file: folder + "/run.json (pipeline)") else {
            throw ComparisonError.notARun(path: folder, reason: "run.json holds no readable pipeline")
        }
        let evalPath = folder + "/eval-test.json"
        guard let data = FileManager.default.contents(atPath: evalPath) else {
            throw ComparisonError.notARun(path: folder, reason: "no eval-test.json (the run has not finished, or was stopped before its test evaluation; --resume it)")
        }
        guard let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ComparisonError.notARun(path: evalPath, reason: "not a JSON object")
        }
        self.folder = folder
        method = pipeline.name
        model = pipeline.variant.rawValue
        dataset = record.fields["dataset"] ?? "?"
        seed = record.fields["seed"] ?? "?"
        classes = (summary["classes"] as? Int) ?? 2
        auroc = summary["auroc"] as? Double
    }

    /// id -> (label, score) of the test records.
    public func scores() throws -> [String: (label: Int, score: Double)] {
        let path = folder + "/scores-test.csv"
        guard let data = FileManager.default.contents(atPath: path) else { throw ComparisonError.notARun(path: folder, reason: "no scores-test.csv") }
        let lines = CSVText.rows(String(decoding: data, as: UTF8.self)).filter { $0 != [""] }
        guard let header = lines.first, let id = header.firstIndex(of: "id"),
              let label = header.firstIndex(of: "label"), let score = header.firstIndex(of: "score") else {
            throw ComparisonError.notARun(path: path, reason: "no id, label and score columns")
        }
        var result: [String: (label: Int, score: Double)] = [:]
        for (number, line) in lines.dropFirst().enumerated() {
            let f = line
            guard f.count == header.count, let l = Int(f[label]), let s = Double(f[score]) else {
                throw ComparisonError.notARun(path: path, reason: "line \(number + 2) is not id,patient,label,score")
            }
            result[f[id]] = (l, s)
        }
        return result
    }

}

/// Why runs cannot be compared.
public enum ComparisonError: Error, CustomStringConvertible, Equatable {
    case notARun(path: String, reason: String)
    case differentRecords(dataset: String, first: String, second: String, detail: String)
    case nothingToCompare

    public var description: String {
        switch self {
        case let .notARun(path, reason): "\(path): not a finished mims-train run: \(reason)"
        case let .differentRecords(dataset, first, second, detail):
            "\(dataset): \(first) and \(second) were tested on different records (\(detail)); a paired comparison needs the same test set"
        case .nothingToCompare: "no runs given"
        }
    }
}
