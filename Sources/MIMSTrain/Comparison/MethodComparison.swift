import Foundation

/// The paper's Table 1 from run folders: test AUROC mean ± sd over seeds for every method (row)
/// and dataset (column), each method's average over its datasets, and paired DeLong tests of every
/// two methods on each dataset's test records.
public struct MethodComparison: Sendable {
    public struct Cell: Sendable {
        public var runs: [ComparedRun]
        public var aurocs: [Double] { runs.compactMap(\.auroc) }
        public var mean: Double? { Metrics.meanAndSD(aurocs).mean }
        /// Sample standard deviation (n − 1); nil with fewer than two seeds.
        public var sd: Double? {
            Metrics.meanAndSD(aurocs).sd
        }
    }

    public struct Pair: Sendable {
        public var dataset: String
        public var first: String
        public var second: String
        public var records: Int
        /// Nil when the test is not defined (more than two classes, or one class only).
        public var test: DeLongTest?
        public var note: String?
    }

    /// Methods and datasets in the order they first appear among the runs given.
    public var methods: [String] = []
    public var datasets: [String] = []
    public var cells: [String: [String: Cell]] = [:]
    public var pairs: [Pair] = []

    /// Groups `runs` and, unless `paired` is false, tests every two methods on each dataset (each
    /// method's score of a record being its mean over the method's seeds).
    public init(runs: [ComparedRun], paired: Bool = true) throws {
        guard !runs.isEmpty else { throw ComparisonError.nothingToCompare }
        for run in runs {
            if !methods.contains(run.method) { methods.append(run.method) }
            if !datasets.contains(run.dataset) { datasets.append(run.dataset) }
            cells[run.method, default: [:]][run.dataset, default: Cell(runs: [])].runs.append(run)
        }
        guard paired else { return }
        for dataset in datasets {
            let present = methods.filter { cells[$0]?[dataset] != nil }
            guard present.count > 1 else { continue }
            var scores: [String: [String: (label: Int, score: Double)]] = [:]
            for method in present { scores[method] = try Self.meanScores(cells[method]![dataset]!.runs) }
            for (i, a) in present.enumerated() {
                for b in present[(i + 1)...] {
                    pairs.append(try Self.pair(dataset: dataset, a, scores[a]!, b, scores[b]!,
                                               classes: max(cells[a]![dataset]!.runs[0].classes, cells[b]![dataset]!.runs[0].classes)))
                }
            }
        }
    }

    /// Each record's score averaged over the runs (seeds), which must all hold the same records.
    static func meanScores(_ runs: [ComparedRun]) throws -> [String: (label: Int, score: Double)] {
        var total: [String: (label: Int, score: Double)] = [:]
        for (index, run) in runs.enumerated() {
            let scores = try run.scores()
            if index > 0 && Set(scores.keys) != Set(total.keys) {
                throw ComparisonError.differentRecords(dataset: run.dataset, first: runs[0].folder, second: run.folder,
                                                       detail: "\(total.count) and \(scores.count) test records, not the same ids")
            }
            for (id, value) in scores { total[id] = (value.label, (total[id]?.score ?? 0) + value.score) }
        }
        return total.mapValues { ($0.label, $0.score / Double(runs.count)) }
    }

    static func pair(dataset: String, _ a: String, _ sa: [String: (label: Int, score: Double)], _ b: String,
                     _ sb: [String: (label: Int, score: Double)], classes: Int) throws -> Pair {
        guard Set(sa.keys) == Set(sb.keys) else {
            let only = Set(sa.keys).symmetricDifference(sb.keys).sorted().prefix(3).joined(separator: ", ")
            throw ComparisonError.differentRecords(dataset: dataset, first: a, second: b, detail: "e.g. \(only)")
        }
        if let id = sa.keys.first(where: { sa[$0]!.label != sb[$0]!.label }) {
            throw ComparisonError.differentRecords(dataset: dataset, first: a, second: b, detail: "\(id) has label \(sa[id]!.label) in one, \(sb[id]!.label) in the other")
        }
        guard classes == 2 else {
            return Pair(dataset: dataset, first: a, second: b, records: sa.count, test: nil, note: "paired test for two classes only")
        }
        let ids = sa.keys.sorted()
        let test = DeLongTest(scoresA: ids.map { sa[$0]!.score }, scoresB: ids.map { sb[$0]!.score }, labels: ids.map { sa[$0]!.label })
        return Pair(dataset: dataset, first: a, second: b, records: ids.count, test: test, note: test == nil ? "one class only" : nil)
    }

