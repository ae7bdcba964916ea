import ArgumentParser
import Foundation
import MIMSBLAS
import MIMSCore
import MIMSCommandSupport
import MIMSImage

/// Release-build benchmarks; prints one table row per measurement with its baseline and ratio.
struct MimsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-bench",
        abstract: "Benchmarks of mims against their baselines (run through `make bench`).",
        version: ToolVersion.versionText(command: "mims-bench"))

    @Flag(help: "Only measure sgemm 2048³ in this process and print GFLOPS (used to compare kernels).")
    var sgemmOnly = false

    @Flag(help: "Skip the ingest rows (they synthesize about 800 MB of data).")
    var skipIngest = false

    @Option(help: "Repetitions of each timed measurement; the best is reported.")
    var repeats = 3

    func run() throws {
        if sgemmOnly {
            print(String(format: "%.2f", SgemmBenchmark.gflops(size: 2048, repeats: repeats)))
            return
        }
        print("machine: \(MachineDescription.current)")
        print(BLASRuntime.summary + ", \(BLASRuntime.threadCount) threads")
        print("")
        var table = BenchTable()
        SgemmBenchmark.run(into: &table, repeats: repeats)
        try DecodeBenchmark.run(into: &table, repeats: repeats)
        try OCTReadBenchmark.run(into: &table, repeats: repeats)
        if !skipIngest { try IngestBenchmark.run(into: &table, repeats: repeats) }
        table.print()
    }
}

/// Rows of `name | result | baseline | ratio`.
struct BenchTable {
    var rows: [(String, String, String, String)] = []

    mutating func add(_ name: String, _ result: String, baseline: String, ratio: Double?) {
        rows.append((name, result, baseline, ratio.map { String(format: "%.2fx", $0) } ?? "-"))
    }

    func print() {
        let header = ("benchmark", "result", "baseline", "ratio")
        let all = [header] + rows
        let widths = [all.map(\.0.count).max()!, all.map(\.1.count).max()!, all.map(\.2.count).max()!, all.map(\.3.count).max()!]
        func line(_ r: (String, String, String, String)) -> String {
            "| " + [r.0, r.1, r.2, r.3].enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        Swift.print(line(header))
        Swift.print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
        rows.forEach { Swift.print(line($0)) }
    }
}

enum MachineDescription {
    static var current: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)) } ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs `python3 args...` and returns its trimmed standard output, or nil when Python or a package
/// it imports is missing (baselines are then reported as unavailable).
func pythonOutput(_ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

BLASRuntime.ensureFastKernel()
MemoryTuning.apply()
MimsBench.main()
