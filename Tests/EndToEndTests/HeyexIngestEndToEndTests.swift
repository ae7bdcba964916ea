import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// Heyex XML export folders through `mims-ingest run` as a user runs it, with a `filter:`
/// section; the shards' /meta read back with h5py against the XML read with ElementTree.
struct HeyexIngestEndToEndTests {
    /// The shipped example, manifests/heyex-xml.yaml, run on a synthetic export tree.
    @Test func shippedManifestRuns() throws {
        let dir = try TemporaryDirectory()
        let synth = try runProduct("mims-ingest", ["synth", "--dataset", "heyex-xml", "--small", "--count", "8", "--out", dir.path + "/exports"])
        #expect(synth.status == 0, "\(synth.output)")
        let result = try runProduct("mims-ingest", ["run", repositoryRoot + "/manifests/heyex-xml.yaml", "--out", dir.path + "/shards", "--log-format", "text"],
                                    environment: ["HEYEX_ROOT": dir.path + "/exports"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("8 files matched: 4 written"), "\(result.output)")
        #expect(result.output.contains("4 filtered out by filter:"), "\(result.output)")
    }

    @Test func ingestsFilteredExportsWithTheirMetadata() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/source", out = dir.path + "/shards"
        let synth = try runProduct("mims-ingest", ["synth", "--dataset", "heyex-xml", "--small", "--count", "12", "--seed", "4", "--out", source])
        #expect(synth.status == 0, "\(synth.output)")
        let manifestPath = source + "/manifest.yaml"
        try (try String(contentsOfFile: manifestPath, encoding: .utf8) + "filter: {laterality: OD}\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let result = try runProduct("mims-ingest", ["run", manifestPath, "--out", out, "--log-format", "text"])
        #expect(result.status == 0, "\(result.output)")

        let output = try run(["python3", repositoryRoot + "/Tests/Interop/heyex_shards.py", source, out])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: [String: Any]]])
        let sources = try #require(json["sources"]), records = try #require(json["records"])
        let right = sources.filter { $0.value["laterality"] as? String == "OD" }
        #expect(sources.count == 12 && right.count == 6)
        #expect(Set(records.values.compactMap { $0["source"] as? String }) == Set(right.keys))
        for (id, record) in records {
            let xml = try #require(sources[record["source"] as! String])
            for key in ["laterality", "patient_id", "scan_date", "scan_pattern", "device"] {
                #expect(record[key] as? String == xml[key] as? String, "\(id) \(key)")
            }
            #expect(record["patient"] as? String == xml["patient_id"] as? String, "patient: header groups by the XML's PatientID")
            let spacing = xml["spacing"] as! [Double], shape = xml["shape"] as! [Int]
            let stored = record["source_spacing_mm"] as! [Double], grid = record["spacing_mm"] as! [Double]
            #expect(stored[0] == spacing[0] && stored[1] == spacing[1] && abs(stored[2] - spacing[2]) < 1e-12, "\(id)")
            // After the resize to 224 x 224, spacing is the stored grid's: the same extent in more pixels.
            #expect(abs(grid[0] - spacing[0] * Double(shape[1]) / 224) < 1e-12 && abs(grid[1] - spacing[1] * Double(shape[2]) / 224) < 1e-12)
            #expect(grid[2] == stored[2])
            #expect(record["original_shape"] as? [Int] == shape && record["frames"] as? Int == shape[0])
        }
        // The left eyes are not gone: each is in rejected.jsonl with stage filter, and counted.
        let lines = try String(contentsOfFile: out + "/rejected.jsonl", encoding: .utf8).split(separator: "\n")
        let filtered = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(filtered.count == 6 && filtered.allSatisfy { $0["stage"] as? String == "filter" })
        #expect(Set(filtered.compactMap { $0["id"] as? String }) == Set(sources.keys).subtracting(right.keys))
        #expect(filtered.allSatisfy { ($0["reason"] as? String)?.contains("wants OD, the export records OS") == true })
        #expect(result.output.contains("12 files matched: 6 written"), "\(result.output)")
        #expect(result.output.contains("+ 0 rejected + 6 filtered out by filter:"), "\(result.output)")
        let verify = try runProduct("mims-ingest", ["verify", out])
        #expect(verify.status == 0, "\(verify.output)")
    }
}
