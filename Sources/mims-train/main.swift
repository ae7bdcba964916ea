import ArgumentParser
import Foundation
import MIMSCore
import MIMSCommandSupport
import MIMSTensor

/// Trains and evaluates MIMS-CNN and the paper's baselines from shards.
struct MimsTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-train",
        abstract: "Train and evaluate MIMS-CNN and the paper's baselines straight from HDF5 shards.",
        version: ToolVersion.versionText(command: "mims-train") + "\n" + Engine.summary,
        subcommands: [TrainCommand.self, FinetuneCommand.self, EvalCommand.self, PredictCommand.self, HeatmapCommand.self, ReportCommand.self, CrossValidationCommand.self, CompareCommand.self, BenchCommand.self],
        defaultSubcommand: TrainCommand.self)
}

MemoryTuning.applyForTraining()
// Every core unless --threads says otherwise, for oneDNN and the Swift passes alike.
Engine.setThreads(Parallel.workers)
MimsTrain.mainWithReadableErrors()
