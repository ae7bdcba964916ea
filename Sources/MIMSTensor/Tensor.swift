/// A dense float32 tensor, row-major (NCHW for images). A value type: copies share storage until
/// one of them is written.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        self.values = values
    }

    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose values the caller overwrites entirely before reading (skips the zero fill).
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, values: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    public var count: Int { values.count }
    public var rank: Int { shape.count }

    /// The same values under another shape of equal size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, values: values)
    }
}
