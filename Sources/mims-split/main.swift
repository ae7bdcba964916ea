import ArgumentParser
import MIMSBLAS
import MIMSCore
import MIMSCommandSupport

/// Split reports, leakage checks and re-splitting of shard folders.
struct MimsSplit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-split",
        abstract: "Report on, check and redo the train/val/test split of a shard folder.",
        discussion: "The split reports arrive with a later release; today this command only reports its version.",
        version: ToolVersion.versionText(command: "mims-split"))
}

BLASRuntime.ensureFastKernel()
MemoryTuning.apply()
MimsSplit.main()
