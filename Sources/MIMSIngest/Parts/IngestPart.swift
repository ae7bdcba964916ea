/// One of the N parts of a split ingest (`mims-ingest run --part I/N`): the run discovers and
/// splits the whole dataset, then decodes and writes only this part's share (``PartPlan``).
public struct IngestPart: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// I, from 0.
    public let index: Int
    /// N, at least 1.
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw IngestError.invalidPart(text: "\(index)/\(count)", reason: "N must be at least 1") }
        guard (0..<count).contains(index) else {
            throw IngestError.invalidPart(text: "\(index)/\(count)", reason: "I must be at least 0 and below N (parts are numbered 0 to N-1)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "I/N", as a scheduler's array index fills it in (`--part $SLURM_ARRAY_TASK_ID/64`).
    public init(parsing text: String) throws {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let index = Int(pieces[0]), let count = Int(pieces[1]) else {
            throw IngestError.invalidPart(text: text, reason: "expected I/N with whole numbers, e.g. 0/4")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }
}
