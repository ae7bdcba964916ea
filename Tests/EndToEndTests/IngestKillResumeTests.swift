import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing

/// `mims-ingest run` killed with SIGKILL at random moments, then `--resume`d, ends with exactly the
/// shards of an uninterrupted run: no record lost, none twice, no partial shard under a final name.
struct KillResumeTests {
    var binary: String { productURL("mims-ingest").path }

    func start(_ arguments: [String]) throws -> Process { try startProduct("mims-ingest", arguments, environment: ["SOURCE_DATE_EPOCH": "1700000000"]) }

    @Test func killedRunsResumeToTheUninterruptedResult() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .crcMSI, count: 600, seed: 8).write(to: source)
        let manifest = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
            .replacingOccurrences(of: "records_per_shard: 1000", with: "records_per_shard: 7")
        try manifest.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)

        let full = try start(["run", source + "/manifest.yaml", "--out", dir.path + "/full", "--log-format", "json"])
        full.waitUntilExit()
        #expect(full.terminationStatus == 0)

        var random = SplitMix64(seed: 99)
        var kills = 0
        for attempt in 0..<8 {
            let run = try start(["run", source + "/manifest.yaml", "--out", dir.path + "/cut", "--resume", "--log-format", "json"])
            usleep(useconds_t(30_000 + attempt * 15_000) + useconds_t(random.next() % 60_000))
            guard run.isRunning else {
                run.waitUntilExit()
                break
            }
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            kills += 1
            // Whatever the moment, no shard under its final name is partial (a kill during start-up
            // may come before the folder exists).
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/cut")) ?? [] where name.hasSuffix(".h5") {
                #expect(ShardVerifier.verify(path: dir.path + "/cut/" + name, checkPixels: false).isValid, "\(name)")
            }
        }
        let last = try start(["run", source + "/manifest.yaml", "--out", dir.path + "/cut", "--resume", "--log-format", "json"])
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        #expect(kills >= 2, "the run finished before it could be killed; make the dataset larger")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/full").filter { $0.hasSuffix(".h5") }.sorted()
        let resumed = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/cut").filter { $0.hasSuffix(".h5") || $0.hasSuffix(".part") }.sorted()
        #expect(resumed == names)
        for name in names {
            #expect(FileManager.default.contents(atPath: dir.path + "/full/" + name) == FileManager.default.contents(atPath: dir.path + "/cut/" + name), "\(name)")
        }
        let verify = try start(["verify", dir.path + "/cut"])
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0)
    }
}
