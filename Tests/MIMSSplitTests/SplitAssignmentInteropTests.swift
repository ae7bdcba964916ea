import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSSplit

/// SplitAssigner against an independent implementation of the same rules
/// (Tests/Interop/split_assignment.py): the exact assignment, not only its properties, so a change
/// to the seeded order, the stratum of a patient or the rounding shows up as a changed split.
struct SplitAssignmentInteropTests {
    /// A few hundred records over three labels: patients with 1-8 records, some of them carrying
    /// a second label (they count under the smaller), a few records without a patient id, and an
    /// official split on most.
    static func records(seed: UInt64) -> [SplitRecord] {
        var random = TestRandom(state: seed)
        var records: [SplitRecord] = []
        for p in 0..<70 {
            let patient = "P\(String(format: "%03d", p))"
            let label = Int32(random.next() % 3)
            for visit in 0..<Int(1 + random.next() % 8) {
                let other = random.next() % 10 == 0
                let official: String? = (["train", "test", "val", nil] as [String?])[Int(random.next() % 4)]
                records.append(SplitRecord(id: "site \(p % 4)/\(patient)/scan-\(visit)", patient: patient,
                                           label: other ? Int32(random.next() % 3) : label, officialSplit: official))
            }
        }
        for i in 0..<12 {
            records.append(SplitRecord(id: "loose/\(i)", patient: "", label: Int32(i % 3), officialSplit: i % 2 == 0 ? "test" : nil))
        }
        return records
    }

    /// Five patients of one label: 2.5 of them is a half, which rounds up.
    static let fivePatients: [SplitRecord] = (0..<15).map { SplitRecord(id: "f\($0)", patient: "Q\($0 % 5)", label: 1) }

    static let policies: [SplitPolicy] = [
        .ratio(train: 0.6, val: 0.2, test: 0.2), .ratio(train: 0.7, val: 0, test: 0.3), .ratio(train: 0.5, val: 0, test: 0.5),
        .ratio(train: 0.15, val: 0.35, test: 0.5),
        .kFold(folds: 5, index: 0), .kFold(folds: 5, index: 3), .kFold(folds: 2, index: 1), .kFold(folds: 7, index: 6),
        .official, .officialMove(fraction: 0.1), .officialMove(fraction: 0.02), .unlabelled,
    ]

    func policyJSON(_ policy: SplitPolicy) -> [String: Any] {
        switch policy {
        case let .ratio(train, val, test): ["kind": "ratio", "train": train, "val": val, "test": test]
        case let .kFold(folds, index): ["kind": "kfold", "folds": folds, "index": index]
        case .official: ["kind": "official"]
        case let .officialMove(fraction): ["kind": "official-move", "fraction": fraction]
        case .unlabelled: ["kind": "unlabelled"]
        }
    }

    /// The Python implementation's result for the records, policy and seed.
    func independent(_ records: [SplitRecord], _ policy: SplitPolicy, seed: UInt64, in dir: TemporaryDirectory) throws -> SplitResult {
        let request: [String: Any] = [
            // A string: JSON numbers above 2^53 are not safe in every reader.
            "seed": String(seed), "policy": policyJSON(policy),
            "records": records.map { r -> [String: Any] in
                var object: [String: Any] = ["id": r.id, "patient": r.patient, "label": Int(r.label)]
                if let official = r.officialSplit { object["official_split"] = official }
                return object
            },
        ]
        let path = dir.path + "/request.json"
        try JSONSerialization.data(withJSONObject: request).write(to: URL(fileURLWithPath: path))
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/split_assignment.py", path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        return SplitResult(assignment: try #require(object["assignment"] as? [String: String]),
                           moved: try #require(object["moved"] as? [String]),
                           straddlingPatients: try #require(object["straddling_patients"] as? [String]))
    }

    /// Equality, reported as the records that differ rather than two dumps of a few hundred.
    func expectEqual(_ mine: SplitResult, _ theirs: SplitResult, _ records: [SplitRecord], _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let differing = records.map(\.id).filter { mine.assignment[$0] != theirs.assignment[$0] }
        let examples = differing.prefix(3).map { "\($0): \(mine.assignment[$0] ?? "none") here, \(theirs.assignment[$0] ?? "none") in Python" }
        #expect(differing.isEmpty, "\(what): \(differing.count) of \(records.count) records differ, e.g. \(examples.joined(separator: "; "))",
                sourceLocation: sourceLocation)
        #expect(mine.assignment.count == records.count && theirs.assignment.count == records.count, "\(what)", sourceLocation: sourceLocation)
        #expect(mine.moved == theirs.moved, "\(what): moved ids", sourceLocation: sourceLocation)
        #expect(mine.straddlingPatients == theirs.straddlingPatients, "\(what): straddling patients", sourceLocation: sourceLocation)
    }

    @Test(arguments: [UInt64(0), 7, UInt64.max])
    func assignmentEqualsTheIndependentOne(seed: UInt64) throws {
        let dir = try TemporaryDirectory()
        let records = Self.records(seed: seed &+ 1)
        #expect(records.count > 250)
        for policy in Self.policies {
            let mine = SplitAssigner.assign(records, policy: policy, seed: seed)
            let theirs = try independent(records, policy, seed: seed, in: dir)
            expectEqual(mine, theirs, records, "\(policy.summary), seed \(seed)")
        }
        for policy in [SplitPolicy.ratio(train: 0.5, val: 0, test: 0.5), .ratio(train: 0.3, val: 0.3, test: 0.4)] {
            let mine = SplitAssigner.assign(Self.fivePatients, policy: policy, seed: seed)
            expectEqual(mine, try independent(Self.fivePatients, policy, seed: seed, in: dir), Self.fivePatients, "\(policy.summary), seed \(seed)")
        }
        // The half: three of the five patients (nine records) in train.
        let half = SplitAssigner.assign(Self.fivePatients, policy: .ratio(train: 0.5, val: 0, test: 0.5), seed: seed)
        #expect(half.assignment.values.filter { $0 == "train" }.count == 9)
    }
}
