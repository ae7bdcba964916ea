/// Train/test assignment, stratified by label and grouped by patient (see ``SplitAssigner``).
public enum PatientGroupedSplit {
    /// - Returns: split name per record id.
    public static func assign(_ records: [SourceRecord], seed: UInt64, trainFraction: Double) -> [String: String] {
        SplitAssigner.assign(records, policy: .ratio(train: trainFraction, val: 0, test: 1 - trainFraction), seed: seed).assignment
    }
}
