import CDNNL

/// A dense tensor of float32 or bf16 values. A value type: copies share storage until one of them
/// is written.
///
/// Images are N x C x H x W. `layout` says how those values sit in memory: plain row-major NCHW,
/// or oneDNN's blocked nChw16c, which the ResNet trunk keeps its activations in (see
/// docs/ENGINE.md). `element` says how each value is stored: float32 in ``values``, or, for the
/// trunk's activations and their gradients in bf16 training, bf16 in ``halves``. Only the engine's
/// ops (convolution, batch norm, max pooling, elementwise ops, ``Tape/reorder(_:to:)``) accept
/// blocked or bf16 tensors; everything else reads plain float32 ones.
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

    /// How each value is stored.
    public enum Element: Sendable, Equatable {
        /// IEEE float32, in ``Tensor/values``.
        case f32
        /// bfloat16 (a float32's upper 16 bits, rounded to nearest even), in ``Tensor/halves``:
        /// half the memory and memory traffic of float32, with 8 significant bits.
        case bf16

        var code: Int32 { self == .bf16 ? Int32(MIMS_TYPE_BF16) : Int32(MIMS_TYPE_F32) }
        var size: Int { self == .bf16 ? 2 : 4 }
    }

    public private(set) var shape: [Int]
    /// The values of a float32 tensor (empty for bf16).
    public var values: [Float]
    /// The raw bf16 values of a bf16 tensor (empty for float32).
    public private(set) var halves: [UInt16]
    public private(set) var layout: Layout
    public private(set) var element: Element

    public init(shape: [Int], values: [Float], layout: Layout = .nchw) {
        precondition(values.count == shape.reduce(1, *), "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        Self.checkLayout(layout, shape)
        self.shape = shape
        self.values = values
        self.halves = []
        self.layout = layout
        self.element = .f32
    }

    /// A bf16 tensor from its raw 16-bit values.
    public init(shape: [Int], halves: [UInt16], layout: Layout = .nchw) {
        precondition(halves.count == shape.reduce(1, *), "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(halves.count)")
        Self.checkLayout(layout, shape)
        self.shape = shape
        self.values = []
        self.halves = halves
        self.layout = layout
        self.element = .bf16
    }

    private static func checkLayout(_ layout: Layout, _ shape: [Int]) {
        precondition(layout == .nchw || (shape.count == 4 && shape[1] % 16 == 0), "nChw16c needs 4 dimensions and channels in multiples of 16, got \(shape)")
    }

    public static func zeros(_ shape: [Int], layout: Layout = .nchw) -> Tensor {
        Tensor(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)), layout: layout)
    }

    /// A tensor whose values the caller overwrites entirely before reading (skips the zero fill).
    public static func uninitialized(_ shape: [Int], layout: Layout = .nchw, element: Element = .f32) -> Tensor {
        let count = shape.reduce(1, *)
        if element == .bf16 {
            return Tensor(shape: shape, halves: [UInt16](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }, layout: layout)
        }
        return Tensor(shape: shape, values: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }, layout: layout)
    }

    public var count: Int { element == .bf16 ? halves.count : values.count }
    public var rank: Int { shape.count }

    /// The same values under another shape of equal size (plain float32 tensors only).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(layout == .nchw && element == .f32, "reshape of a blocked or bf16 tensor: reorder it to nchw first")
        return Tensor(shape: newShape, values: values)
    }

    /// The same tensor in `target` layout, with values stored as `element` (bf16 rounded to
    /// nearest even): a copy through oneDNN's reorder when either differs. Plain tensors are
    /// float32 unless `element` says otherwise.
    public func reordered(to target: Layout, element: Element? = nil) -> Tensor {
        let targetElement = element ?? (target == .nchw ? .f32 : self.element)
        if target == layout && targetElement == self.element { return self }
        precondition(rank == 4, "reorder needs N x C x H x W, got \(shape)")
        var result = Tensor.uninitialized(shape, layout: target, element: targetElement)
        let status = withUnsafeData { source in
            result.withUnsafeMutableData { out in
                mims_reorder(Int32(shape[0]), Int32(shape[1]), Int32(shape[2]), Int32(shape[3]), layout.code, self.element.code,
                             target.code, targetElement.code, source, out)
            }
        }
        Engine.check(status, "reorder of a \(shape) tensor")
        return result
    }

    /// The values as float32, in this tensor's layout (bf16 widened exactly).
    public var floatValues: [Float] {
        element == .f32 ? values : halves.map { Float(bitPattern: UInt32($0) << 16) }
    }

    /// The storage, whichever the element type, for the engine's C calls.
    func withUnsafeData<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        element == .bf16 ? halves.withUnsafeBytes { body($0.baseAddress!) } : values.withUnsafeBytes { body($0.baseAddress!) }
    }

    mutating func withUnsafeMutableData<R>(_ body: (UnsafeMutableRawPointer) -> R) -> R {
        element == .bf16 ? halves.withUnsafeMutableBytes { body($0.baseAddress!) } : values.withUnsafeMutableBytes { body($0.baseAddress!) }
    }
}
