import ArgumentParser
import MIMSCore
import MIMSCommandSupport

struct MimsIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-ingest",
        abstract: "Turn a folder of medical images into verified, split HDF5 shards.",
        discussion: """
        Shards are HDF5 files any h5py can read (docs/SHARDS.md). To try it end to end, make a small \
        synthetic dataset with `mims-ingest synth --dataset cirrus --small --count 8 --out demo` and ingest \
        it with `mims-ingest run demo/manifest.yaml --out demo-shards`.
        """,
        version: ToolVersion.versionText(command: "mims-ingest"),
        subcommands: [RunCommand.self, MergeCommand.self, SynthCommand.self, InspectCommand.self, VerifyCommand.self])
}

MemoryTuning.apply()
MimsIngest.mainWithReadableErrors()
