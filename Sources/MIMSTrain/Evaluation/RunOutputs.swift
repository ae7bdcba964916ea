import Foundation
import MIMSCore
import MIMSShards

/// Files an evaluation leaves in a run folder: `scores-<split>.csv` and `eval-<split>.json`.
public enum RunOutputs {
    /// Scores `split` with the trainer's model and writes its files; nil when the split is absent.
    public static func evaluateAndWrite(trainer: Trainer, split: String) throws -> Trainer.Evaluation? {
        guard let dataset = try? ShardDataset(folder: trainer.options.shards, split: split) else { return nil }
        let scored = try Evaluator(network: trainer.network, store: trainer.store).score(dataset, sampler: trainer.pipeline.sampler)
        return try write(Trainer.Evaluation(split: split, iteration: trainer.iterations, scored: scored), run: trainer.options.run)
    }

    /// Writes `scores-<split>.csv` and `eval-<split>.json` of an evaluation into `run`.
    @discardableResult
    public static func write(_ result: Trainer.Evaluation, run: String) throws -> Trainer.Evaluation {
        try writeScores(result.scored, to: run + "/scores-\(result.split).csv")
        try writeSummary(result, to: run + "/eval-\(result.split).json")
        return result
    }

    public static func writeScores(_ scored: [Evaluator.Scored], to path: String) throws {
        var text = "id,patient,label,score\n"
        for s in scored { text += "\(csv(s.id)),\(csv(s.patient)),\(s.label),\(String(format: "%.6f", s.score))\n" }
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    public static func writeSummary(_ result: Trainer.Evaluation, to path: String) throws {
        let scores = result.scored.map(\.score), labels = result.scored.map(\.label)
        let confusion = Metrics.confusion(scores: scores, labels: labels)
        let text = JSONText.object([
            "split": JSONText.string(result.split),
            "iteration": String(result.iteration),
            "records": String(scores.count),
            "auroc": result.auroc.map { String(format: "%.6f", $0) } ?? "null",
            "accuracy": String(format: "%.6f", result.accuracy),
            "confusion_at_0.5": "[[\(confusion[0][0]), \(confusion[0][1])], [\(confusion[1][0]), \(confusion[1][1])]]",
        ], multiline: true)
        try AtomicFile.write(Data((text + "\n").utf8), to: path)
    }

    static func csv(_ field: String) -> String {
        field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