    /// A method's mean over the datasets it was run on (the paper's "Avg." column).
    public func average(_ method: String) -> Double? {
        let means = datasets.compactMap { cells[method]?[$0]?.mean }
        return means.isEmpty ? nil : means.reduce(0, +) / Double(means.count)
    }

    // MARK: - Rendering

    public enum Format: String, Sendable, CaseIterable {
        case markdown, html, csv
    }

    static func number(_ value: Double?, _ digits: Int = 3) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }

    func cellText(_ cell: Cell?) -> String {
        guard let cell, let mean = cell.mean else { return "-" }
        return Self.number(mean) + (cell.sd.map { " ± " + Self.number($0) } ?? "") + " (\(cell.aurocs.count))"
    }

    public func markdown() -> String {
        var md = "| method | " + datasets.joined(separator: " | ") + " | average |\n"
        md += "| --- |" + String(repeating: " --- |", count: datasets.count + 1) + "\n"
        for method in methods {
            let partial = datasets.contains { cells[method]?[$0] == nil } ? " (of \(datasets.filter { cells[method]?[$0] != nil }.count))" : ""
            md += "| \(method) | " + datasets.map { cellText(cells[method]?[$0]) }.joined(separator: " | ") + " | \(Self.number(average(method)))\(partial) |\n"
        }
        md += "\nTest AUROC, mean ± sample standard deviation over seeds (number of runs)"
        md += "; with more than two classes the macro average of the one-vs-rest AUROCs.\n"
        guard !pairs.isEmpty else { return md }
        md += "\n| dataset | method A | method B | records | AUROC A | AUROC B | A − B | 95% interval | p (DeLong) |\n"
        md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for pair in pairs {
            if let t = pair.test {
                md += "| \(pair.dataset) | \(pair.first) | \(pair.second) | \(pair.records) | \(Self.number(t.aurocA)) | \(Self.number(t.aurocB)) | "
                md += "\(Self.number(t.difference)) | [\(Self.number(t.lower)), \(Self.number(t.upper))] | \(Self.pValue(t.p)) |\n"
            } else {
                md += "| \(pair.dataset) | \(pair.first) | \(pair.second) | \(pair.records) | | | | | \(pair.note ?? "") |\n"
            }
        }
        md += "\nPaired comparisons on the same test records, each method's score of a record being its mean over the method's seeds.\n"
        return md
    }

    static func pValue(_ p: Double) -> String { p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p) }

    /// Long form: one row per (method, dataset), then one per pair.
    public func csv() -> String {
        var text = "kind,dataset,method,other,runs,auroc,sd,difference,ci_low,ci_high,p\n"
        func f(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        for method in methods {
            for dataset in datasets {
                guard let cell = cells[method]?[dataset] else { continue }
                text += "auroc,\(RunOutputs.csv(dataset)),\(RunOutputs.csv(method)),,\(cell.aurocs.count),\(f(cell.mean)),\(f(cell.sd)),,,,\n"
            }
            text += "average,,\(RunOutputs.csv(method)),,,\(f(average(method))),,,,,\n"
        }
        for pair in pairs {
            let t = pair.test
            text += "pair,\(RunOutputs.csv(pair.dataset)),\(RunOutputs.csv(pair.first)),\(RunOutputs.csv(pair.second)),\(pair.records),,,"
            text += "\(f(t?.difference)),\(f(t?.lower)),\(f(t?.upper)),\(t.map { String(format: "%.6g", $0.p) } ?? "")\n"
        }
        return text
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .markdown: markdown()
        case .csv: csv()
        case .html: HTMLReport.render(title: "mims-train compare", markdownLike: "# Methods compared\n\n" + markdown())
        }
    }
}
