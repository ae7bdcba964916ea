import Foundation
import MIMSShards
import MIMSTensor

/// What a run records about itself (checkpoint metadata and run.json): enough to tell whether a
/// resume continues the same run and to redo it.
extension Trainer {
    /// Provenance keys that describe how the run started, kept from the checkpoint on resume.
    static let startKeys = ["backbone_weights", "backbone_weights_sha256", "init_from", "init_from_sha256"]

    /// The identity of the run: pipeline hash, shard set, data signature, effective settings.
    static func identity(pipeline: Pipeline, shardSet: String, signature: DatasetSignature, options: Options) -> [String: String] {
        var fields = signature.metadata
        fields["pipeline_sha256"] = pipeline.sha256
        fields["shard_set"] = shardSet
        fields["iterations"] = String(options.iterations ?? pipeline.iterations)
        fields["tool_version"] = options.toolVersion
        fields["precision"] = pipeline.precision.rawValue
        fields["engine"] = Engine.summary
        if !pipeline.trainsBackbone { fields["backbone_trainable"] = "false" }
        return fields
    }

    /// run.json: the checkpoint's fields plus the pipeline text, shards folder, command and date.
    func runRecord() -> RunRecord {
        var fields = provenance
        fields["pipeline"] = pipeline.text
        fields["shards"] = options.shards
        fields["command"] = options.commandLine.map(Self.shellQuoted).joined(separator: " ")
        fields["started"] = ISO8601DateFormatter().string(from: Date())
        fields["seed"] = String(options.seed)
        return RunRecord(fields: fields)
    }

    /// `text` as one shell word.
    public static func shellQuoted(_ text: String) -> String {
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) else {
            return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        return text
    }
}
