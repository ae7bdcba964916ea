import Foundation
import MIMSCore
import MIMSShards

/// Files an evaluation leaves in a run folder: `scores-<split>.csv` and `eval-<split>.json`.
public enum RunOutputs {
    /// Scores `split` with the trainer's model and writes its files; nil when the split is absent.
    /// `iteration` is the weights' (the last, or the selected best-val one).
    public static func evaluateAndWrite(trainer: Trainer, split: String, iteration: Int? = nil) throws -> Trainer.Evaluation? {
        guard let dataset = trainer.dataset(split: split) else { return nil }
        let scored = try Evaluator(network: trainer.network, store: trainer.store).score(dataset, sampler: trainer.pipeline.sampler)
        return try write(Trainer.Evaluation(split: split, iteration: iteration ?? trainer.iterations, scored: scored),
                         classNames: trainer.signature.classNames, run: trainer.options.run)
    }

    /// Writes `scores-<split>.csv` and `eval-<split>.json` of an evaluation into `run`.
    @discardableResult
    public static func write(_ result: Trainer.Evaluation, classNames: [String], run: String) throws -> Trainer.Evaluation {
        try writeScores(result.scored, classNames: classNames, to: run + "/scores-\(result.split).csv")
        try writeSummary(result, classNames: classNames, to: run + "/eval-\(result.split).json")
        return result
    }

    /// The names of `classes` classes: the shard set's when it names them all, else class0, class1, ...
    public static func names(_ classNames: [String], classes: Int) -> [String] {
        classNames.count == classes ? classNames : (0..<classes).map { "class\($0)" }
    }

    /// `id,patient,label,score`, and with more than two classes one `p_<class>` column per class.
    /// An unlabelled record's label (and a file's patient, for `predict --files`) is empty.
    public static func writeScores(_ scored: [Evaluator.Scored], classNames: [String], to path: String) throws {
        let classes = scored.first?.probabilities.count ?? 2
        let columns = classes > 2 ? names(classNames, classes: classes).map { ",p_" + csv($0) }.joined() : ""
        var text = "id,patient,label,score\(columns)\n"
        for s in scored {
            let label = s.label == Int(ShardSchema.unlabelled) ? "" : String(s.label)
            text += "\(csv(s.id)),\(csv(s.patient)),\(label),\(String(format: "%.6f", s.score))"
            if classes > 2 { text += s.probabilities.map { "," + String(format: "%.6f", $0) }.joined() }
            text += "\n"
        }
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    public static func writeSummary(_ result: Trainer.Evaluation, classNames: [String], to path: String) throws {
        func number(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "null" }
        let matrix = "[" + result.confusion.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        var members = [
            "split": JSONText.string(result.split),
            "iteration": String(result.iteration),
            "records": String(result.scored.count),
            "classes": String(result.classes),
            "auroc": number(result.auroc),
            "accuracy": String(format: "%.6f", result.accuracy),
        ]
        if result.classes == 2 {
            members["confusion_at_0.5"] = matrix
        } else {
            let named = names(classNames, classes: result.classes)
            members["class_names"] = JSONText.array(named)
            members["auroc_per_class"] = JSONText.object(Dictionary(uniqueKeysWithValues: zip(named, result.classAUROC.map(number))))
            members["confusion"] = matrix
        }
        if let patients = result.patients {
            members["patient_auroc"] = number(patients.auroc)
            members["patients"] = String(patients.patients.count)
            members["patient_aggregation"] = JSONText.string(patients.aggregation.description)
            if !patients.mixedLabels.isEmpty { members["patients_with_mixed_labels"] = JSONText.array(patients.mixedLabels) }
        }
        try AtomicFile.write(Data((JSONText.object(members, multiline: true) + "\n").utf8), to: path)
    }

    static func csv(_ field: String) -> String { CSVText.field(field) }
}
