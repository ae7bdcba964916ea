import Foundation
import MIMSCore
import MIMSTestSupport
import Testing

/// The one CSV reader and writer (label tables, scores files, compare) against Python's csv module.
struct CSVTextTests {
    static let awkward: [[String]] = [
        ["id", "patient", "label", "score"],
        ["CRC_DX_TEST_MSS/blk-1, copy", "TCGA-AA-1000", "", "0.5"],
        ["say \"hi\"", "line\nbreak", "1", "1e-6"],
        ["plain", "", "0", "0.250000"],
    ]

    @Test func writtenRowsReadBackAndMatchPython() throws {
        let text = Self.awkward.map { $0.map(CSVText.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        #expect(CSVText.rows(text) == Self.awkward)
        let dir = try TemporaryDirectory()
        try text.write(toFile: dir.path + "/t.csv", atomically: true, encoding: .utf8)
        let parsed = try run(["python3", "-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))", dir.path + "/t.csv"])
        let python = try #require(try JSONSerialization.jsonObject(with: Data(parsed.utf8)) as? [[String]])
        #expect(python == Self.awkward, "Python's csv module reads \(python)")
        // And what Python writes, CSVText reads.
        let written = try run(["python3", "-c", "import csv, json, sys; w = csv.writer(sys.stdout); [w.writerow(r) for r in json.loads(sys.argv[1])]",
                               String(decoding: try JSONSerialization.data(withJSONObject: Self.awkward), as: UTF8.self)])
        #expect(CSVText.rows(written) == Self.awkward)
    }
}
