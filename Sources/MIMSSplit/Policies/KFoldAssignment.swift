import MIMSShards

/// K folds over records, grouped by patient and stratified by label: each label's patients, in an
/// order fixed by SHA-256 of (seed, patient), are dealt to the folds in turn. A patient with records
/// of several labels counts under the smallest. The one rule `mims-split make --folds` and
/// `mims-train cv` share, so a fold means the same records in both.
public enum KFoldAssignment {
    /// The patient a record is grouped under: its patient id, or itself when it has none.
    public static func patientKey(id: String, patient: String) -> String { patient.isEmpty ? "record:" + id : patient }

    /// Record id -> fold (0 ..< folds). A record without a patient id is a patient of its own.
    public static func folds(_ records: [(id: String, patient: String, label: Int)], folds: Int, seed: UInt64) -> [String: Int] {
        precondition(folds >= 2, "at least two folds")
        func patient(_ r: (id: String, patient: String, label: Int)) -> String { patientKey(id: r.id, patient: r.patient) }
        var labelOfPatient: [String: Int] = [:]
        for record in records { labelOfPatient[patient(record)] = min(labelOfPatient[patient(record)] ?? record.label, record.label) }
        var strata: [Int: [String]] = [:]
        for (patient, label) in labelOfPatient { strata[label, default: []].append(patient) }
        var foldOfPatient: [String: Int] = [:]
        for label in strata.keys.sorted() {
            let ordered = strata[label]!.map { (SHA256.hex(of: Array("\(seed):\($0)".utf8)), $0) }.sorted { $0 < $1 }.map(\.1)
            for (position, patient) in ordered.enumerated() { foldOfPatient[patient] = position % folds }
        }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.id, foldOfPatient[patient($0)]!) })
    }
}
