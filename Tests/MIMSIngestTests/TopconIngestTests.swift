import Foundation
import MIMSImage
import MIMSOCT
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// manifests/topcon.yaml over written `.fds` and `.fda` files, the shards read back with h5py.
struct TopconIngestTests {
    @Test func shippedManifestIngestsBothKinds() throws {
        let dir = try TemporaryDirectory()
        let root = dir.path + "/topcon", out = dir.path + "/out"
        var expected: [String: (patient: String, spacing: [Double])] = [:]
        for (index, (folder, kind)) in [("normal", TopconWriter.Kind.fds), ("normal", .fda), ("AMD", .fds), ("AMD", .fda)].enumerated() {
            var random = TestRandom(state: UInt64(index + 1))
            let (width, height, frames) = (64, 48, 32)
            var writer = TopconWriter(kind: kind, width: width, height: height,
                                      samples: (0..<width * height * frames).map { _ in UInt16(truncatingIfNeeded: random.next()) })
            writer.patientID = "TP-\(index)"
            writer.scanSize = (x: 3.0 + Double(index), y: 4.5)
            let name = "\(folder)/eye-\(index)." + (kind == .fds ? "fds" : "fda")
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            try Data(try writer.bytes()).write(to: URL(fileURLWithPath: root + "/" + name))
            expected[name] = (writer.patientID, [writer.axialResolutionMicrons / 1000, writer.scanSize.x / Double(width), writer.scanSize.y / Double(frames)])
        }
        let manifest = try ManifestParser.load(path: repositoryRoot + "/manifests/topcon.yaml", environment: ["TOPCON_ROOT": root])
        let report = try IngestRunner(manifest: manifest, output: out,
                                      options: .init(jobs: 2, resume: false, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z"),
                                      reporter: ProgressReporter(format: .json)).run()
        #expect(report.written == 4 && report.rejections.isEmpty && report.problems.isEmpty)
        var seen = 0
        for shard in try FileManager.default.contentsOfDirectory(atPath: out) where shard.hasSuffix(".h5") {
            let output = try run(["python3", repositoryRoot + "/Tests/Interop/read_shard.py", out + "/" + shard])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let sources = try #require(json["sources"] as? [String]), patients = try #require(json["patients"] as? [String])
            let spacing = try #require(json["spacing_mm"] as? [[Double]]), sourceSpacing = try #require(json["source_spacing_mm"] as? [[Double]])
            for (index, source) in sources.enumerated() {
                let truth = try #require(expected[source], "\(source)")
                #expect(patients[index] == truth.patient)
                #expect(zip(sourceSpacing[index], truth.spacing).allSatisfy { abs($0 - $1) < 1e-12 }, "\(sourceSpacing[index]) vs \(truth.spacing)")
                // The stored frames are 224 x 224 resizes of 48 x 64 B-scans: the grid's pixels are 48/224 and 64/224 of the source's.
                let grid = [truth.spacing[0] * 48 / 224, truth.spacing[1] * 64 / 224, truth.spacing[2]]
                #expect(zip(spacing[index], grid).allSatisfy { abs($0 - $1) < 1e-12 }, "\(spacing[index]) vs \(grid)")
                #expect((json["labels"] as? [Int])?[index] == (source.hasPrefix("AMD/") ? 1 : 0))
                #expect(((json["records"] as? [[String: Any]])?[index]["frame_count"] as? Int) == 30)
                seen += 1
            }
        }
        #expect(seen == 4)
    }
}
