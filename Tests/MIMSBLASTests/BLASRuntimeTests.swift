import Foundation
import Testing
@testable import MIMSBLAS

struct BLASRuntimeTests {
    @Test func bestCoreTypeFromFlags() {
        let skx: Set = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        #expect(BLASRuntime.bestCoreType(cpuFlags: skx) == "SkylakeX")
        #expect(BLASRuntime.bestCoreType(cpuFlags: ["avx", "avx2", "fma", "avx512f"]) == "Haswell")
        #expect(BLASRuntime.bestCoreType(cpuFlags: ["sse2", "avx"]) == "Sandybridge")
        #expect(BLASRuntime.bestCoreType(cpuFlags: ["sse2", "sse3"]) == nil)
    }

    @Test func parsesCpuinfo() throws {
        let path = NSTemporaryDirectory() + "/cpuinfo-\(UUID().uuidString)"
        try "processor\t: 0\nmodel name\t: Test\nflags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nflags\t\t: none\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(BLASRuntime.cpuFlags(cpuinfo: path) == ["fpu", "sse2", "avx", "avx2", "fma"])
        #expect(BLASRuntime.cpuFlags(cpuinfo: "/nonexistent") == [])
    }

    // mims-bench choosing its kernel (a run of the binary): EndToEndTests/BenchKernelTests.

    /// sgemm against a float64 triple loop, with every transpose combination.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesReference(_ transposes: (Bool, Bool)) {
        let (m, n, k) = (37, 29, 41)
        var seed: UInt64 = 5
        func value() -> Float {
            seed = seed &* 6364136223846793005 &+ 1
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
        let a = (0..<m * k).map { _ in value() }, b = (0..<k * n).map { _ in value() }
        var c = (0..<m * n).map { _ in value() }
        let c0 = c
        let (ta, tb) = transposes
        let lda = ta ? m : k, ldb = tb ? k : n
        sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
              beta: 2, c: &c, ldc: n)
        var maxError = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = ta ? a[p * m + i] : a[i * k + p]
                    let bv = tb ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                maxError = max(maxError, abs(0.5 * sum + 2 * Double(c0[i * n + j]) - Double(c[i * n + j])))
            }
        }
        #expect(maxError < 1e-4)
    }

    @Test func sgemmIsBitReproducible() {
        let size = 300
        let a = (0..<size * size).map { Float(($0 * 7919) % 1013) / 1013 - 0.5 }
        func product() -> [Float] {
            var c = [Float](repeating: 0, count: size * size)
            sgemm(transposeA: false, transposeB: false, m: size, n: size, k: size, alpha: 1, a: a, lda: size,
                  b: a, ldb: size, beta: 0, c: &c, ldc: size)
            return c
        }
        let first = product()
        for _ in 0..<3 { #expect(product().map(\.bitPattern) == first.map(\.bitPattern)) }
    }
}
