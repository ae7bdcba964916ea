import ArgumentParser
import Foundation
import MIMSCommandSupport
import MIMSCore
import MIMSSplit

/// Split reports, leakage checks and re-splitting of shard folders.
struct MimsSplit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mims-split",
        abstract: "Report on, check and redo the train/val/test split of a shard folder.",
        discussion: "Everything is computed from the shards (and the splits.json, rejected.jsonl and manifest.yaml beside them).",
        version: ToolVersion.versionText(command: "mims-split"),
        subcommands: [ReportCommand.self, CheckCommand.self, MakeCommand.self])
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Describe a shard folder's splits: counts, classes, patients, moves, leakage, rejects.",
        aliases: ["reports"])

    @Argument(help: "A shard folder written by mims-ingest run.")
    var directory: String

    @Option(help: "text (a table for a terminal), markdown (a dataset card) or json (every number; docs/SPLITS.md).")
    var format: ReportFormat = .text

    func run() throws {
        let report = try SplitReport.build(directory: directory)
        switch format {
        case .text: print(report.text())
        case .markdown: print(report.markdown())
        case .json: print(try report.json())
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Fail on unintended patient overlap, duplicate images across splits, single-class splits or counts that disagree with splits.json.")

    @Argument(help: "A shard folder written by mims-ingest run.")
    var directory: String

    func run() throws {
        let report = try SplitReport.build(directory: directory)
        let problems = report.problems
        for problem in problems { print("problem: \(problem)") }
        for overlap in report.overlaps where overlap.intended {
            print("note: \(overlap.patients.count) patients straddle \(overlap.splits.joined(separator: "/")) because the policy moved records on purpose")
        }
        print(problems.isEmpty ? "\(directory): ok" : "\(directory): \(problems.count) problem(s)")
        if !problems.isEmpty { throw ExitCode(1) }
    }
}

struct MakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make",
        abstract: "Re-split existing shards under another policy or seed, copying stored frames (nothing is decoded again).",
        discussion: """
        Examples: mims-split make shards --policy ratio --train 0.7 --test 0.3 --seed 2 --out shards-seed2
                  mims-split make shards --folds 5 --fold 0 --seed 1 --out shards-fold0
        Deterministic, stratified by label and grouped by patient, like ingest; shards are published atomically.
        """)

    @Argument(help: "The shard folder to re-split.")
    var directory: String

    @Option(help: "ratio (with --train/--val/--test) or kfold (with --folds/--fold).")
    var policy: String?

    @Option var train: Double?
    @Option var val: Double = 0
    @Option var test: Double?

    @Option(help: "Number of folds for k-fold cross-validation.")
    var folds: Int?

    @Option(help: "Which fold (0-based) is the test split.")
    var fold: Int?

    @Option(help: "Seed of the new split.")
    var seed: UInt64

    @Option(help: "Records per output shard (default: the largest input shard's count).")
    var recordsPerShard: Int?

    @Option(name: .shortAndLong, help: "New, empty output folder.")
    var out: String

    func resolvedPolicy() throws -> SplitPolicy {
        if let folds {
            guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
            guard let fold, (0..<folds).contains(fold) else { throw ValidationError("--fold must be in 0..<\(folds)") }
            return .kFold(folds: folds, index: fold)
        }
        guard policy == nil || policy == "ratio" else { throw ValidationError("--policy is ratio or kfold (give --folds and --fold)") }
        guard let train, let test else { throw ValidationError("ratio needs --train and --test (and optionally --val)") }
        guard abs(train + val + test - 1) < 1e-9, [train, val, test].allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--train + --val + --test must add up to 1")
        }
        return .ratio(train: train, val: val, test: test)
    }

    func validate() throws { _ = try resolvedPolicy() }

    func run() throws {
        let result = try Resplitter.run(from: directory, to: out, policy: resolvedPolicy(), seed: seed,
                                        recordsPerShard: recordsPerShard, toolVersion: ToolVersion.current)
        print("\(out): " + result.perSplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
              + " records in \(result.shards.count) shards")
    }
}

MemoryTuning.apply()
MimsSplit.mainWithReadableErrors()
