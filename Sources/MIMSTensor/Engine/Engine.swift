import CDNNL
import MIMSCore

/// The compute engine under the tensor ops: oneDNN (the CPU library PyTorch itself uses), from
/// Debian's `libdnnl`. Convolutions, batch normalization and max pooling run as oneDNN
/// primitives created once per shape; ``Tensor/Layout`` says how activations sit in memory.
/// docs/ENGINE.md describes the layouts and where reorders happen.
public enum Engine {
    /// oneDNN's version, e.g. `2.6.3`.
    public static var version: String { String(cString: mims_dnnl_version()) }

    /// The instruction set oneDNN dispatches to on this CPU, e.g. `avx512_core_bf16`.
    public static var instructionSet: String { String(cString: mims_dnnl_isa()) }

    /// Whether bf16 convolutions run natively here (AVX512_BF16 or AMX).
    public static var supportsBF16: Bool { mims_dnnl_has_bf16() != 0 }

    /// Threads oneDNN runs its primitives on; every core by default (``setThreads(_:)`` also sets
    /// the tensor ops' own parallel passes).
    public static var threads: Int { Int(mims_dnnl_threads()) }

    /// Sets the thread count of every parallel part of the engine: oneDNN's OpenMP pool and the
    /// elementwise and per-channel passes (`Parallel.workers`). Call it before the first op.
    public static func setThreads(_ count: Int) {
        let count = max(1, count)
        Parallel.workers = count
        mims_dnnl_set_threads(Int32(count))
    }

    /// One line for `--version` and benchmarks: `engine: oneDNN 2.6.3 (avx512_core_bf16), 2 threads`.
    public static var summary: String {
        "engine: oneDNN \(version) (\(instructionSet)), \(threads) thread\(threads == 1 ? "" : "s")"
    }

    /// One core's measured peak: float32 FMAs and, where present, bf16 dot products, in GFLOPS.
    /// bf16 training can only beat float32 where the second is well above the first.
    public static func corePeak() -> (fp32: Double, bf16: Double) {
        (mims_core_peak_gflops(0), mims_core_peak_gflops(1))
    }

    /// Stops with oneDNN's reason: the ops are called with shapes the models build, so a failure
    /// here is a bug or an exhausted machine, not bad user input.
    static func check(_ status: Int32, _ what: @autoclosure () -> String) {
        if status != 0 { fatalError("\(what()): \(String(cString: mims_dnnl_last_error()))") }
    }
}

/// Arithmetic of the convolutions: float32 throughout, or bf16 inputs and weights with float32
/// accumulation, results, master weights, gradients and BatchNorm statistics (mixed precision).
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16

    var code: Int32 { self == .bf16 ? Int32(MIMS_PRECISION_BF16) : Int32(MIMS_PRECISION_F32) }
}

/// What a precision needs of the machine.
public enum PrecisionError: Error, CustomStringConvertible, Equatable {
    case bf16Unsupported(instructionSet: String)

    public var description: String {
        switch self {
        case let .bf16Unsupported(isa):
            "precision bf16 needs a CPU with AVX512_BF16 or AMX; this one offers \(isa). Use precision: fp32."
        }
    }
}

extension Precision {
    /// Throws when this machine cannot run the precision natively.
    public func checkSupported() throws {
        if self == .bf16 && !Engine.supportsBF16 { throw PrecisionError.bf16Unsupported(instructionSet: Engine.instructionSet) }
    }
}
