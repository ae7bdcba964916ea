import ArgumentParser
import Foundation
import MIMSBLAS
import MIMSCore
import MIMSCommandSupport

/// Trains and evaluates MIMS-CNN and the paper's baselines from shards.
struct MimsTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-train",
        abstract: "Train and evaluate MIMS-CNN and the paper's baselines straight from HDF5 shards.",
        version: ToolVersion.versionText(command: "mims-train"),
        subcommands: [TrainCommand.self, FinetuneCommand.self, EvalCommand.self, PredictCommand.self, HeatmapCommand.self, BenchCommand.self],
        defaultSubcommand: TrainCommand.self)
}

BLASRuntime.ensureFastKernel()
MemoryTuning.applyForTraining()
// A Foundation file error that slipped past the checks is printed as its path and reason, not as
// an NSError dump (domain, code, user info).
do {
    var command = try MimsTrain.parseAsRoot()
    try command.run()
} catch {
    let bridged = error as NSError
    if [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(bridged.domain) {
        let path = bridged.userInfo[NSFilePathErrorKey] as? String ?? (bridged.userInfo[NSURLErrorKey] as? URL)?.path
        FileHandle.standardError.write(Data("Error: \(path.map { $0 + ": " } ?? "")\(bridged.localizedDescription)\n".utf8))
        Foundation.exit(1)
    }
    MimsTrain.exit(withError: error)
}
