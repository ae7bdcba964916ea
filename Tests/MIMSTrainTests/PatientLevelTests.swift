import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// Patient scores from record probabilities, against numbers worked out by hand.
struct PatientLevelTests {
    static func scored(_ patient: String, _ label: Int, _ p1: Double) -> Evaluator.Scored {
        Evaluator.Scored(record: 0, id: patient + "-\(p1)", patient: patient, label: label, probabilities: [1 - p1, p1])
    }

    /// Patients A (label 1: 0.9, 0.2, 0.4), B (0: 0.6, 0.1), C (1: 0.5), D (0: 0.3, 0.35).
    /// mean: A 0.5, B 0.35, C 0.5, D 0.325 -> both positives above both negatives: AUROC 1.
    /// max: A 0.9, B 0.6, C 0.5, D 0.35 -> pairs (A,B) (A,D) (C,D) won, (C,B) lost: 3/4.
    /// top:0.5 keeps ceil(n/2): A mean(0.9, 0.4) = 0.65, B 0.6, C 0.5, D 0.35 -> 3/4 as well.
    @Test func aggregationsMatchHandComputation() throws {
        let records = [Self.scored("A", 1, 0.9), Self.scored("A", 1, 0.2), Self.scored("A", 1, 0.4), Self.scored("B", 0, 0.6),
                       Self.scored("B", 0, 0.1), Self.scored("C", 1, 0.5), Self.scored("D", 0, 0.3), Self.scored("D", 0, 0.35)]
        let mean = try #require(Trainer.Evaluation(split: "test", iteration: 0, scored: records).patients)
        #expect(mean.patients.map(\.patient) == ["A", "B", "C", "D"] && mean.patients.map(\.records) == [3, 2, 1, 2])
        #expect(abs(mean.patients[0].probabilities[1] - 0.5) < 1e-12 && abs(mean.patients[3].probabilities[1] - 0.325) < 1e-12)
        #expect(mean.auroc == 1)
        let max = try #require(Trainer.Evaluation(split: "test", iteration: 0, scored: records, patientAggregation: .max).patients)
        #expect(max.auroc == 0.75)
        let top = try #require(Trainer.Evaluation(split: "test", iteration: 0, scored: records, patientAggregation: PatientAggregation("top:0.5")!).patients)
        #expect(abs(top.patients[0].probabilities[1] - 0.65) < 1e-12)
        #expect(top.auroc == 0.75)
        #expect(PatientAggregation("top:0") == nil && PatientAggregation("median") == nil)
    }

    /// No patient level when every patient has one record, and patients whose records disagree on
    /// the label are left out and named.
    @Test func onlyWherePatientsHaveSeveralRecords() throws {
        let single = [Self.scored("A", 1, 0.9), Self.scored("B", 0, 0.2)]
        #expect(Trainer.Evaluation(split: "test", iteration: 0, scored: single).patients == nil)
        let mixed = [Self.scored("A", 1, 0.9), Self.scored("A", 0, 0.2), Self.scored("B", 0, 0.2), Self.scored("B", 0, 0.3), Self.scored("C", 1, 0.7)]
        let level = try #require(Trainer.Evaluation(split: "test", iteration: 0, scored: mixed).patients)
        #expect(level.mixedLabels == ["A"] && level.patients.map(\.patient) == ["B", "C"] && level.auroc == 1)
    }
}

extension PatientLevelTests {
    /// Every patient of several records has both labels (one eye diseased): no patient level.
    @Test func noLevelWhenEveryPatientIsMixed() {
        let mixed = [Self.scored("A", 1, 0.9), Self.scored("A", 0, 0.2), Self.scored("B", 0, 0.4), Self.scored("B", 1, 0.3)]
        #expect(Trainer.Evaluation(split: "test", iteration: 0, scored: mixed).patients == nil)
    }
}
