import Foundation
import MIMSShards
import Testing
@testable import MIMSSplit

struct SplitAssignerTests {
    static func records(_ count: Int, patients: Int) -> [SplitRecord] {
        (0..<count).map { i in SplitRecord(id: "r\(i)", patient: "p\(i % patients)", label: Int32(i % 2)) }
    }

    @Test func deterministicOrderFreeGroupedAndStratified() {
        let records = Self.records(300, patients: 60)
        let policy = SplitPolicy.ratio(train: 0.6, val: 0.2, test: 0.2)
        let a = SplitAssigner.assign(records, policy: policy, seed: 5)
        #expect(a == SplitAssigner.assign(records.reversed(), policy: policy, seed: 5))
        #expect(a == SplitAssigner.assign(records.shuffled(), policy: policy, seed: 5))
        #expect(a != SplitAssigner.assign(records, policy: policy, seed: 6))
        var sides: [String: Set<String>] = [:]
        for r in records { sides[r.patient, default: []].insert(a.assignment[r.id]!) }
        #expect(sides.values.allSatisfy { $0.count == 1 })
        // 30 patients per label: 18/6/6 patients of 5 records each.
        for split in ["train", "val", "test"] {
            for label: Int32 in [0, 1] {
                let n = records.filter { $0.label == label && a.assignment[$0.id] == split }.count
                #expect(n == (split == "train" ? 90 : 30), "\(split) label \(label): \(n)")
            }
        }
    }

    /// round(0.02 x test size), half rounding up, drawn from the whole test split with the seed; the
    /// patients left on both sides are recorded.
    @Test func crcMoveCountsRoundsAndRecordsStraddlers() {
        var records: [SplitRecord] = []
        for i in 0..<125 {  // 125 test images: 2.5 rounds up to 3
            records.append(SplitRecord(id: "t\(i)", patient: "P\(i / 5)", label: Int32(i % 2), officialSplit: "test"))
        }
        for i in 0..<40 {
            records.append(SplitRecord(id: "a\(i)", patient: "Q\(i / 5)", label: Int32(i % 2), officialSplit: "train"))
        }
        let result = SplitAssigner.assign(records, policy: .officialMove(fraction: 0.02), seed: 3)
        #expect(result.moved.count == 3)
        #expect(result.moved.allSatisfy { $0.hasPrefix("t") && result.assignment[$0] == "train" })
        #expect(result.assignment.values.filter { $0 == "test" }.count == 122)
        let movedPatients = Set(result.moved.map { id in records.first { $0.id == id }!.patient })
        #expect(Set(result.straddlingPatients) == movedPatients)
        #expect(result == SplitAssigner.assign(records.reversed(), policy: .officialMove(fraction: 0.02), seed: 3))
        #expect(result.moved != SplitAssigner.assign(records, policy: .officialMove(fraction: 0.02), seed: 4).moved)
    }

    /// The text splits.json records as `policy`, per case: existing splits.json files hold it, so
    /// it is pinned word for word (and number format for number format).
    @Test func policySummariesAreTheOnesSplitsJSONHolds() {
        #expect(SplitPolicy.ratio(train: 0.7, val: 0, test: 0.3).summary
                == "ratio train 0.7 val 0.0 test 0.3, stratified by label, grouped by patient")
        #expect(SplitPolicy.official.summary == "official")
        #expect(SplitPolicy.officialMove(fraction: 0.02).summary == "official, then 0.02 of test moved to train")
        #expect(SplitPolicy.unlabelled.summary == "none (labels: none, every record in test)")
        #expect(SplitPolicy.kFold(folds: 5, index: 0).summary == "fold 0 of 5 as test, stratified by label, grouped by patient")
    }

    /// Fold `index` is test, every other fold train; the folds partition the patients.
    @Test func kFoldPolicyTakesOneFoldAsTest() {
        let records = Self.records(120, patients: 24)
        var tested: [String: Int] = [:]
        for index in 0..<4 {
            let result = SplitAssigner.assign(records, policy: .kFold(folds: 4, index: index), seed: 9)
            #expect(Set(result.assignment.values) == ["train", "test"])
            for (id, split) in result.assignment where split == "test" { tested[id, default: 0] += 1 }
            #expect(result == SplitAssigner.assign(records.reversed(), policy: .kFold(folds: 4, index: index), seed: 9))
        }
        #expect(tested.count == records.count && tested.values.allSatisfy { $0 == 1 })
    }
}
