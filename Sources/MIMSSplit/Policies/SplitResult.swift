/// The split of every record, with what the CRC move changed.
public struct SplitResult: Equatable, Sendable {
    /// Record id -> split name (train, val, test).
    public var assignment: [String: String]
    /// Ids moved from test to train by the `official-move` policy, sorted.
    public var moved: [String]
    /// Patients with records on both sides after the move, sorted.
    public var straddlingPatients: [String]

    public init(assignment: [String: String], moved: [String] = [], straddlingPatients: [String] = []) {
        self.assignment = assignment
        self.moved = moved
        self.straddlingPatients = straddlingPatients
    }
}
