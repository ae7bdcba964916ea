import ArgumentParser
import Foundation
import MIMSIngest
import MIMSShards

/// Re-reads shards: schema, counts against splits.json, frame table and pixel checksums.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify shards: schema, record digests, counts against splits.json, rejected.jsonl and the journal, pixel checksums.",
        discussion: "Changes nothing. Exits with status 1 when any problem is found; each problem is printed.")

    @Argument(help: "An ingest output folder, or shard files.")
    var paths: [String]

    @Flag(help: "Skip re-hashing the pixels (checks structure only).")
    var noPixels = false

    @Flag(help: "Print a JSON report.")
    var json = false

    func run() throws {
        var problems: [String] = []
        var shards: [[String: Any]] = []
        var perSplit: [String: Int] = [:]
        var notes: [String] = []
        var accounting: [String: Int]? = nil
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or folder")
            }
            if isDirectory.boolValue {
                let result = try ShardSetVerifier.verify(directory: path, checkPixels: !noPixels)
                if result.shards.isEmpty { problems.append("\(path): no shards (<split>-<index>.h5) found") }
                problems += result.problems.map { "\(path)/\($0)" }
                notes += result.notes.map { "\(path)/\($0)" }
                if let count = result.accounting { accounting = ["files_matched": count.matched, "records": count.records, "rejected": count.rejected] }
                for check in result.perShard { shards.append(describe(check)) }
                for (split, count) in result.perSplit { perSplit[split, default: 0] += count }
            } else {
                let check = ShardVerifier.verify(path: path, checkPixels: !noPixels)
                problems += check.problems.map { "\(path): \($0)" }
                notes += check.notes.map { "\(path): \($0)" }
                shards.append(describe(check))
            }
        }
        if json {
            var report: [String: Any] = ["shards": shards, "records_per_split": perSplit, "problems": problems, "notes": notes, "valid": problems.isEmpty]
            if let accounting { report["accounting"] = accounting }
            print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            for shard in shards {
                print("\(shard["path"]!): \(shard["records"]!) records, \(shard["frames"]!) frames, \(shard["valid"] as! Bool ? "ok" : "INVALID")")
            }
            if !perSplit.isEmpty { print("records per split: " + perSplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
            if let accounting {
                print("files matched: \(accounting["files_matched"]!) = \(accounting["records"]!) in shards + \(accounting["rejected"]!) rejected")
            }
            notes.forEach { print("note: \($0)") }
            problems.forEach { print("problem: \($0)") }
            print(problems.isEmpty ? "all verified" : "\(problems.count) problem(s)")
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }

    func describe(_ check: ShardVerification) -> [String: Any] {
        ["path": check.path, "records": check.recordCount, "frames": check.frameCount, "valid": check.isValid, "problems": check.problems]
    }
}
