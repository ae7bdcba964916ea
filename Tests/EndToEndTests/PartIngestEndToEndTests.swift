import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing

/// `mims-ingest run --part I/N` and `mims-ingest merge` as commands: parts running at once,
/// merged, hold exactly the records of a single run (read back with h5py), and a part killed
/// with SIGKILL resumes to the same merged set. The in-process part and merge tests are in
/// MIMSIngestTests/PartIngestTests.swift.
struct PartIngestEndToEndTests: PartIngestFixtures {
    static let epoch = ["SOURCE_DATE_EPOCH": "1700000000"]

    /// Runs `mims-ingest` to its end with a fixed creation time: exit status and output.
    func ingest(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProduct("mims-ingest", arguments, environment: Self.epoch)
    }

    /// Starts the N parts at once, each with one worker, and waits for all of them.
    func runParts(_ count: Int, manifest: String, into dir: String) throws -> [String] {
        let outs = (0..<count).map { dir + "/part-\($0)" }
        let processes = try (0..<count).map {
            try startProduct("mims-ingest", ["run", manifest, "--out", outs[$0], "--part", "\($0)/\(count)", "--jobs", "1", "--max-rejects", "1000"],
                             environment: Self.epoch)
        }
        for (index, process) in processes.enumerated() {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "part \(index)/\(count)")
        }
        return outs
    }

    func shardFiles(_ dir: String) throws -> [String] {
        try ShardSet(directory: dir).shardNames()
    }

    @Test(arguments: [SyntheticDataset.crcMSI, .cirrus])
    func mergedPartsHoldTheRecordsOfASingleRun(_ dataset: SyntheticDataset) throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-ingest").path), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", manifest = source + "/manifest.yaml"
        let (count, perShard) = dataset == .crcMSI ? (150, 9) : (14, 2)
        try synthesize(dataset, count: count, recordsPerShard: perShard, corrupt: dataset == .crcMSI ? 4 : 2, into: source)
        #expect(try ingest(["run", manifest, "--out", dir.path + "/single", "--max-rejects", "1000"]).status == 0)
        let parts = try runParts(3, manifest: manifest, into: dir.path)
        let merged = try ingest(["merge"] + parts.reversed() + ["--out", dir.path + "/merged", "--log-format", "text"])
        #expect(merged.status == 0, "\(merged.output)")

        let single = try records(dir.path + "/single"), joined = try records(dir.path + "/merged")
        let singleRecords = single["records"] as! [String: [String: Any]]
        let joinedRecords = joined["records"] as! [String: [String: Any]]
        let corrupt = dataset == .crcMSI ? 4 : 2
        #expect(singleRecords.count == count - corrupt)
        #expect(Set(joinedRecords.keys) == Set(singleRecords.keys))
        for (id, record) in singleRecords {
            #expect(NSDictionary(dictionary: record) == NSDictionary(dictionary: joinedRecords[id] ?? [:]), "\(id)")
        }
        #expect(Set(singleRecords.values.map { $0["split"] as! String }).count >= 2)
        if dataset == .cirrus { #expect(singleRecords.values.allSatisfy { ($0["frame_count"] as! Int) > 1 }) }
        // splits.json (every id's split, files matched, set digest), rejected.jsonl and warnings.jsonl.
        #expect(NSDictionary(dictionary: single["splits"] as! [String: Any]) == NSDictionary(dictionary: joined["splits"] as! [String: Any]))
        #expect((single["rejected"] as! [Any]).count == corrupt)
        #expect(NSArray(array: single["rejected"] as! [Any]) == NSArray(array: joined["rejected"] as! [Any]))
        #expect(NSArray(array: single["warnings"] as! [Any]) == NSArray(array: joined["warnings"] as! [Any]))
        // In the single run's order, numbered without gaps, as a single run is.
        #expect(try recordOrder(dir.path + "/merged") == recordOrder(dir.path + "/single"))
        for split in ShardSchema.splits {
            let indices = try ShardSet(directory: dir.path + "/merged").shardNames(split: split).compactMap { ShardSet.parseShardName($0)?.index }
            #expect(indices == Array(0..<indices.count), "\(split)")
        }
        let verify = try ingest(["verify", dir.path + "/merged"])
        #expect(verify.status == 0, "\(verify.output)")
        let check = try runProduct("mims-split", ["check", dir.path + "/merged"])
        #expect(check.status == 0, "\(check.output)")
    }

    /// A part killed with SIGKILL once some shards are journaled, then resumed, merges to exactly
    /// the set of uninterrupted parts.
    @Test func killedPartResumesToTheSameMergedSet() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-ingest").path), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", manifest = source + "/manifest.yaml"
        try synthesize(.crcMSI, count: 500, recordsPerShard: 5, corrupt: 3, into: source)
        let clean = try runParts(2, manifest: manifest, into: dir.path + "/clean")
        #expect(try ingest(["merge"] + clean + ["--out", dir.path + "/merged-clean"]).status == 0)

        let cut = dir.path + "/cut"
        let arguments = ["run", manifest, "--out", cut, "--part", "1/2", "--jobs", "1", "--max-rejects", "1000"]
        var kills = 0
        for round in 1...2 {
            let part = try startProduct("mims-ingest", arguments + (round > 1 ? ["--resume"] : []), environment: Self.epoch)
            // Kill once this round has journaled two more shards (the first round: two shards).
            let before = shardLines(cut)
            let deadline = Date().addingTimeInterval(60)
            while part.isRunning && shardLines(cut) < before + 2 && Date() < deadline { usleep(2_000) }
            if part.isRunning {
                kill(part.processIdentifier, SIGKILL)
                kills += 1
            }
            part.waitUntilExit()
            for name in try shardFiles(cut) {
                #expect(ShardVerifier.verify(path: cut + "/" + name, checkPixels: false).isValid, "\(name)")
            }
        }
        #expect(kills == 2, "the part finished before it could be killed; make the dataset larger")
        // Not finished: the merge refuses it and names it.
        let early = try ingest(["merge", clean[0], cut, "--out", dir.path + "/merged-cut"])
        #expect(early.status != 0 && early.output.contains("\(cut) (part 1/2) is unfinished"), "\(early.output)")
        #expect(try ingest(arguments + ["--resume"]).status == 0)
        let merged = try ingest(["merge", cut, clean[0], "--out", dir.path + "/merged-cut"])
        #expect(merged.status == 0, "\(merged.output)")

        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/merged-clean").filter { $0 != ShardSet.journalName }.sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/merged-cut").filter { $0 != ShardSet.journalName }.sorted() == names)
        for name in names {
            #expect(FileManager.default.contents(atPath: dir.path + "/merged-clean/" + name) == FileManager.default.contents(atPath: dir.path + "/merged-cut/" + name), "\(name)")
        }
        let a = try records(dir.path + "/merged-clean"), b = try records(dir.path + "/merged-cut")
        #expect((a["records"] as! [String: Any]).count == 497)
        #expect(NSDictionary(dictionary: a) == NSDictionary(dictionary: b))
        #expect(try ingest(["verify", dir.path + "/merged-cut"]).status == 0)
    }

    /// Parts that do not make one set are refused by the command too: exit status 1, the part named.
    @Test func mergeCommandRefusesAMissingPart() throws {
        try #require(FileManager.default.isExecutableFile(atPath: productURL("mims-ingest").path), "build mims-ingest first")
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", manifest = source + "/manifest.yaml"
        try synthesize(.crcMSI, count: 30, recordsPerShard: 4, into: source)
        let p0 = dir.path + "/p0", p2 = dir.path + "/p2", out = dir.path + "/out"
        for (part, folder) in [("0/3", p0), ("2/3", p2)] {
            let run = try ingest(["run", manifest, "--out", folder, "--part", part, "--jobs", "1"])
            try #require(run.status == 0, "part \(part): \(run.output)")
        }
        let command = try runProduct("mims-ingest", ["merge", p0, p2, "--out", out])
        #expect(command.status != 0 && command.output.contains("part 1/3 is missing"), "\(command.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    func shardLines(_ dir: String) -> Int {
        guard let data = FileManager.default.contents(atPath: dir + "/" + ShardSet.journalName) else { return 0 }
        return String(decoding: data, as: UTF8.self).components(separatedBy: "\"event\":\"shard\"").count - 1
    }
}
