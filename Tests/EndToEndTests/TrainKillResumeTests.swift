import Foundation
import MIMSCore
import MIMSIngest
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// `mims-train` killed with SIGKILL at random moments and rerun with `--resume` ends with exactly
/// the checkpoint of an uninterrupted run, byte for byte; at every kill the checkpoint on disk is
/// whole and its state file exists.
struct TrainKillResumeTests {
    var binary: String { productURL("mims-train").path }

    func start(_ arguments: [String]) throws -> Process { try startProduct("mims-train", arguments, environment: [:]) }

    @Test func killedTrainingResumesToTheUninterruptedCheckpoint() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = TrainingFixtures.pipelineText
            .replacingOccurrences(of: "iterations: 6", with: "iterations: 40")
            .replacingOccurrences(of: "eval_every: 3", with: "eval_every: 40")
        try pipeline.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        func arguments(_ run: String) -> [String] {
            ["--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/" + run, "--seed", "5", "--no-report", "--plain", "--resume"]
        }
        let full = try start(arguments("full"))
        full.waitUntilExit()
        #expect(full.terminationStatus == 0)

        var random = SplitMix64(seed: 17)
        var kills = 0
        for _ in 0..<6 {
            let run = try start(arguments("cut"))
            usleep(useconds_t(150_000 + random.next() % 500_000))
            guard run.isRunning else {
                run.waitUntilExit()
                break
            }
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            kills += 1
            let path = dir.path + "/cut/checkpoint.safetensors"
            if FileManager.default.fileExists(atPath: path) {
                let loaded = try Checkpoint.read(path)
                #expect(FileManager.default.fileExists(atPath: try Checkpoint.statePath(of: path, loaded: loaded)))
            }
        }
        let last = try start(arguments("cut"))
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        #expect(kills >= 2, "training finished before it could be killed; make the run longer")
        for name in ["checkpoint.safetensors", "checkpoint.000040.state.safetensors"] {
            let a = FileManager.default.contents(atPath: dir.path + "/full/" + name)
            #expect(a != nil && a == FileManager.default.contents(atPath: dir.path + "/cut/" + name), "\(name)")
        }
    }
}
