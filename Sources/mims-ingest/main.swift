import ArgumentParser
import MIMSBLAS
import MIMSCommandSupport

struct MimsIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-ingest",
        abstract: "Turn a folder of medical images into verified, split HDF5 shards.",
        version: ToolVersion.versionText(command: "mims-ingest"))
}

BLASRuntime.ensureFastKernel()
MimsIngest.main()
