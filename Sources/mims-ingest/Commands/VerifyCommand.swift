import ArgumentParser
import Foundation
import MIMSShards

/// Re-opens shards and checks schema, counts, the frame table and pixel checksums.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify shards: schema, counts, frame table and pixel checksums.",
        discussion: "Exits with status 1 when any shard has a problem; each problem is printed under its shard.")

    @Argument(help: "Shard files, or folders whose *.h5 shards are all verified.")
    var paths: [String]

    @Flag(help: "Skip re-hashing the pixels (checks structure only).")
    var noPixels = false

    func run() throws {
        var shards: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".h5") }.sorted()
                shards += names.map { path + "/" + $0 }
            } else {
                shards.append(path)
            }
        }
        guard !shards.isEmpty else { throw ValidationError("no .h5 shards under \(paths.joined(separator: ", "))") }
        var invalid = 0
        var ids: [String: String] = [:]
        for shard in shards {
            var check = ShardVerifier.verify(path: shard, checkPixels: !noPixels)
            if check.isValid, let reader = try? ShardReader(path: shard) {
                for record in reader.records {
                    if let other = ids.updateValue(shard, forKey: record.id) {
                        check.problems.append("record id '\(record.id)' is also in \(other)")
                    }
                }
            }
            print("\(shard): \(check.recordCount) records, \(check.frameCount) frames, " + (check.isValid ? "ok" : "\(check.problems.count) problem(s)"))
            check.problems.forEach { print("  - \($0)") }
            if !check.isValid { invalid += 1 }
        }
        if invalid > 0 {
            print("\(invalid) of \(shards.count) shards have problems")
            throw ExitCode(1)
        }
    }
}
