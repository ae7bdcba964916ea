import Foundation
import MIMSBLAS

/// sgemm 2048³ with the kernel the tools select by themselves (a child started without
/// `OPENBLAS_CORETYPE`, which re-executes itself with its choice and measures in-process) against
/// the best `OPENBLAS_CORETYPE` this CPU runs, each measured in a child process. When the
/// environment sets `OPENBLAS_CORETYPE`, this process keeps it and gets a row of its own.
enum SgemmBenchmark {
    static func gflops(size: Int, repeats: Int) -> Double {
        let a = [Float](repeating: 0, count: size * size).enumerated().map { Float($0.offset % 97) / 97 - 0.5 }
        var c = [Float](repeating: 0, count: size * size)
        let run = {
            sgemm(transposeA: false, transposeB: false, m: size, n: size, k: size, alpha: 1, a: a, lda: size,
                  b: a, ldb: size, beta: 0, c: &c, ldc: size)
        }
        run()  // warm-up: thread pool start, page faults
        let best = (0..<max(1, repeats)).map { _ in seconds(run) }.min()!
        return 2 * pow(Double(size), 3) / best / 1e9
    }

    static func run(into table: inout BenchTable, repeats: Int) {
        var kernels: [(String, Double)] = []
        for core in ["SkylakeX", "Haswell", "Sandybridge", "Prescott"] {
            if let value = child(core: core, repeats: repeats) { kernels.append((core, value)) }
        }
        let best = kernels.max { $0.1 < $1.1 }
        let baseline = best.map { String(format: "best core %.1f GFLOPS (%@)", $0.1, $0.0) } ?? "-"
        if let automatic = child(core: nil, repeats: repeats) {
            let chosen = BLASRuntime.bestCoreType(cpuFlags: BLASRuntime.cpuFlags()) ?? "OpenBLAS's own"
            table.add("sgemm 2048³ in-process, automatic kernel (\(chosen))", String(format: "%.1f GFLOPS", automatic),
                      baseline: baseline, ratio: best.map { automatic / $0.1 })
        }
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil {
            let inProcess = gflops(size: 2048, repeats: repeats)
            table.add("sgemm 2048³ in-process, environment's kernel (\(BLASRuntime.coreName))",
                      String(format: "%.1f GFLOPS", inProcess), baseline: baseline, ratio: best.map { inProcess / $0.1 })
        }
        for (core, value) in kernels {
            table.add("  sgemm 2048³ OPENBLAS_CORETYPE=\(core)", String(format: "%.1f GFLOPS", value), baseline: "", ratio: nil)
        }
    }

    /// Runs `mims-bench --sgemm-only` with `OPENBLAS_CORETYPE` set to `core`, or unset for nil.
    static func child(core: String?, repeats: Int) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["--sgemm-only", "--repeats", String(repeats)]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = core
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
