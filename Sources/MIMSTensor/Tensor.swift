import CDNNL

/// A dense float32 tensor. A value type: copies share storage until one of them is written.
///
/// Images are N x C x H x W. `layout` says how those values sit in memory: plain row-major NCHW,
/// or oneDNN's blocked nChw16c, which the ResNet trunk keeps its activations in (see
/// docs/ENGINE.md). Only the engine's ops (convolution, batch norm, max pooling, elementwise ops,
/// ``Tape/reorder(_:to:)``) accept blocked tensors; everything else reads plain ones.
public struct Tensor: Equatable, Sendable {
    /// Memory order of an N x C x H x W tensor.
    public enum Layout: Sendable, Equatable {
        /// Row-major: index ((n * C + c) * H + h) * W + w.
        case nchw
        /// Channels in blocks of 16, each block's 16 values adjacent per pixel:
        /// index (((n * C/16 + c/16) * H + h) * W + w) * 16 + c % 16. Needs C % 16 == 0.
        case nChw16c

        var code: Int32 { self == .nChw16c ? Int32(MIMS_LAYOUT_NCHW16C) : Int32(MIMS_LAYOUT_NCHW) }

        /// The layout the engine keeps activations of `channels` channels in: blocked where the
        /// channels fill whole blocks.
        public static func preferred(channels: Int) -> Layout { channels % 16 == 0 ? .nChw16c : .nchw }
    }

    public private(set) var shape: [Int]
    public var values: [Float]
    public private(set) var layout: Layout

    public init(shape: [Int], values: [Float], layout: Layout = .nchw) {
        precondition(values.count == shape.reduce(1, *), "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        precondition(layout == .nchw || (shape.count == 4 && shape[1] % 16 == 0), "nChw16c needs 4 dimensions and channels in multiples of 16, got \(shape)")
        self.shape = shape
        self.values = values
        self.layout = layout
    }

    public static func zeros(_ shape: [Int], layout: Layout = .nchw) -> Tensor {
        Tensor(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)), layout: layout)
    }

    /// A tensor whose values the caller overwrites entirely before reading (skips the zero fill).
    public static func uninitialized(_ shape: [Int], layout: Layout = .nchw) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, values: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }, layout: layout)
    }

    public var count: Int { values.count }
    public var rank: Int { shape.count }

    /// The same values under another shape of equal size (plain tensors only).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(layout == .nchw, "reshape of a blocked tensor: reorder it to nchw first")
        return Tensor(shape: newShape, values: values)
    }

    /// The same tensor in `target` layout (a copy through oneDNN's reorder when they differ).
    public func reordered(to target: Layout) -> Tensor {
        if target == layout { return self }
        var result = Tensor.uninitialized(shape, layout: target)
        let status = values.withUnsafeBufferPointer { source in
            result.values.withUnsafeMutableBufferPointer { out in
                mims_reorder(Int32(shape[0]), Int32(shape[1]), Int32(shape[2]), Int32(shape[3]), layout.code, target.code,
                             source.baseAddress!, out.baseAddress!)
            }
        }
        Engine.check(status, "reorder of a \(shape) tensor")
        return result
    }
}
