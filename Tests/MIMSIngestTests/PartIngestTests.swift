import Foundation
import MIMSShards
import MIMSSplit
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// Split ingest in process (`IngestRunner` with a part, `ShardSetMerger`): one part is the single
/// run, a shard of rejects leaves no gap, the plan is contiguous and balanced, and a merge of parts
/// that do not belong together fails naming the part. The parts run as commands at once, and
/// killed, in EndToEndTests/PartIngestEndToEndTests.swift.
struct PartIngestTests: PartIngestFixtures {
    /// N = 1: the part and its merge are the single run, file for file (the journal aside). With
    /// a reject the shards differ only in where they end (a part's reject leaves its planned shard
    /// one short; a single run pulls the next record in): the other files, the records and their
    /// order are the same.
    @Test(arguments: [0, 1])
    func onePartMergesToTheSingleRun(corrupt: Int) throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        try synthesize(.mmd, count: 12, recordsPerShard: 5, corrupt: corrupt, into: source)
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        func run(_ out: String, part: IngestPart?) throws {
            _ = try IngestRunner(manifest: manifest, output: out,
                                 options: .init(jobs: 2, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z", part: part),
                                 reporter: ProgressReporter(format: .quiet)).run()
        }
        try run(dir.path + "/single", part: nil)
        try run(dir.path + "/part", part: try IngestPart(parsing: "0/1"))
        let report = try ShardSetMerger.merge(parts: [dir.path + "/part"], into: dir.path + "/merged")
        #expect(report.linked == report.shards.count && report.copied == 0 && report.rejections.count == corrupt)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/single").filter { $0 != ShardSet.journalName }.sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/merged").filter { $0 != ShardSet.journalName }.sorted() == names)
        for name in names where corrupt == 0 || !name.hasSuffix(".h5") {
            #expect(FileManager.default.contents(atPath: dir.path + "/single/" + name) == FileManager.default.contents(atPath: dir.path + "/merged/" + name), "\(name)")
        }
        #expect(try recordOrder(dir.path + "/merged") == recordOrder(dir.path + "/single"))
        #expect(try ShardSetVerifier.verify(directory: dir.path + "/merged").problems.isEmpty)
    }

