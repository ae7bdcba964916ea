import Foundation
import MIMSCore
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// `mims-train` as a person meets it: Ctrl-C and SIGTERM stop with a checkpoint and the command
/// to resume, and mistakes on the command line get messages, not Foundation error dumps.
struct TrainCommandLineTests {
    var binary: String { productURL("mims-train").path }

    /// A started `mims-train` whose stdout and stderr are collected (in one pipe, so neither fills up).
    final class Running: @unchecked Sendable {
        let process = Process()
        private var collected = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ arguments: [String]) throws {
            process.executableURL = productURL("mims-train")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            Thread.detachNewThread { [self] in
                collected = pipe.fileHandleForReading.readDataToEndOfFile()
                done.signal()
            }
        }

        func finish() -> (status: Int32, output: String) {
            process.waitUntilExit()
            done.wait()
            return (process.terminationStatus, String(decoding: collected, as: UTF8.self))
        }
    }

    static func trainLines(_ run: String) -> Int {
        ((try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"train\"") }.count
    }

    /// SIGINT after a few iterations: exit 130, the iteration and checkpoint named, the resume
    /// command printed, no .part file; SIGTERM on the resumed run likewise (143); the printed
    /// command then finishes with the checkpoint of an uninterrupted run, byte for byte.
    @Test func signalsStopWithACheckpointAndTheResumeCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let pipeline = TrainingFixtures.pipelineText
            .replacingOccurrences(of: "iterations: 6", with: "iterations: 60")
            .replacingOccurrences(of: "eval_every: 3", with: "eval_every: 60")
            .replacingOccurrences(of: "checkpoint_every: 3", with: "checkpoint_every: 10")
        try pipeline.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        func arguments(_ run: String) -> [String] {
            ["--shards", shards, "--pipeline", dir.path + "/tiny.yaml", "--out", dir.path + "/" + run, "--seed", "5", "--no-report", "--plain"]
        }
        let full = try Running(arguments("full"))
        #expect(full.finish().status == 0)

        var resumeCommand: [String] = []
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let run = try Running(resumeCommand.isEmpty ? arguments("cut") : Array(resumeCommand.dropFirst()))
            let deadline = Date().addingTimeInterval(60)
            let start = Self.trainLines(dir.path + "/cut")
            while Self.trainLines(dir.path + "/cut") < start + 3 && run.process.isRunning && Date() < deadline { usleep(20_000) }
            try #require(run.process.isRunning, "training ended before it could be stopped")
            kill(run.process.processIdentifier, signal)
            let (exit, output) = run.finish()
            #expect(exit == status, "\(output)")
            let checkpoint = try Checkpoint.read(dir.path + "/cut/checkpoint.safetensors")
            #expect(output.contains("stopped at iteration \(checkpoint.iteration) of 60"), "\(output)")
            #expect(output.contains("last checkpoint: \(dir.path)/cut/checkpoint.safetensors (iteration \(checkpoint.iteration))"), "\(output)")
            let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("resume with: ") }, "\(output)")
            resumeCommand = line.dropFirst("resume with: ".count).split(separator: " ").map(String.init)
            #expect(resumeCommand.first == binary && resumeCommand.last == "--resume" && resumeCommand.filter { $0 == "--resume" }.count == 1)
            let parts = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/cut").filter { $0.hasSuffix(".part") }
            #expect(parts.isEmpty, "\(parts)")
        }
        let last = try Running(Array(resumeCommand.dropFirst()))
        #expect(last.finish().status == 0)
        for name in ["checkpoint.safetensors", "checkpoint.000060.state.safetensors"] {
            let a = FileManager.default.contents(atPath: dir.path + "/full/" + name)
            #expect(a != nil && a == FileManager.default.contents(atPath: dir.path + "/cut/" + name), "\(name)")
        }
    }

    /// Each mistake gets one line naming the path and what was expected; never an NSError dump.
    @Test func mistakesOnTheCommandLineAreExplained() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-train first")
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        try TrainingFixtures.pipelineText.write(toFile: dir.path + "/tiny.yaml", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: dir.path + "/a-file"))
        try Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9]).write(to: URL(fileURLWithPath: dir.path + "/resnet18.pth"))
        try FileManager.default.createDirectory(atPath: dir.path + "/seeds", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: dir.path + "/seeds/old.txt"))
        let pipeline = ["--pipeline", dir.path + "/tiny.yaml"]
        let cases: [(arguments: [String], expected: [String])] = [
            (["--shards", dir.path + "/missing"] + pipeline + ["--out", dir.path + "/r1"], [dir.path + "/missing", "no such folder"]),
            (["--shards", shards + "/train-00000.h5"] + pipeline + ["--out", dir.path + "/r2"], ["train-00000.h5", "wants the folder"]),
            (["--shards", shards, "--pipeline", dir.path + "/nope.yaml", "--out", dir.path + "/r3"], [dir.path + "/nope.yaml", "no such file"]),
            (["--shards", shards] + pipeline + ["--out", dir.path + "/a-file"], [dir.path + "/a-file", "is a file"]),
            (["--shards", shards] + pipeline + ["--out", dir.path + "/r4", "--backbone-weights", dir.path + "/resnet18.pth"],
             ["PyTorch pickle", "scripts/convert_resnet_weights.py", "docs/WEIGHTS.md"]),
            (["--shards", shards] + pipeline + ["--out", dir.path + "/seeds", "--seeds", "1,2"], [dir.path + "/seeds", "--resume", "empty folder"]),
            (["--shards", shards] + pipeline + ["--out", dir.path + "/r5", "--lesions", dir.path + "/lesions.json"], [dir.path + "/lesions.json", "no such file"]),
            (["eval", "--shards", shards, "--checkpoint", dir.path + "/none.safetensors"], [dir.path + "/none.safetensors", "no such file"]),
            (["eval", "--shards", dir.path + "/missing", "--checkpoint", dir.path + "/a-file"], [dir.path + "/a-file"]),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try Running(arguments).finish()
            #expect(status != 0, "\(arguments)")
            for text in expected { #expect(output.contains(text), "\(arguments): \(output)") }
            #expect(!output.contains("Domain") && !output.contains("Code="), "\(arguments): \(output)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/seeds/seed-1"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/r5/metrics.jsonl"), "trained before checking --lesions")
    }
}
