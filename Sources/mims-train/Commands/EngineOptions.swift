import ArgumentParser
import MIMSTensor
import MIMSTrain

/// The engine settings every command that runs the network takes: threads and precision.
struct EngineOptions: ParsableArguments {
    @Option(help: "Convolution arithmetic: fp32, or bf16 (float32 master weights, gradients and statistics; needs AVX512_BF16). Default: the pipeline's precision key, else fp32.")
    var precision: Precision?
    @Option(help: "Threads for the engine (default: every core).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sets the thread count and the pipeline's precision, and checks this CPU can run it.
    func apply(to pipeline: inout Pipeline) throws {
        if let threads { Engine.setThreads(threads) }
        if let precision { pipeline.precision = precision }
        try pipeline.precision.checkSupported()
    }
}

extension Precision: ExpressibleByArgument {}
