import Foundation
import MIMSCore
import MIMSShards

/// `RUN/run.json`: what a run was started with (the pipeline text and its SHA-256, the shard
/// set's identity, the data's signature, the weights it started from, the command line, tool
/// version and date), written once when the run starts. `--resume` compares the pipeline and the
/// shards given with it and refuses a mismatch. Checkpoints carry the same fields except the
/// command line and date, so equal runs still give byte-identical checkpoints.
public struct RunRecord: Equatable, Sendable {
    public static let fileName = "run.json"

    public var fields: [String: String]

    public init(fields: [String: String]) { self.fields = fields }

    public static func read(folder: String) throws -> RunRecord? {
        let path = folder + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainingError.runFolder(path: path, reason: "not a JSON object (damaged run record)")
        }
        return RunRecord(fields: object.compactMapValues { $0 as? String })
    }

    public func write(folder: String) throws {
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(data + Data("\n".utf8), to: folder + "/" + Self.fileName)
    }

    /// Refuses to continue a run recorded with `fields` (run.json or a checkpoint's metadata)
    /// on other shards or with another pipeline, naming what differs.
    public static func checkResume(recorded fields: [String: String], pipeline: Pipeline, shardSet: String, shards: String, run: String) throws {
        let recordedHash = fields["pipeline_sha256"] ?? fields["pipeline"].map { Pipeline.sha256(of: $0) }
        if let recordedHash, recordedHash != pipeline.sha256 {
            var reason = "pipeline file content differs from the one the run started with"
            if let text = fields["pipeline"], let earlier = try? Pipeline.parse(text, file: run + " (recorded pipeline)") {
                let changes = pipeline.differences(from: earlier)
                reason = changes.isEmpty ? reason + " (only comments or layout)" : "the pipeline changed since the run started: " + changes.joined(separator: ", ")
            }
            throw TrainingError.resumeMismatch(run: run, reason: reason)
        }
        // A run records its precision; continuing it in the other one would change its arithmetic
        // midway (and the pipeline text cannot tell when --precision overrode it).
        if let recorded = fields["precision"], recorded != pipeline.precision.rawValue {
            throw TrainingError.resumeMismatch(run: run, reason: "the run was trained in \(recorded), this continuation would run in \(pipeline.precision.rawValue) (set --precision \(recorded))")
        }
        // --freeze-backbone is not in the pipeline text either.
        let frozen = fields["backbone_trainable"] == "false"
        if frozen == pipeline.trainsBackbone {
            throw TrainingError.resumeMismatch(run: run, reason: frozen ? "the run trained the head on a frozen backbone; this continuation would train the backbone too (add --freeze-backbone)"
                                                : "the run trained the backbone; this continuation would freeze it")
        }
        if let recordedSet = fields["shard_set"], recordedSet != shardSet {
            let started = fields["shards"].map { " (\($0))" } ?? ""
            throw TrainingError.resumeMismatch(run: run, reason: "the shards differ: the run started on \(recordedSet)\(started), \(shards) is \(shardSet)")
        }
    }
}
