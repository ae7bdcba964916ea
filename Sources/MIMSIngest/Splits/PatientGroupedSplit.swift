import MIMSShards

/// Deterministic train/test assignment, stratified by label and grouped by patient.
///
/// Each patient goes wholly to one side. Patients are placed in the stratum of their smallest label,
/// ordered within it by SHA-256 of "seed:patient", and the first round(fraction x count) go to the
/// first split. Only the seed and the ids matter: the same files found in any order give the same
/// split.
public enum PatientGroupedSplit {
    /// - Returns: split name per record id.
    public static func assign(_ records: [SourceRecord], seed: UInt64, trainFraction: Double,
                              splits: (train: String, test: String) = ("train", "test")) -> [String: String] {
        var labelOfPatient: [String: Int32] = [:]
        for record in records {
            labelOfPatient[record.patient] = min(labelOfPatient[record.patient] ?? record.label, record.label)
        }
        var strata: [Int32: [String]] = [:]
        for (patient, label) in labelOfPatient { strata[label, default: []].append(patient) }
        var sideOfPatient: [String: String] = [:]
        for (_, patients) in strata {
            let ordered = patients.map { (key: SHA256.hex(of: Array("\(seed):\($0)".utf8)), patient: $0) }
                .sorted { $0.key < $1.key || ($0.key == $1.key && $0.patient < $1.patient) }
            let trainCount = Int((trainFraction * Double(ordered.count)).rounded())
            for (index, entry) in ordered.enumerated() {
                sideOfPatient[entry.patient] = index < trainCount ? splits.train : splits.test
            }
        }
        var result: [String: String] = [:]
        for record in records { result[record.id] = sideOfPatient[record.patient] }
        return result
    }
}
