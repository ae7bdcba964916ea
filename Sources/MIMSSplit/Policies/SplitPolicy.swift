/// How records are split, for ingest (the manifest's `split:` section, or `labels: none`) and for
/// `mims-split make` alike. ``summary`` is the text `splits.json` records as `policy`.
public enum SplitPolicy: Equatable, Sendable {
    /// Seeded, stratified by label, grouped by patient: fractions of train, val and test.
    case ratio(train: Double, val: Double, test: Double)
    /// The official split as it is.
    case official
    /// The official split, then round(fraction x test size) test images moved into train (the
    /// CRC-MSI protocol of the paper).
    case officialMove(fraction: Double)
    /// `labels: none`: every record in test.
    case unlabelled
    /// K folds, patient-grouped and stratified (``KFoldAssignment``); fold `index` is the test
    /// split, the others train.
    case kFold(folds: Int, index: Int)

    /// The policy as `splits.json` states it. Existing `splits.json` files and the tests compare
    /// this text, so each case's wording (and Swift's number formatting in it) is fixed.
    public var summary: String {
        switch self {
        case let .ratio(train, val, test): "ratio train \(train) val \(val) test \(test), stratified by label, grouped by patient"
        case .official: "official"
        case let .officialMove(fraction): "official, then \(fraction) of test moved to train"
        case .unlabelled: "none (labels: none, every record in test)"
        case let .kFold(folds, index): "fold \(index) of \(folds) as test, stratified by label, grouped by patient"
        }
    }

    /// Whether the policy reads the records' official split, which only the source tree has (a
    /// re-split of shards cannot apply it).
    public var needsOfficialSplit: Bool {
        switch self {
        case .official, .officialMove: true
        case .ratio, .unlabelled, .kFold: false
        }
    }
}
