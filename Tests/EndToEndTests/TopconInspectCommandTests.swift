import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

struct TopconInspectCommandTests {
    /// `mims-ingest inspect` as a user runs it on both kinds.
    @Test func inspectCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-ingest").path), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        _ = try topconReference(["write", dir.path + "/a.fds", "fds", "16", "64", "32", "3", "1"])
        let fda = try TopconWriter(kind: .fda, width: 64, height: 32, samples: randomSamples(64 * 32 * 2, bits: 8, seed: 6), bitsPerPixel: 8).bytes()
        try Data(fda).write(to: URL(fileURLWithPath: dir.path + "/b.fda"))
        let result = try runProduct("mims-ingest", ["inspect", dir.path + "/a.fds", dir.path + "/b.fda", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]], "\(result.output)")
        #expect(reports.map { $0["format"] as? String } == ["topcon", "topcon"])
        #expect(reports[0]["laterality"] as? String == "OD" && reports[1]["laterality"] as? String == "OS")
        #expect(reports[0]["device"] as? String == "Topcon Maestro2" && reports[1]["device"] as? String == "Topcon 3D OCT-2000")
        #expect(reports[0]["frames"] as? Int == 3 && reports[1]["frames"] as? Int == 2)
        #expect(reports[1]["warnings"] as? [String] == ["chunks not read: @REPORT_INFO (30 bytes)"])
        let text = try runProduct("mims-ingest", ["inspect", dir.path + "/a.fds"])
        #expect(text.output.contains("  device:      Topcon Maestro2") && text.output.contains("  patient:     PY-77"))
    }
}
