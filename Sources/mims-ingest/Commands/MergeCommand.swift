import ArgumentParser
import Foundation
import MIMSIngest
import MIMSShards

/// Joins the part folders of a split ingest (`run --part I/N`) into one shard set.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the N part folders of `mims-ingest run --part I/N` into one verified shard set.",
        discussion: """
        Checks that the parts come from the same manifest, tool version and source files, that every part \
        0..N-1 is given exactly once and has finished, and that each part's files agree; then hard-links the \
        finished shards into OUT (copying them where links cannot go, e.g. across file systems), and writes one \
        splits.json, rejected.jsonl, warnings.jsonl and journal. No pixel is decoded again; the merged set is \
        checked for structure and record digests (`mims-ingest verify OUT` also re-hashes the pixels). \
        The set is built in a hidden folder beside OUT and renamed to OUT at the end, so OUT is either absent \
        or complete; a killed merge is finished by running the same command again. A non-empty OUT is \
        refused unless it already holds this merge. The part folders are never changed and may be deleted \
        afterwards. See docs/SCALE.md.
        """)

    @Argument(help: ArgumentHelp("The part folders (the --out of each `run --part I/N`), in any order.", valueName: "part-dir"))
    var parts: [String]

    @Option(name: .shortAndLong, help: "Output folder (absent or empty).")
    var out: String

    @Option(help: "Progress output: auto (text on a terminal, JSON lines on a pipe), text or json.")
    var logFormat: ProgressReporter.Format = .auto

    func run() throws {
        let reporter = ProgressReporter(format: logFormat)
        let report = try ShardSetMerger.merge(parts: parts, into: out)
        let splits = report.perSplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        if report.alreadyMerged {
            reporter.event("summary", ["already_merged": true, "files_matched": report.matched, "written": report.written,
                                       "rejected": report.rejections.count, "shards": report.shards.count],
                           text: "\(out) already holds the merge of these \(report.parts) parts (\(report.written) records in \(report.shards.count) shards); nothing to do")
            return
        }
        for line in report.renumbered {
            reporter.event("renumbered", ["shard": line], text: "  renumbered \(line) (a part had every record of a shard before it rejected)")
        }
        reporter.event("summary", [
            "parts": report.parts, "files_matched": report.matched, "written": report.written, "rejected": report.rejections.count,
            "shards": report.shards.count, "splits": report.perSplit, "linked": report.linked, "copied": report.copied,
            "warnings": report.warnings, "short_volumes": report.shortVolumes, "split_drift": report.splitDrift, "seconds": report.seconds,
        ], text: String(format: "merged %d parts into %@: %d files matched: %d written (%@) in %d shards + %d rejected; %d shards linked, %d copied, %.1f s; structure and record digests verified",
                        report.parts, out, report.matched, report.written, splits, report.shards.count, report.rejections.count,
                        report.linked, report.copied, report.seconds))
        if report.warnings > 0 {
            reporter.event("warnings", ["count": report.warnings], text: "  \(report.warnings) warnings, kept in \(ShardSet(directory: out).warningsPath)")
        }
        if report.shortVolumes > 0 {
            reporter.event("short_volumes", ["count": report.shortVolumes],
                           text: "  \(report.shortVolumes) volumes have fewer frames than normalize.slices asks for (`mims-split report \(out)` lists them)")
        }
        for line in report.splitDrift {
            reporter.event("split_drift", ["text": line], text: "  warning: rejects skewed the split: \(line)")
        }
    }
}
