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

    func validate() throws {
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard maxRejects >= 0 else { throw ValidationError("--max-rejects must be 0 or more") }
    }

    func run() throws {
        let parsed = try ManifestParser.load(path: manifest)
        let reporter = ProgressReporter(format: logFormat)
        let runner = IngestRunner(manifest: parsed, output: out,
                                  options: .init(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, resume: resume, maxRejects: maxRejects, toolVersion: ToolVersion.current),
                                  reporter: reporter)
        let report = try runner.run()
        let splits = report.perSplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        reporter.event("summary", [
            "files_matched": report.matched, "records": report.discovered, "written": report.written, "rejected": report.rejections.count,
            "shards": report.shards.count, "splits": report.perSplit, "problems": report.problems, "seconds": report.seconds,
            "warnings": report.warnings.count, "short_volumes": report.shortVolumes.map { ["id": $0.id, "kept": $0.kept, "wanted": $0.wanted] },
            "split_drift": report.splitDrift,
        ], text: String(format: "%d files matched: %d written (%@) in %d shards + %d rejected, %.1f s; %@", report.matched, report.written,
                        splits, report.shards.count, report.rejections.count, report.seconds,
                        report.problems.isEmpty ? "all shards verified" : "\(report.problems.count) verification problems"))
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
        if report.rejections.count > maxRejects {
            reporter.event("rejects", ["rejected": report.rejections.count, "max_rejects": maxRejects],
                           text: "\(report.rejections.count) files rejected (see \(out)/rejected.jsonl), more than --max-rejects \(maxRejects)")
            throw ExitCode(1)
        }
    }
}

extension ProgressReporter.Format: ExpressibleByArgument {}
