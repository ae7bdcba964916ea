/// How a patient's records become one patient score (docs/TRAINING.md, "Patient-level results").
public enum PatientAggregation: Sendable, Equatable, CustomStringConvertible {
    /// The mean of the records' class probabilities.
    case mean
    /// The largest record probability of each class.
    case max
    /// The mean of each class's largest `fraction` of record probabilities (at least one record).
    case topFraction(Double)

    /// `mean`, `max` or `top:F` with 0 < F <= 1.
    public init?(_ text: String) {
        switch text {
        case "mean": self = .mean
        case "max": self = .max
        default:
            guard text.hasPrefix("top:"), let f = Double(text.dropFirst(4)), f > 0, f <= 1 else { return nil }
            self = .topFraction(f)
        }
    }

    public var description: String {
        switch self {
        case .mean: "mean"
        case .max: "max"
        case .topFraction(let f): "top:\(f)"
        }
    }

    /// One value from a patient's record values of one class.
    func combine(_ values: [Double]) -> Double {
        switch self {
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .max: return values.max()!
        case .topFraction(let f):
            let keep = Swift.max(1, Int((f * Double(values.count)).rounded(.up)))
            let top = values.sorted(by: >).prefix(keep)
            return top.reduce(0, +) / Double(keep)
        }
    }
}

extension Trainer {
    /// The scores of one split and what they measure: AUROC (two classes: of the class-1
    /// probability; more: the macro average of the one-vs-rest AUROCs), accuracy, the confusion
    /// matrix, and the same per patient where patients have several records.
    public struct Evaluation: Sendable {
        public var split: String
        public var iteration: Int
        public var classes: Int
        public var auroc: Double?
        /// One-vs-rest AUROC of each class (nil for a class absent from the split).
        public var classAUROC: [Double?]
        /// Two classes: the class-1 probability at 0.5; more: the predicted class (highest probability).
        public var accuracy: Double
        /// counts[true class][predicted class].
        public var confusion: [[Int]]
        public var scored: [Evaluator.Scored]
        /// Nil unless some patient has several records of one label (else it would repeat the record level).
        public var patients: PatientLevel?

        public init(split: String, iteration: Int, scored: [Evaluator.Scored], patientAggregation: PatientAggregation = .mean) {
            let labels = scored.map(\.label)
            self.split = split
            self.iteration = iteration
            classes = scored.first?.probabilities.count ?? 2
            classAUROC = Metrics.oneVsRestAUROC(probabilities: scored.map(\.probabilities), labels: labels, classes: classes)
            if classes == 2 {
                let scores = scored.map(\.score)
                auroc = Metrics.auroc(scores: scores, labels: labels)
                accuracy = Metrics.accuracy(scores: scores, labels: labels)
                confusion = Metrics.confusion(scores: scores, labels: labels)
            } else {
                auroc = Metrics.macroAverage(classAUROC)
                let predicted = scored.map(\.predicted)
                accuracy = scored.isEmpty ? 0 : Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(scored.count)
                confusion = Metrics.confusion(predicted: predicted, labels: labels, classes: classes)
            }
            self.scored = scored
            patients = PatientLevel(scored, classes: classes, aggregation: patientAggregation)
        }

        /// "AUROC" for two classes, "AUROC (macro)" for more: how the printed lines name `auroc`.
        public var aurocName: String { classes == 2 ? "AUROC" : "AUROC (macro)" }
    }

    /// Records grouped by patient id, each patient scored by ``PatientAggregation`` of its records.
    public struct PatientLevel: Sendable {
        public struct Patient: Sendable {
            public var patient: String
            public var label: Int
            public var records: Int
            public var probabilities: [Double]
        }

        public var aggregation: PatientAggregation
        public var patients: [Patient]
        /// Patients left out because their records carry different labels.
        public var mixedLabels: [String]
        public var auroc: Double?

        /// Nil when records have no patient ids or no patient has two records of one label.
        init?(_ scored: [Evaluator.Scored], classes: Int, aggregation: PatientAggregation) {
            var groups: [String: [Evaluator.Scored]] = [:]
            var order: [String] = []
            for s in scored where !s.patient.isEmpty {
                if groups[s.patient] == nil { order.append(s.patient) }
                groups[s.patient, default: []].append(s)
            }
            // Patients whose records disagree on the label have no patient label; without a
            // consistent patient of several records the level would only repeat the records'.
            guard groups.values.contains(where: { $0.count > 1 && Set($0.map(\.label)).count == 1 }) else { return nil }
            self.aggregation = aggregation
            patients = []
            mixedLabels = []
            for id in order.sorted() {
                let members = groups[id]!
                guard Set(members.map(\.label)).count == 1 else { mixedLabels.append(id); continue }
                let probabilities = (0..<classes).map { c in aggregation.combine(members.map { $0.probabilities[c] }) }
                patients.append(Patient(patient: id, label: members[0].label, records: members.count, probabilities: probabilities))
            }
            let labels = patients.map(\.label)
            auroc = classes == 2
                ? Metrics.auroc(scores: patients.map { $0.probabilities[1] }, labels: labels)
                : Metrics.macroAverage(Metrics.oneVsRestAUROC(probabilities: patients.map(\.probabilities), labels: labels, classes: classes))
        }
    }
}
