/// The values one top-k or max pooling chose, with its inputs' shapes, so that a source index
/// can be traced back to its slice: how heatmaps rank the slices behind a bag's score.
public struct BagSelection: Sendable {
    public let selection: BagPool.Selection
    /// Shape of each pooled input ([slices, C, H, W]), indexed by `selection`'s `input`.
    public let inputShapes: [[Int]]

    public init(selection: BagPool.Selection, inputShapes: [[Int]]) {
        self.selection = selection
        self.inputShapes = inputShapes
    }
}
