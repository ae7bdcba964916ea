import MIMSTensor

/// A head input read from a ``FeatureCache``: the trunk's maps of bags of slices, stacked along
/// dimension 0, in place of the images a ``BagBatch`` holds.
public struct FeatureBatch: Sendable {
    /// One tensor per map the head reads (pyramid level x feature layer), each [slices, C, h, w], plain NCHW.
    public var maps: [Tensor]
    public var bagSizes: [Int]
    public var labels: [Int]
    /// Dataset record index of each bag.
    public var records: [Int]
    /// Which frame of its record each slice is.
    public var slices: [Int]
}
