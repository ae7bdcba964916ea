import ArgumentParser
import MIMSBLAS
import MIMSCore
import MIMSCommandSupport

struct MimsIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-ingest",
        abstract: "Turn a folder of medical images into verified, split HDF5 shards.",
        discussion: """
        Shards are HDF5 files any h5py can read (docs/SHARDS.md). Start with `mims-ingest demo`, which \
        makes a small synthetic fundus dataset and ingests it end to end.
        """,
        version: ToolVersion.versionText(command: "mims-ingest"),
        subcommands: [RunCommand.self, SynthCommand.self, InspectCommand.self, VerifyCommand.self])
}

BLASRuntime.ensureFastKernel()
MemoryTuning.apply()
MimsIngest.main()
