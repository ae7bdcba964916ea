import Foundation
import MIMSCore
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// `mims-train compare` (issue 17, "Comparing methods"): the table against the runs' eval files and
/// the paired DeLong test against an independent Python implementation (pairwise structural
/// components, O(m·n), no midranks), on run folders written here, and on a real `--seeds` run.
struct CompareCommandTests {
    /// Writes a finished run folder: run.json with a pipeline of `method`, eval-test.json with
    /// `auroc`, scores-test.csv with `scores` for records r0, r1, ... labelled `labels`.
    static func run(_ folder: String, method: String, dataset: String, seed: Int, auroc: Double, scores: [Double], labels: [Int]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let pipeline = "name: \(method)\nmodel: mims\nbackbone: {depth: 18, feature_layer: layer2}\ninput_size: [40, 40]\nmsconv: {kernels: [[2, 3]], scales: [1.0]}\n"
        let record = try JSONSerialization.data(withJSONObject: ["pipeline": pipeline, "dataset": dataset, "seed": String(seed)])
        try record.write(to: URL(fileURLWithPath: folder + "/run.json"))
        try "{\"auroc\": \(auroc), \"classes\": 2}\n".write(toFile: folder + "/eval-test.json", atomically: true, encoding: .utf8)
        var csv = "id,patient,label,score\n"
        for (i, (s, l)) in zip(scores, labels).enumerated() { csv += "\"r\(i), \(l)\",P\(i / 2),\(l),\(String(format: "%.6f", s))\n" }
        try csv.write(toFile: folder + "/scores-test.csv", atomically: true, encoding: .utf8)
    }

    static let independent = """
    import csv, json, math, sys
    def load(folder):
        return {r["id"]: (int(r["label"]), float(r["score"])) for r in csv.DictReader(open(folder + "/scores-test.csv"))}
    def mean_scores(folders):
        runs = [load(f) for f in folders]
        return {k: (runs[0][k][0], sum(r[k][1] for r in runs) / len(runs)) for k in runs[0]}
    a, b = mean_scores(sys.argv[1].split(",")), mean_scores(sys.argv[2].split(","))
    ids = sorted(a); labels = [a[k][0] for k in ids]
    def psi(x, y): return 1.0 if x > y else 0.5 if x == y else 0.0
    def parts(s):
        pos = [s[k][1] for k in ids if s[k][0] == 1]; neg = [s[k][1] for k in ids if s[k][0] != 1]
        v10 = [sum(psi(x, y) for y in neg) / len(neg) for x in pos]
        v01 = [sum(psi(x, y) for x in pos) / len(pos) for y in neg]
        return sum(v10) / len(v10), v10, v01
    def cov(p, q):
        mp, mq = sum(p) / len(p), sum(q) / len(q)
        return sum((x - mp) * (y - mq) for x, y in zip(p, q)) / (len(p) - 1)
    (ta, a10, a01), (tb, b10, b01) = parts(a), parts(b)
    var = (cov(a10, a10) + cov(b10, b10) - 2 * cov(a10, b10)) / len(a10) + (cov(a01, a01) + cov(b01, b01) - 2 * cov(a01, b01)) / len(a01)
    se = math.sqrt(var); d = ta - tb
    print(json.dumps({"a": ta, "b": tb, "d": d, "lo": d - 1.959963984540054 * se, "hi": d + 1.959963984540054 * se,
                      "p": math.erfc(abs(d) / se / math.sqrt(2))}))
    """

    @Test func tableAndPairedTestAgreeWithIndependentComputation() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-train").path), "build mims-train first")
        let dir = try TemporaryDirectory()
        var random = SplitMix64(seed: 9)
        let labels = (0..<150).map { $0 % 3 == 0 ? 1 : 0 }
        // Method B is A plus noise, so the two are correlated as real methods on one test set are.
        let base = labels.map { Double($0) * 0.8 + random.unit() }
        func noisy(_ amount: Double) -> [Double] { base.map { $0 + random.unit() * amount } }
        let folders = ["a1", "a2", "b1", "b2", "a-other"].map { dir.path + "/" + $0 }
        let aurocs = [0.81, 0.79, 0.70, 0.74, 0.66]
        try Self.run(folders[0], method: "mims", dataset: "cirrus", seed: 1, auroc: aurocs[0], scores: noisy(0.3), labels: labels)
        try Self.run(folders[1], method: "mims", dataset: "cirrus", seed: 2, auroc: aurocs[1], scores: noisy(0.3), labels: labels)
        try Self.run(folders[2], method: "mi-pre", dataset: "cirrus", seed: 1, auroc: aurocs[2], scores: noisy(3.0), labels: labels)
        try Self.run(folders[3], method: "mi-pre", dataset: "cirrus", seed: 2, auroc: aurocs[3], scores: noisy(3.0), labels: labels)
        try Self.run(folders[4], method: "mims", dataset: "spectralis", seed: 1, auroc: aurocs[4], scores: noisy(0.5), labels: labels)

