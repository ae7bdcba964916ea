import Foundation
import MIMSBLAS
import Testing

struct BenchKernelTests {
    /// mims-bench (whose sgemm table is about OpenBLAS) picks the best kernel by itself, and keeps
    /// a kernel the user chose. The other commands no longer re-execute: nothing hot in them runs
    /// on OpenBLAS since the engine moved to oneDNN.
    @Test func benchSelectsItsKernel() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("mims-bench").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build mims-bench first")
        let best = BLASRuntime.bestCoreType(cpuFlags: BLASRuntime.cpuFlags())
        let automatic = try runVersion(binary, environment: [:])
        #expect(automatic.hasPrefix("mims-bench "))
        if let best {
            #expect(automatic.contains("BLAS: OpenBLAS 0.3") && automatic.contains("(\(best))"), "\(automatic)")
        }
        let chosen = try runVersion(binary, environment: ["OPENBLAS_CORETYPE": "Sandybridge"])
        #expect(chosen.contains("(Sandybridge)"), "\(chosen)")
    }

    func runVersion(_ binary: String, environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--version"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "OPENBLAS_CORETYPE")
        env.merge(environment) { $1 }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
