import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// What the process knows about its BLAS library, and the start-up fix for its kernel choice.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls back to its generic
/// `Prescott` kernels (about 25 GFLOPS for a 2048³ sgemm instead of about 190 with the AVX-512
/// kernels). OpenBLAS reads `OPENBLAS_CORETYPE` once, while the library initializes, which is
/// before any Swift code runs; so the only fix from inside the process is to set the variable and
/// re-execute the same binary. ``ensureFastKernel()`` does that, once, at the top of every command.
public enum BLASRuntime {
    /// The environment variable OpenBLAS reads to pick its kernels.
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"

    /// The kernel family OpenBLAS uses in this process, as `openblas_get_corename()` reports it.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The library version from `openblas_get_config()`, e.g. `0.3.21`.
    public static var version: String {
        guard let config = openblas_get_config() else { return "unknown" }
        let text = String(cString: config)
        // "OpenBLAS 0.3.21 NO_AFFINITY USE_OPENMP SkylakeX MAX_THREADS=64"
        let words = text.split(separator: " ")
        if words.count >= 2, words[0] == "OpenBLAS" { return String(words[1]) }
        return text
    }

    /// One line for `--version`: `BLAS: OpenBLAS 0.3.21 (SkylakeX)`.
    public static var summary: String { "BLAS: OpenBLAS \(version) (\(coreName))" }

    /// Number of threads OpenBLAS runs a call on.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The best OpenBLAS kernel family this CPU supports, from the kernel's CPU flags; `nil` when
    /// there is nothing better than what OpenBLAS would detect itself.
    public static func bestCoreType(cpuFlags: Set<String>) -> String? {
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        if avx512.allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        if cpuFlags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// The CPU flags of the first processor in `/proc/cpuinfo`, empty where that file is missing.
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix("flags") || text.hasPrefix("Features") {
                guard let colon = text.firstIndex(of: ":") else { continue }
                return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
                    .map(String.init))
            }
        }
        return []
    }

    /// Re-executes the current binary with `OPENBLAS_CORETYPE` set to the best kernel for this CPU
    /// when OpenBLAS chose a different one. Does nothing when the user set `OPENBLAS_CORETYPE`
    /// (their choice stands) and when OpenBLAS already runs the best kernel. The re-executed process
    /// finds the variable set, so this never loops.
    /// Call it first thing in `main`, before any threads start.
    public static func ensureFastKernel() {
        if getenv(coreTypeVariable) != nil { return }
        guard let best = bestCoreType(cpuFlags: cpuFlags()) else { return }
        if coreName.lowercased() == best.lowercased() { return }
        setenv(coreTypeVariable, best, 1)
        // execv only returns on failure; then we carry on with the slow kernel rather than fail.
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(coreTypeVariable)
    }
}