        let compared = try runProduct("mims-train", ["compare"] + folders + ["--format", "markdown"])
        try #require(compared.status == 0, "compare: \(compared.output)")
        let lines = compared.output.split(separator: "\n").map(String.init)
        #expect(lines[0] == "| method | cirrus | spectralis | average |", "\(compared.output)")
        // mims on cirrus: mean 0.800, sd of (0.81, 0.79) = 0.01414; its average over both datasets (0.80 + 0.66) / 2.
        #expect(lines[2] == "| mims | 0.800 ± 0.014 (2) | 0.660 (1) | 0.730 |", "\(lines[2])")
        #expect(lines[3] == "| mi-pre | 0.720 ± 0.028 (2) | - | 0.720 (of 1) |", "\(lines[3])")

        let expected = try MimsTorch.python(["-c", Self.independent, folders[0] + "," + folders[1], folders[2] + "," + folders[3]])
        try #require(expected.status == 0, "independent DeLong: \(expected.error)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(expected.output.utf8)) as? [String: Double])
        let csv = try runProduct("mims-train", ["compare"] + folders + ["--format", "csv", "--out", dir.path + "/table.csv"])
        try #require(csv.status == 0, "compare --format csv: \(csv.output)")
        let rows = try String(contentsOfFile: dir.path + "/table.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let pair = try #require(rows.first { $0[0] == "pair" }, "\(rows)")
        #expect(pair[1] == "cirrus" && pair[2] == "mims" && pair[3] == "mi-pre" && pair[4] == "150")
        for (column, key) in [(7, "d"), (8, "lo"), (9, "hi")] {
            #expect(abs(Double(pair[column])! - reference[key]!) < 2e-6, "\(key): \(pair[column]) against \(reference[key]!)")
        }
        #expect(abs(Double(pair[10])! / reference["p"]! - 1) < 1e-4, "p: \(pair[10]) against \(reference["p"]!)")
        #expect(reference["p"]! < 0.05 && reference["d"]! > 0, "the noisier method should lose clearly here")
        let test = try #require(DeLongTest(scoresA: base, scoresB: base, labels: labels))
        #expect(test.difference == 0 && test.p == 1, "a method against itself")
    }

    @Test func refusesRunsItCannotCompare() throws {
        let dir = try TemporaryDirectory()
        let labels = [0, 1, 0, 1]
        try Self.run(dir.path + "/a", method: "mims", dataset: "cirrus", seed: 1, auroc: 0.9, scores: [0.1, 0.8, 0.3, 0.6], labels: labels)
        try Self.run(dir.path + "/b", method: "mi-pre", dataset: "cirrus", seed: 1, auroc: 0.8, scores: [0.2, 0.7, 0.4], labels: [0, 1, 0])
        let different = try runProduct("mims-train", ["compare", dir.path + "/a", dir.path + "/b"])
        #expect(different.status != 0 && different.output.contains("tested on different records") && different.output.contains("mims and mi-pre"),
                "\(different.output)")
        try FileManager.default.createDirectory(atPath: dir.path + "/unfinished", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir.path + "/a/run.json", toPath: dir.path + "/unfinished/run.json")
        let unfinished = try runProduct("mims-train", ["compare", dir.path + "/a", dir.path + "/unfinished"])
        #expect(unfinished.status != 0 && unfinished.output.contains("unfinished: not a finished mims-train run: no eval-test.json"), "\(unfinished.output)")
        let missing = try runProduct("mims-train", ["compare", dir.path + "/nowhere"])
        #expect(missing.status != 0 && missing.output.contains("nowhere: not a finished mims-train run: no such folder"), "\(missing.output)")
    }

    /// A real `--seeds` parent: its seed folders are the method's runs, their AUROCs those their
    /// eval-test.json files hold.
    @Test func readsASeedsRun() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        let train = try runProduct("mims-train", ["--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/run",
                                                  "--seeds", "1,2", "--iterations", "2", "--plain", "--no-report"])
        try #require(train.status == 0, "train: \(train.output)")
        let compared = try runProduct("mims-train", ["compare", dir.path + "/run", "--format", "csv"])
        try #require(compared.status == 0, "compare: \(compared.output)")
        let values = try [1, 2].map { seed -> Double in
            let data = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/run/seed-\(seed)/eval-test.json"))
            return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["auroc"] as? Double)
        }
        let row = try #require(compared.output.split(separator: "\n").first { $0.hasPrefix("auroc,") }).split(separator: ",", omittingEmptySubsequences: false)
        #expect(row[2] == "tiny" && row[4] == "2", "\(row)")
        #expect(abs(Double(row[5])! - (values[0] + values[1]) / 2) < 1e-6, "\(row) against \(values)")
    }
}