    /// Missing, doubled, foreign, unfinished or stale parts are refused with the part named, and
    /// nothing is written (the merge command's refusal: EndToEndTests/PartIngestEndToEndTests.swift);
    /// a finished merge is not redone, a killed one is finished.
    @Test func mergeRefusesPartsThatDoNotMakeOneSet() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        try synthesize(.crcMSI, count: 30, recordsPerShard: 4, into: source)
        let manifestText = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        try ("# another manifest\n" + manifestText).write(toFile: source + "/other.yaml", atomically: true, encoding: .utf8)
        @discardableResult
        func part(_ text: String?, _ out: String, manifest: String = "manifest.yaml", toolVersion: String = "test", resume: Bool = false) throws -> String {
            _ = try IngestRunner(manifest: ManifestParser.load(path: source + "/" + manifest), output: dir.path + "/" + out,
                                 options: .init(jobs: 1, resume: resume, toolVersion: toolVersion, part: try text.map(IngestPart.init(parsing:))),
                                 reporter: ProgressReporter(format: .quiet)).run()
            return dir.path + "/" + out
        }
        let p0 = try part("0/3", "p0"), p1 = try part("1/3", "p1"), p2 = try part("2/3", "p2")
        // --resume only continues the same part.
        #expect(throws: IngestError.resumeMismatch(path: p0, reason: "it holds part 0/3, not part 1/3")) { try part("1/3", "p0", resume: true) }
        #expect(throws: IngestError.resumeMismatch(path: p0, reason: "it holds part 0/3 of a split ingest; resume it with --part 0/3")) {
            try part(nil, "p0", resume: true)
        }
        #expect(throws: IngestError.invalidPart(text: "3/3", reason: "I must be at least 0 and below N (parts are numbered 0 to N-1)")) {
            try IngestPart(parsing: "3/3")
        }
        #expect(throws: IngestError.self) { try IngestPart(parsing: "1-4") }
        let out = dir.path + "/out"
        func refusal(_ parts: [String], into output: String? = nil) -> String {
            do {
                _ = try ShardSetMerger.merge(parts: parts, into: output ?? out)
                return "merged"
            } catch let error as MergeError {
                return error.description
            } catch {
                return "unexpected: \(error)"
            }
        }
        #expect(refusal([p0, p2]) == "part 1/3 is missing; pass each part folder exactly once")
        try FileManager.default.copyItem(atPath: p1, toPath: dir.path + "/p1-copy")
        #expect(refusal([p0, p1, dir.path + "/p1-copy", p2]) == "part 1/3 is given 2 times: \(p1), \(dir.path)/p1-copy; pass each part folder exactly once")
        let foreign = try part("2/3", "q2", manifest: "other.yaml")
        #expect(refusal([p0, p1, foreign]).hasPrefix("\(foreign) (part 2/3) was made from another manifest than the other parts"))
        let otherTool = try part("1/3", "r1", toolVersion: "9.9.9")
        #expect(refusal([p0, otherTool, p2]).hasPrefix("\(otherTool) (part 1/3) was made by another mims-ingest version than the other parts (test)"))
        let otherN = try part("1/2", "s1")
        #expect(refusal([p0, otherN, p2]).hasPrefix("\(otherN) (part 1/2) comes from a split into another number of parts than the others (N = 3)"))
        // The source tree changed between two parts' runs: a file more.
        let tile = try FileManager.default.contentsOfDirectory(atPath: source + "/CRC_DX_TRAIN_MSS").sorted()[0]
        try FileManager.default.copyItem(atPath: source + "/CRC_DX_TRAIN_MSS/" + tile, toPath: source + "/CRC_DX_TRAIN_MSS/zz-" + tile)
        let stale = try part("2/3", "t2")
        try FileManager.default.removeItem(atPath: source + "/CRC_DX_TRAIN_MSS/zz-" + tile)
        #expect(refusal([p0, p1, stale]).hasPrefix("\(stale) (part 2/3) saw other source files than the other parts"))
        // A part still running (or killed): its journal has no done line.
        let running = dir.path + "/p1-running"
        let journal = try String(contentsOfFile: p1 + "/" + ShardSet.journalName, encoding: .utf8)
        try journal.split(separator: "\n").filter { !$0.contains("\"event\":\"done\"") }.map { $0 + "\n" }.joined()
            .write(toFile: dir.path + "/p1-copy/" + ShardSet.journalName, atomically: true, encoding: .utf8)
        try FileManager.default.moveItem(atPath: dir.path + "/p1-copy", toPath: running)
        #expect(refusal([p0, running, p2]).hasPrefix("\(running) (part 1/3) is unfinished"))
        #expect(refusal([p0, dir.path + "/nowhere", p2]) == "\(dir.path)/nowhere: not a part of a split ingest: no such folder")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: ShardSetMerger.partialPath(for: out)))

        // A killed merge left its folder: the same merge starts it over; another merge's is refused.
        let first = try ShardSetMerger.merge(parts: [p0, p1, p2], into: dir.path + "/first")
        #expect(!first.alreadyMerged && first.written == 30)
        let partial = ShardSetMerger.partialPath(for: out)
        try FileManager.default.copyItem(atPath: dir.path + "/first", toPath: partial)
        try FileManager.default.removeItem(atPath: partial + "/splits.json")
        let resumed = try ShardSetMerger.merge(parts: [p2, p1, p0], into: out)
        #expect(!resumed.alreadyMerged && resumed.written == 30 && !FileManager.default.fileExists(atPath: partial))
        #expect(try ShardSetVerifier.verify(directory: out).problems.isEmpty)
        #expect(try ShardSetMerger.merge(parts: [p0, p1, p2], into: out).alreadyMerged)
        try FileManager.default.createDirectory(atPath: ShardSetMerger.partialPath(for: dir.path + "/third"), withIntermediateDirectories: true)
        try Data("{\"event\":\"start\",\"merge_key\":\"other\"}\n".utf8).write(to: URL(fileURLWithPath: ShardSetMerger.partialPath(for: dir.path + "/third") + "/ingest.journal"))
        #expect(refusal([p0, p1, p2], into: dir.path + "/third") == "\(ShardSetMerger.partialPath(for: dir.path + "/third")): a killed merge of other parts left this folder; remove it, or finish that merge first")
        // A non-empty output that is not this merge is refused and left alone.
        #expect(refusal([p0, p1, p2], into: p0) == "\(p0): output folder is not empty (and not a finished merge of these parts); choose an empty or new folder")
        #expect(try ShardSetVerifier.verify(directory: p0).problems.isEmpty)
    }

    /// A part whose every record of one planned shard is rejected leaves a gap in the numbering;
    /// the merge moves the later shards down into it (copies, the part untouched), and the set
    /// still equals the single run's, in the same order.
    @Test func aShardOfRejectsLeavesNoGap() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        try synthesize(.crcMSI, count: 40, recordsPerShard: 4, into: source)
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        let discovery = try Discovery.discover(manifest)
        let split = SplitAssigner.assign(discovery.records.map(\.splitRecord), policy: manifest.split, seed: manifest.seed)
        let plan = PartPlan(records: discovery.records, assignment: split.assignment, discoveryRejections: discovery.rejections,
                            filesMatched: discovery.matched, recordsPerShard: 4, parts: 2)
        // Damage part 0's first four train tiles in place (same size, so the plan stays the same).
        let victims = plan.records(of: 0).filter { split.assignment[$0.id] == "train" }.prefix(4)
        #expect(victims.count == 4 && plan.records(of: 1).contains { split.assignment[$0.id] == "train" })
        for victim in victims {
            let handle = try #require(FileHandle(forWritingAtPath: victim.path))
            try handle.write(contentsOf: Data(repeating: 0, count: 16))
            try handle.close()
        }
        func run(_ out: String, part: IngestPart?) throws {
            _ = try IngestRunner(manifest: manifest, output: dir.path + "/" + out,
                                 options: .init(jobs: 2, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z", part: part),
                                 reporter: ProgressReporter(format: .quiet)).run()
        }
        try run("single", part: nil)
        try run("p0", part: try IngestPart(parsing: "0/2"))
        try run("p1", part: try IngestPart(parsing: "1/2"))
        let report = try ShardSetMerger.merge(parts: [dir.path + "/p0", dir.path + "/p1"], into: dir.path + "/merged")
        let train = try ShardSet(directory: dir.path + "/merged").shardNames(split: "train")
        let p0Train = try ShardSet(directory: dir.path + "/p0").shardNames(split: "train")
        #expect(!p0Train.contains("train-00000.h5"))
        #expect(report.renumbered.count == train.count && report.copied == train.count)
        #expect(report.rejections.count == 4 && report.written == 36)
        #expect(try recordOrder(dir.path + "/merged") == recordOrder(dir.path + "/single"))
        #expect(train == (0..<train.count).map { ShardSet.shardName(split: "train", index: $0) })
        #expect(try ShardSetVerifier.verify(directory: dir.path + "/merged").problems.isEmpty)
        #expect(try ShardSetVerifier.verify(directory: dir.path + "/p1").problems.isEmpty)  // the part is untouched
        #expect(NSDictionary(dictionary: try records(dir.path + "/single")) == NSDictionary(dictionary: try records(dir.path + "/merged")))
    }

    /// The plan: contiguous runs in single-run order, within one record of total/N bytes, shard
    /// indices that cannot collide, and a dataset fingerprint that does not depend on N.
    @Test func partsAreContiguousBalancedAndCollisionFree() throws {
        var random = SplitMix64(seed: 3)
        let records = (0..<500).map { index in
            var info = stat()
            info.st_size = off_t(1_000 + random.next() % 50_000)
            return SourceRecord(id: String(format: "r%04d", index), path: "/data/r\(index).png", relativePath: "r\(index).png",
                                label: Int32(index % 2), patient: "p\(index / 3)", identity: FileIdentity(info))
        }
        let assignment = Dictionary(uniqueKeysWithValues: records.map { ($0.id, ["train", "val", "test"][Int($0.label) + ($0.id.hasSuffix("7") ? 1 : 0)]) })
        var fingerprints = Set<String>()
        for parts in [1, 2, 3, 7, 64, 600] {
            let plan = PartPlan(records: records, assignment: assignment, discoveryRejections: [], filesMatched: 500, recordsPerShard: 16, parts: parts)
            fingerprints.insert(plan.datasetSHA256)
            let ranges = (0..<parts).map(plan.range(of:))
            #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == 500)
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            let largest = plan.bytes.max()!, ideal = Double(plan.totalBytes) / Double(parts)
            for part in 0..<parts { #expect(abs(Double(plan.inputBytes(of: part)) - ideal) <= Double(largest), "part \(part)/\(parts)") }
            // Single-run order: train, val, test, ids ascending within each.
            let rank = ["train": 0, "val": 1, "test": 2]
            let keys = plan.order.map { "\(rank[assignment[$0.id]!]!) \($0.id)" }
            #expect(keys == keys.sorted())
            for split in ShardSchema.splits {
                var claimed = Set<Int>()
                for part in 0..<parts {
                    let members = plan.records(of: part).filter { assignment[$0.id] == split }
                    let first = plan.firstShardIndex(part: part, split: split)
                    let range = first..<first + (members.count + 15) / 16
                    for index in range { #expect(claimed.insert(index).inserted, "\(split) shard \(index)") }
                    // Each planned shard gets up to 16 consecutive records, and only the last is short.
                    let planned = plan.shardIndices(of: part)
                    let indices = members.map { planned[$0.id]! }
                    #expect(indices == indices.sorted() && indices.allSatisfy(range.contains))
                    let sizes = Dictionary(grouping: indices, by: { $0 }).mapValues(\.count)
                    #expect(range.dropLast().allSatisfy { sizes[$0] == 16 } && (range.last.map { sizes[$0]! <= 16 } ?? true))
                }
            }
        }
        #expect(fingerprints.count == 1)
    }
}
