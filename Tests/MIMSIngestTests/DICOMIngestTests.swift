import Foundation
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// The shipped DICOM manifest's settings end to end on objects pydicom wrote: every OCT object in
/// a shard with its PatientID as patient and the central B-scans pydicom decodes, the Ophthalmic
/// Photography object rejected by name.
struct DICOMIngestTests {
    @Test func dicomObjectsIngest() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        let script = repositoryRoot + "/Tests/Interop/dicom_reference.py"
        var expected: [String: (patient: String, sha: String)] = [:]
        for index in 0..<7 {
            let folder = index % 2 == 0 ? "normal" : "DME"
            try FileManager.default.createDirectory(atPath: source + "/" + folder, withIntermediateDirectories: true)
            var spec: [String: Any] = [
                "frames": 32, "rows": 64, "columns": 48, "bits_stored": index % 3 == 0 ? 12 : 8, "seed": index, "patient_id": "P\(index / 2)",
                "study_date": "20240102", "manufacturer": "Acme", "model": "OCT 9", "series_description": "Macula", "photometric": "MONOCHROME2",
                "pixel_spacing": [0.0039, 0.047], "slice_spacing": 0.19, "laterality": index % 2 == 0 ? "R" : "L", "acquired": "20240102101500",
            ]
            if index == 6 { spec["sop_class"] = "1.2.840.10008.5.1.4.1.1.77.1.5.1" }
            let path = source + "/\(folder)/scan\(index).dcm"
            _ = try run(["python3", script, "write", path, String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)])
            if index < 6 {
                let reference = try JSONSerialization.jsonObject(with: Data(try run(["python3", script, "read", path, "30"]).utf8)) as! [String: Any]
                expected["\(folder)/scan\(index)"] = ("P\(index / 2)", reference["central_sha256"] as! String)
            }
        }
        // The shipped manifest, without resizing so the frames compare with pydicom's.
        var text = try String(contentsOfFile: repositoryRoot + "/manifests/dicom-opt.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "  size: [224, 224]\n", with: "")
        try text.write(toFile: dir.path + "/manifest.yaml", atomically: true, encoding: .utf8)
        let manifest = try ManifestParser.load(path: dir.path + "/manifest.yaml", environment: ["DICOM_OCT_ROOT": source])
        let report = try IngestRunner(manifest: manifest, output: out,
                                      options: .init(jobs: 2, resume: false, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z"),
                                      reporter: ProgressReporter(format: .json)).run()
        #expect(report.written == 6)
        let rejected = try String(contentsOfFile: out + "/rejected.jsonl", encoding: .utf8)
        #expect(rejected.contains("scan6") && rejected.contains("Ophthalmic Photography 8 Bit Image Storage (1.2.840.10008.5.1.4.1.1.77.1.5.1)"))
        var seen = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: out) where name.hasSuffix(".h5") {
            let reader = try ShardReader(path: out + "/" + name)
            for record in reader.records {
                let want = try #require(expected[record.id], "\(record.id)")
                #expect(record.patient == want.patient && record.frameCount == 30)
                #expect(SHA256.hex(of: try reader.frames(start: record.frameStart, count: record.frameCount)) == want.sha, "\(record.id)")
                seen += 1
            }
        }
        #expect(seen == 6)
    }
}
