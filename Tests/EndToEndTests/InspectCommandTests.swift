import Foundation
import MIMSTestSupport
import Testing

/// `mims-ingest inspect` as a user runs it: text and JSON, one error line per bad file, exit 1.
struct InspectCommandTests {
    var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mims-ingest").path
    }

    func runTool(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A header with NaN and infinite spacing still gives valid JSON for every file.
    @Test func nonFiniteHeaderValuesStayValidJSON() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: octFixtures + "/line-willis-0.vol")))
        withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { bytes.replaceSubrange(24..<32, with: $0) }       // ScaleX
        withUnsafeBytes(of: Double.infinity.bitPattern.littleEndian) { bytes.replaceSubrange(40..<48, with: $0) }  // ScaleZ
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/nan.vol"))
        let result = try runTool(["inspect", dir.path + "/nan.vol", octFixtures + "/circle-valid.vol", "--json"])
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]], "\(result.out) \(result.err)")
        #expect(reports.count == 2)
        #expect(reports[1]["format"] as? String == "spectralis-vol")
        if let spacing = reports[0]["spacing_mm"] as? [String: Any] {
            #expect(spacing["width"] is NSNull && spacing["depth"] is NSNull)
        }
    }

    /// A Heyex export by its folder and by its .xml file, next to a .vol: the same fields for both formats.
    @Test func inspectsHeyexExportFolders() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        var writer = heyexRealSizeWriter(frames: 5, width: 64, height: 48)
        writer.laterality = "R"
        try writer.write(to: dir.path + "/exam")
        let vol = octFixtures + "/line-willis-0.vol"
        let result = try runTool(["inspect", dir.path + "/exam", dir.path + "/exam/" + writer.xmlName, vol, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]])
        #expect(reports.count == 3)
        for report in reports.prefix(2) {
            #expect(report["format"] as? String == "heyex-xml")
            #expect(report["width"] as? Int == 64 && report["height"] as? Int == 48 && report["frames"] as? Int == 5)
            #expect(report["laterality"] as? String == "OD" && report["patient_id"] as? String == writer.patientID)
            let spacing = try #require(report["spacing_mm"] as? [String: Double])
            #expect(spacing["width"] == writer.scaleX && spacing["depth"] == writer.scaleY)
            #expect(abs(spacing["between_frames"]! - writer.distance) < 1e-12)
            #expect(report["device"] as? String == "\(writer.manufacturer) \(writer.model)")
            #expect(report["layer_names"] as? [String] == ["ILM", "BM"] && report["fundus"] as? String == "768x768")
        }
        for key in ["format", "width", "height", "frames", "spacing_mm", "laterality", "device"] {
            #expect(reports[2][key] != nil, "the .vol report has \(key)")
        }
    }

    @Test func inspectsRealFilesAndReportsBadOnes() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-ingest first")
        let vol = octFixtures + "/line-willis-0.vol", e2e = octFixtures + "/e2e_minimized.E2E", empty = octFixtures + "/empty.vol"
        let result = try runTool(["inspect", vol, e2e, empty, repositoryRoot + "/Package.swift", "--json"])
        #expect(result.status == 1)
        let errors = result.err.split(separator: "\n")
        #expect(errors.count == 2)
        #expect(errors[0] == "error: \(empty): file is empty")
        #expect(errors[1].hasPrefix("error: \(repositoryRoot)/Package.swift: unrecognized file"))
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]])
        #expect(reports.count == 4)
        #expect(reports[0]["format"] as? String == "spectralis-vol")
        #expect(reports[0]["width"] as? Int == 768 && reports[0]["height"] as? Int == 496 && reports[0]["frames"] as? Int == 1)
        #expect(reports[0]["laterality"] as? String == "OD")
        #expect(reports[0]["patient_id"] as? String == "01234")
        #expect(reports[0]["scan_pattern"] as? String == "line (1)")
        #expect(reports[1]["format"] as? String == "heidelberg-e2e")
        #expect(reports[1]["laterality"] as? String == "OS")
        #expect(reports[2]["error"] as? String == "\(empty): file is empty")

        let text = try runTool(["inspect", vol])
        #expect(text.status == 0)
        #expect(text.out.contains("dimensions:  768 A-scans x 496 deep x 1 B-scans"))
    }
}
