import CDNNL
import MIMSCore

/// The engine's elementwise passes (residual adds, gradient sums, ReLU), in any ``Tensor/Layout``
/// and either element type, split across the cores. bf16 values are summed in float32 and
/// rounded to nearest even (`mims_bf16_*`), as oneDNN's bf16 kernels round.
enum Elementwise {
    /// A bf16 kernel over [begin, end): the inputs, the output.
    typealias BF16Kernel = @Sendable (UnsafePointer<UInt16>, UnsafePointer<UInt16>, UnsafeMutablePointer<UInt16>, Int, Int) -> Void

    /// A new bf16 tensor shaped like `a`, written by `kernel` from `a` and `b` (`b` may be `a`
    /// for a one-input pass) in one part per core.
    static func bf16(_ a: Tensor, _ b: Tensor, _ kernel: BF16Kernel) -> Tensor {
        precondition(a.element == .bf16 && b.element == .bf16 && a.count == b.count && a.layout == b.layout,
                     "bf16 pass over \(a.shape) and \(b.shape)")
        var out = Tensor.uninitialized(a.shape, layout: a.layout, element: .bf16)
        a.halves.withUnsafeBufferPointer { xs in
            b.halves.withUnsafeBufferPointer { ys in
                out.withUnsafeMutableData { target in
                    let (x, y, z) = (SendablePointer(xs.baseAddress!), SendablePointer(ys.baseAddress!),
                                     SendablePointer(target.assumingMemoryBound(to: UInt16.self)))
                    ElementwiseParallel.run(xs.count) { range in kernel(x.pointer, y.pointer, z.pointer, range.lowerBound, range.upperBound) }
                }
            }
        }
        return out
    }

    /// a + b, or max(0, a + b) with `relu`; both in one layout and element type.
    static func add(_ x: Tensor, _ y: Tensor, relu: Bool) -> Tensor {
        precondition(x.shape == y.shape && x.layout == y.layout && x.element == y.element,
                     "add: shapes \(x.shape) and \(y.shape), layouts \(x.layout) and \(y.layout), elements \(x.element) and \(y.element)")
        if x.element == .bf16 { return bf16(x, y) { a, b, c, begin, end in mims_bf16_add(a, b, c, begin, end, relu ? 1 : 0) } }
        var sum = Tensor.uninitialized(x.shape, layout: x.layout)
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeBufferPointer { ys in
                sum.values.withUnsafeMutableBufferPointer { out in
                    let (a, b, c) = (SendablePointer(xs.baseAddress!), SendablePointer(ys.baseAddress!), SendablePointer(out.baseAddress!))
                    ElementwiseParallel.run(out.count) { range in
                        if relu {
                            for i in range { c.pointer[i] = max(0, a.pointer[i] + b.pointer[i]) }
                        } else {
                            for i in range { c.pointer[i] = a.pointer[i] + b.pointer[i] }
                        }
                    }
                }
            }
        }
        return sum
    }

    /// total += g (a value used by several ops sums their gradients).
    static func accumulate(_ total: inout Tensor, _ g: Tensor) {
        precondition(total.shape == g.shape && total.layout == g.layout && total.element == g.element,
                     "gradients of one value in two layouts or element types")
        if g.element == .bf16 {
            total = add(total, g, relu: false)
            return
        }
        total.values.withUnsafeMutableBufferPointer { sum in
            g.values.withUnsafeBufferPointer { gs in
                let (t, a) = (SendablePointer(sum.baseAddress!), SendablePointer(gs.baseAddress!))
                ElementwiseParallel.run(sum.count) { range in
                    for i in range { t.pointer[i] += a.pointer[i] }
                }
            }
        }
    }
}
