import Foundation
import MIMSTestSupport
import Testing

/// The engine as a user meets it on the command line: the engine line in --version, --threads and
/// --precision on bench, and a clear refusal of a precision that does not exist.
struct EngineCommandLineTests {
    @Test func versionThreadsAndPrecisionOnTheCommandLine() throws {
        let version = try runProduct("mims-train", ["--version"])
        #expect(version.status == 0 && version.output.contains("engine: oneDNN 2.6") && version.output.contains("threads"), "\(version.output)")
        let bench = try runProduct("mims-train", ["bench", "--depth", "18", "--batch", "1", "--size", "32", "--repeats", "1",
                                                  "--threads", "1", "--precision", "fp32"])
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.output.contains(", 1 thread\n"), "\(bench.output)")
        #expect(bench.output.range(of: #"resnet18 train-step 1x32 fp32: [0-9.]+ s"#, options: .regularExpression) != nil, "\(bench.output)")
        #expect(bench.output.range(of: #"resnet18 forward 1x32 fp32: [0-9.]+ s"#, options: .regularExpression) != nil, "\(bench.output)")
        #expect(bench.output.contains("peak memory: ") && !bench.output.contains("bf16:"), "\(bench.output)")
        let wrong = try runProduct("mims-train", ["bench", "--precision", "fp16"])
        #expect(wrong.status != 0 && wrong.output.contains("fp16"), "\(wrong.output)")
    }
}
