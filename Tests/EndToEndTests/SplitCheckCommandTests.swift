import Foundation
import MIMSTestSupport
import Testing

/// `mims-split check` as a user runs it.
struct SplitCheckCommandTests {
    /// A planted duplicate image and a planted patient overlap (SplitReportTests checks the
    /// report finds them) make the command fail; the other tests see clean folders pass.
    @Test func checkFailsOnPlantedLeakage() throws {
        let dir = try TemporaryDirectory()
        try TrainingFixtures.writeLeakingShards(dir, to: dir.path + "/out")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mims-split").path
        try #require(FileManager.default.isExecutableFile(atPath: binary))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["check", dir.path + "/out"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
    }
}
