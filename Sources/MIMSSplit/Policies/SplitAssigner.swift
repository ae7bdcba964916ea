import MIMSShards

/// Assigns splits deterministically from the seed and the record ids alone (never from discovery
/// order): stratified by label, grouped by patient, in folds, or the source's official split.
/// The rules are written out in docs/SPLITS.md and re-implemented independently in
/// Tests/Interop/split_assignment.py.
public enum SplitAssigner {
    public static func assign(_ records: [SplitRecord], policy: SplitPolicy, seed: UInt64) -> SplitResult {
        switch policy {
        case let .ratio(train, val, test):
            return SplitResult(assignment: grouped(records, seed: seed, fractions: [("train", train), ("val", val), ("test", test)]))
        case .official:
            return SplitResult(assignment: official(records))
        case .unlabelled:
            return SplitResult(assignment: Dictionary(uniqueKeysWithValues: records.map { ($0.id, "test") }))
        case let .kFold(folds, index):
            let fold = KFoldAssignment.folds(records.map { ($0.id, $0.patient, Int($0.label)) }, folds: folds, seed: seed)
            return SplitResult(assignment: fold.mapValues { $0 == index ? "test" : "train" })
        case let .officialMove(fraction):
            var assignment = official(records)
            let testIDs: [String] = records.filter { assignment[$0.id] == "test" }.map(\.id)
            let test: [String] = seededOrder(testIDs, seed: seed)
            // round(fraction x test size), halves rounding up.
            let count = Int((fraction * Double(test.count)).rounded(.toNearestOrAwayFromZero))
            let moved: [String] = test.prefix(count).sorted()
            for id in moved { assignment[id] = "train" }
            var sides: [String: Set<String>] = [:]
            for record in records { sides[record.patient, default: []].insert(assignment[record.id]!) }
            let straddling = sides.filter { $0.value.count > 1 }.map(\.key).sorted()
            return SplitResult(assignment: assignment, moved: moved, straddlingPatients: straddling)
        }
    }

    /// Keys ordered by SHA-256 of "seed:key": a seeded shuffle that depends on nothing else.
    static func seededOrder(_ keys: [String], seed: UInt64) -> [String] {
        let hashed: [(String, String)] = keys.map { (SHA256.hex(of: Array("\(seed):\($0)".utf8)), $0) }
        return hashed.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.map { $0.1 }
    }

    static func official(_ records: [SplitRecord]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.officialSplit ?? "train") })
    }

    /// Patients sit in the stratum of their smallest label, ordered within it by SHA-256 of
    /// "seed:patient"; the first round(f x n) go to the first split, and so on.
    static func grouped(_ records: [SplitRecord], seed: UInt64, fractions: [(String, Double)]) -> [String: String] {
        var labelOfPatient: [String: Int32] = [:]
        for record in records { labelOfPatient[record.patient] = min(labelOfPatient[record.patient] ?? record.label, record.label) }
        var strata: [Int32: [String]] = [:]
        for (patient, label) in labelOfPatient { strata[label, default: []].append(patient) }
        var sideOfPatient: [String: String] = [:]
        for (_, patients) in strata {
            let ordered = seededOrder(patients, seed: seed)
            var boundaries: [Int] = []
            var cumulative = 0.0
            for (_, fraction) in fractions {
                cumulative += fraction
                boundaries.append(Int((cumulative * Double(ordered.count)).rounded()))
            }
            for (index, patient) in ordered.enumerated() {
                let side = boundaries.firstIndex { index < $0 } ?? fractions.count - 1
                sideOfPatient[patient] = fractions[side].0
            }
        }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.id, sideOfPatient[$0.patient]!) })
    }
}
