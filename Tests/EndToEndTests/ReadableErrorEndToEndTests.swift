import Foundation
import MIMSTestSupport
import Testing

/// No command prints a raw Foundation error: users see the file and the reason.
struct ReadableErrorEndToEndTests {
    /// Bad paths and bad set files through every command, as a user meets them.
    @Test func commandsNameTheFileAndTheReason() throws {
        let dir = try TemporaryDirectory()
        let shards = dir.path + "/shards"
        try FileManager.default.createDirectory(atPath: shards, withIntermediateDirectories: true)
        _ = try SyntheticDatasetWriterShim.ingest(into: shards, scratch: dir.path)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: shards + "/splits.json"))
        let cases: [(String, [String], String)] = [
            ("mims-split", ["report", shards], shards + "/splits.json"),
            ("mims-split", ["check", shards], shards + "/splits.json"),
            ("mims-ingest", ["verify", shards], shards + "/splits.json"),
            ("mims-split", ["report", dir.path + "/nothing"], dir.path + "/nothing"),
            ("mims-split", ["make", dir.path + "/nothing", "--seed", "1", "--train", "0.5", "--test", "0.5", "--out", dir.path + "/x"], dir.path + "/nothing"),
            ("mims-ingest", ["run", dir.path + "/none.yaml", "--out", dir.path + "/y"], dir.path + "/none.yaml"),
            ("mims-ingest", ["inspect", dir.path + "/none.vol"], dir.path + "/none.vol"),
        ]
        for (tool, arguments, named) in cases {
            let (status, output) = try runProduct(tool, arguments)
            #expect(status != 0, "\(tool) \(arguments)")
            #expect(output.contains(named), "\(tool) \(arguments): \(output)")
            #expect(!output.contains("Domain=") && !output.contains("Code="), "\(tool) \(arguments): \(output)")
        }
    }
}

/// A small real shard set for the command tests.
enum SyntheticDatasetWriterShim {
    static func ingest(into shards: String, scratch: String) throws -> Int {
        let (status, output) = try runProduct("mims-ingest", ["synth", "--dataset", "mmd", "--small", "--count", "6", "--out", scratch + "/src"])
        guard status == 0 else { throw NSError(domain: "synth", code: Int(status), userInfo: [NSLocalizedDescriptionKey: output]) }
        try FileManager.default.removeItem(atPath: shards)
        let run = try runProduct("mims-ingest", ["run", scratch + "/src/manifest.yaml", "--out", shards, "--log-format", "json"])
        return Int(run.status)
    }
}
