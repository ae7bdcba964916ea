import ArgumentParser
import MIMSBLAS
import MIMSCore
import MIMSCommandSupport

/// Trains and evaluates MIMS-CNN and the paper's baselines from shards.
struct MimsTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-train",
        abstract: "Train and evaluate MIMS-CNN and the paper's baselines straight from HDF5 shards.",
        discussion: "The trainer arrives with a later release; today this command reports its version and the BLAS kernel it uses.",
        version: ToolVersion.versionText(command: "mims-train"))
}

BLASRuntime.ensureFastKernel()
MemoryTuning.apply()
MimsTrain.main()
