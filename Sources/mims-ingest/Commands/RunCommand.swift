import ArgumentParser
import Foundation
import MIMSCommandSupport
import MIMSIngest
import MIMSShards

/// Ingests the dataset a manifest describes into verified, split shards.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Ingest a dataset described by a manifest into verified, split HDF5 shards.",
        discussion: """
        Writes OUT/<split>-<index>.h5 shards with splits.json, ingest.journal, rejected.jsonl and a copy of \
        the manifest. A non-empty OUT is refused unless --resume is given; --resume finishes an interrupted \
        run (even one killed with SIGKILL) with no record lost or written twice. Files that cannot be read are \
        rejected into rejected.jsonl and the run goes on; the exit status is 1 when there are more rejects \
        than --max-rejects, 2 when verification finds a problem.

        With --part I/N (0 <= I < N) the run is one of N parts of one ingest, for a cluster's job array: \
        every part discovers and splits the whole dataset exactly as a single run does, then decodes and \
        writes only its own share (about 1/N of the input bytes, the same for any machine) into OUT, with a \
        part.json naming what it owns. Give each part its own OUT; when all N are done, \
        `mims-ingest merge OUT_0 ... OUT_N-1 --out DIR` joins them into one shard set (docs/SCALE.md).
        """)

    @Argument(help: "The manifest (YAML); see docs/MANIFESTS.md.")
    var manifest: String

    @Option(name: .shortAndLong, help: "Output folder.")
    var out: String

    @Option(help: "Worker threads for decoding and compression (default: all cores).")
    var jobs: Int?

    @Flag(help: "Finish an interrupted run in OUT instead of refusing a non-empty folder.")
    var resume = false

    @Option(help: "Rejected files tolerated before the exit status turns non-zero.")
    var maxRejects = 0

    @Option(help: "Progress output: auto (a bar on a terminal, JSON lines on a pipe), text or json.")
    var logFormat: ProgressReporter.Format = .auto

    @Option(help: ArgumentHelp("Ingest only part I of N (0 <= I < N) of the records; merge the N part folders with `mims-ingest merge`.",
                               valueName: "I/N"),
            transform: { text in
                do {
                    return try IngestPart(parsing: text)
                } catch let IngestError.invalidPart(_, reason) {
                    // The parser already names the option and the value.
                    throw ValidationError(reason)
                }
            })
    var part: IngestPart?

    func validate() throws {
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard maxRejects >= 0 else { throw ValidationError("--max-rejects must be 0 or more") }
    }

    func run() throws {
        let parsed = try ManifestParser.load(path: manifest)
        let reporter = ProgressReporter(format: logFormat)
        let runner = IngestRunner(manifest: parsed, output: out,
                                  options: .init(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, resume: resume, maxRejects: maxRejects,
                                                 toolVersion: ToolVersion.current, part: part),
                                  reporter: reporter)
        let report = try runner.run()
        // Records the manifest's filter: left out are listed with the rejections but are no failure.
        let filtered = report.rejections.filter { $0.stage == .filter }.count
        let rejected = report.rejections.count - filtered
        let splits = report.perSplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var summary: [String: Any] = [
            "files_matched": report.matched, "records": report.discovered, "written": report.written, "rejected": rejected, "filtered": filtered,
            "shards": report.shards.count, "splits": report.perSplit, "problems": report.problems, "seconds": report.seconds,
            "warnings": report.warnings.count, "short_volumes": report.shortVolumes.map { ["id": $0.id, "kept": $0.kept, "wanted": $0.wanted] },
            "split_drift": report.splitDrift,
        ]
        if let part = report.part { summary["part"] = part.label }
        reporter.event("summary", summary, text: (report.part.map { "part \($0.label) (\($0.records) records in all): " } ?? "")
            + String(format: "%d files matched: %d written (%@) in %d shards + %d rejected%@, %.1f s; %@", report.matched, report.written,
                     splits, report.shards.count, rejected, filtered > 0 ? " + \(filtered) filtered out by filter: (rejected.jsonl, stage filter)" : "", report.seconds,
                     report.problems.isEmpty ? "all shards verified" : "\(report.problems.count) verification problems"))
        if let part = report.part, report.problems.isEmpty {
            reporter.event("next", ["merge": "mims-ingest merge PART_DIR... --out DIR"],
                           text: "  part \(part.label) is done; when all \(part.parts) parts are: mims-ingest merge PART_DIR... --out DIR")
        }
        if !report.warnings.isEmpty {
            reporter.event("warnings", ["count": report.warnings.count, "file": ShardSet(directory: out).warningsPath], text: "  \(report.warnings.count) warnings (listed above; kept in \(ShardSet(directory: out).warningsPath))")
        }
        if !report.shortVolumes.isEmpty {
            reporter.event("short_volumes", ["count": report.shortVolumes.count],
                           text: "  \(report.shortVolumes.count) volumes have fewer frames than normalize.slices asks for (kept as they are; set normalize.min_frames to reject them):\n"
                               + report.shortVolumes.prefix(20).map { "    \($0.id): \($0.kept) of \($0.wanted)" }.joined(separator: "\n")
                               + (report.shortVolumes.count > 20 ? "\n    ..." : ""))
        }
        for line in report.splitDrift {
            reporter.event("split_drift", ["text": line], text: "  warning: rejects skewed the split: \(line)")
        }
        for problem in report.problems { reporter.event("problem", ["text": problem], text: "  problem: \(problem)") }
        if !report.problems.isEmpty { throw ExitCode(2) }
        if rejected > maxRejects {
            reporter.event("rejects", ["rejected": rejected, "max_rejects": maxRejects],
                           text: "\(rejected) files rejected (see \(out)/rejected.jsonl), more than --max-rejects \(maxRejects)")
            throw ExitCode(1)
        }
    }
}

extension ProgressReporter.Format: ExpressibleByArgument {}
